// The live desk. Without JavaScript the compose form posts and redisplays like any
// form; with it: a live preview, Ctrl/Cmd+Enter to publish, posting without leaving
// the page, nothing lost when a post fails, and controls on entries that arrive live.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var form = document.getElementById("compose");
  if (!form) return;
  var status = document.getElementById("compose-status");
  var preview = document.getElementById("preview");
  var messages = document.getElementById("desk-messages");
  var draftKey = form.dataset.draftKey;
  var TEXT_FIELDS = ["headline", "dateline", "body", "photo_alt", "photo_caption", "photo_credit"];
  var EMPTY_PREVIEW = preview.innerHTML;
  var sending = false;
  var timer = null;

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  // What was typed survives a reload or a crashed tab until it is posted.
  function remember() {
    var typed = {};
    TEXT_FIELDS.forEach(function (name) {
      if (form.elements[name]) typed[name] = form.elements[name].value;
    });
    try { window.localStorage.setItem(draftKey, JSON.stringify(typed)); } catch (e) { /* private mode */ }
  }

  function restore() {
    var typed = null;
    try { typed = JSON.parse(window.localStorage.getItem(draftKey) || "null"); } catch (e) { typed = null; }
    if (!typed) return;
    var restored = false;
    TEXT_FIELDS.forEach(function (name) {
      var field = form.elements[name];
      if (field && !field.value && typed[name]) {
        field.value = typed[name];
        restored = true;
      }
    });
    if (restored) say("Restored what you had typed before.");
  }

  function refreshPreview() {
    var data = new FormData(form);
    data.delete("photo");
    fetch(form.dataset.previewUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) preview.innerHTML = html; })
      .catch(function () { /* the preview waits for the next keystroke */ });
  }

  function schedulePreview() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refreshPreview, 250);
  }

  function setBusy(busy) {
    sending = busy;
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (button) {
      button.disabled = busy;
    });
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  // The server's answer to a refused post is the desk again, with the form showing
  // what was typed and what to fix: take its form, but keep the chosen photo file,
  // which no page can put back into a file input.
  function showRefusal(page) {
    var answer = page.getElementById("compose");
    var photo = form.elements.photo;
    if (!answer) return;
    form.innerHTML = answer.innerHTML;
    if (photo && form.elements.photo) form.elements.photo.replaceWith(photo);
    var firstError = form.querySelector(".is-invalid");
    say("Not posted: check the fields marked in red.", true);
    if (firstError) firstError.focus();
  }

  function showPosted(page) {
    var fresh = page.querySelector("#compose input[name=submission_id]");
    form.reset();
    TEXT_FIELDS.forEach(function (name) { if (form.elements[name]) form.elements[name].value = ""; });
    if (fresh) form.elements.submission_id.value = fresh.value;
    // An answer to a reader's question is posted once: the next entry answers nothing.
    if (form.elements.answers) form.elements.answers.value = "";
    var answerMessages = page.getElementById("desk-messages");
    if (answerMessages) messages.innerHTML = answerMessages.innerHTML;
    try { window.localStorage.removeItem(draftKey); } catch (e) { /* private mode */ }
    preview.innerHTML = EMPTY_PREVIEW;
    say("");
    form.elements.headline.focus();
    document.dispatchEvent(new CustomEvent("liveblog:poll"));
  }

  // The story ended while this was being written: retrying cannot help, so say what
  // happened, keep the entry, and show an editor the answer's Reopen button.
  function showEnded(page) {
    var ended = page.getElementById("desk-ended");
    var reopen = page.querySelector("form button[value=reopen]");
    messages.innerHTML = "";
    if (reopen) messages.appendChild(document.importNode(reopen.form, true));
    say("Not posted: " + (ended ? ended.textContent : "this story has ended.") +
        " Your entry is still here.", true);
  }

  function submit(action) {
    if (sending) return;  // a second click or keypress while posting posts nothing
    setBusy(true);
    say("Posting…");
    var data = new FormData(form);
    data.set("action", action);
    // getAttribute: the buttons named "action" shadow form.action.
    fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          if (response.ok) {
            showPosted(page);
          } else if (response.status === 400) {
            showRefusal(page);
          } else if (response.status === 409) {
            showEnded(page);
          } else if (response.status === 403) {
            say("Not posted: you are signed out. Sign in in another tab, then post again: your entry is still here.", true);
          } else {
            say("Not posted: the server answered " + response.status + ". Your entry is still here; try again.", true);
          }
        });
      })
      .catch(function () {
        say("Not posted: the connection failed. Everything you typed is still here; try again.", true);
      })
      .then(function () { setBusy(false); });
  }

  form.addEventListener("input", function () {
    remember();
    schedulePreview();
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit("publish");
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var action = (event.submitter && event.submitter.value) || "publish";
    if (action === "preview") refreshPreview();
    else submit(action);
  });

  // The template's links are the server's URLs for the entry with id 0 (there is none):
  // an entry's own has its id in that place.
  function forEntry(url, id) {
    var at = url.lastIndexOf("/0/");
    return url.slice(0, at + 1) + id + url.slice(at + 2);
  }

  // Entries that colleagues post arrive through story.js; give them the desk's controls.
  var stream = document.getElementById("entries");
  var template = document.getElementById("desk-controls-template");
  if (stream && template && window.MutationObserver) {
    new MutationObserver(function () {
      Array.prototype.forEach.call(stream.querySelectorAll("article.entry"), function (article) {
        var next = article.nextElementSibling;
        if (next && next.classList.contains("desk-controls")) return;
        var id = article.id.replace("entry-", "");
        var controls = template.content.firstElementChild.cloneNode(true);
        var edit = controls.querySelector(".desk-edit");
        edit.setAttribute("href", forEntry(edit.getAttribute("href"), id));
        var pin = controls.querySelector(".desk-pin");
        if (pin) pin.setAttribute("action", forEntry(pin.getAttribute("action"), id));
        article.after(controls);
      });
      Array.prototype.forEach.call(stream.querySelectorAll(".desk-controls"), function (controls) {
        var before = controls.previousElementSibling;
        if (!before || !before.matches("article.entry")) controls.remove();
      });
    }).observe(stream, { childList: true });
  }

  restore();
  if (form.elements.headline.value || form.elements.body.value) schedulePreview();
})();

// Readers' questions: the queue asks the server again every few seconds, so new ones
// arrive while the desk is open. Without JavaScript a reload shows them.
(function () {
  "use strict";
  var section = document.getElementById("questions");
  if (!section || !window.fetch) return;
  var list = document.getElementById("questions-list");
  var status = document.getElementById("questions-status");
  var feed = document.querySelector("[data-poll-interval]");
  var interval = (feed && parseInt(feed.dataset.pollInterval, 10)) || 10;

  function waiting(root) {
    var count = root.querySelector("[data-waiting]");
    return count ? parseInt(count.dataset.waiting, 10) : 0;
  }

  function ids(root) {
    return Array.prototype.map.call(root.querySelectorAll(".desk-question"), function (q) { return q.id; });
  }

  function refresh() {
    fetch(section.dataset.questionsUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = document.createElement("div");
        fresh.innerHTML = html;
        // Leave the list alone while someone is using one of its controls.
        if (ids(fresh).join() === ids(list).join() || list.contains(document.activeElement)) return;
        var before = ids(list);
        var arrived = ids(fresh).filter(function (id) { return before.indexOf(id) < 0; }).length;
        list.innerHTML = fresh.innerHTML;
        if (arrived) {
          status.textContent = arrived === 1 ? "1 new question from a reader" : arrived + " new questions from readers";
        }
        section.dataset.waiting = String(waiting(list));
      })
      .catch(function () { /* the next round tries again */ })
      .then(function () { window.setTimeout(refresh, interval * 1000 * (document.hidden ? 4 : 1)); });
  }

  window.setTimeout(refresh, interval * 1000);
})();
