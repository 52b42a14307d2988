// Story page enhancements. Everything here is optional: without JavaScript each
// "link" control is an ordinary link to the entry's permalink.
(function () {
  "use strict";

  function showCopied(link) {
    var status = link.parentNode.querySelector(".copy-status");
    if (status) {
      status.textContent = "Link copied";
      window.setTimeout(function () { status.textContent = ""; }, 4000);
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.permalink");
    if (!link || !navigator.clipboard || event.metaKey || event.ctrlKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    navigator.clipboard.writeText(link.href).then(
      function () { showCopied(link); },
      function () { window.location.href = link.href; }
    );
  });
})();
