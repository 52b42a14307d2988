// Story page: copy-link controls, the reader's choice of order and filter, live
// updates, and "Load older updates".
// Every part is an enhancement: without JavaScript each "link" is a link to the
// entry's permalink, the order and filter are links (the URL says which view it is),
// "Load older updates" is a link to the next page, and a reload shows what changed.
(function () {
  "use strict";

  // --- Copy link -------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.permalink");
    if (!link || !navigator.clipboard || event.metaKey || event.ctrlKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    navigator.clipboard.writeText(link.href).then(
      function () {
        var status = link.parentNode.querySelector(".copy-status");
        if (!status) return;
        status.textContent = "Link copied";
        window.setTimeout(function () { status.textContent = ""; }, 4000);
      },
      function () { window.location.href = link.href; }
    );
  });

  var root = document.querySelector(".story[data-updates-url]");
  var stream = document.getElementById("entries");
  if (!root || !stream || !window.fetch) return;

  // --- How the reader reads: remembered in this browser only -----------------
  // The server never sees the choice: a link says it (?order=oldest, ?only=key), so
  // caches keep each view apart, and this browser goes back to it on the bare URL.
  var PREFERENCE = "liveblog:reading";

  function remembered() {
    try {
      return JSON.parse(window.localStorage.getItem(PREFERENCE)) || {};
    } catch (e) {
      return {};
    }
  }

  function remember(choice) {
    try {
      var preference = remembered();
      Object.keys(choice).forEach(function (name) { preference[name] = choice[name]; });
      window.localStorage.setItem(PREFERENCE, JSON.stringify(preference));
    } catch (e) { /* storage refused (private mode): the links still work */ }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-reading-order], a[data-reading-only]");
    if (!link) return;
    if (link.dataset.readingOrder) remember({ order: link.dataset.readingOrder });
    if (link.dataset.readingOnly) remember({ only: link.dataset.readingOnly });
  });

  var preference = remembered();
  var wanted = [];
  if (preference.order === "oldest") wanted.push("order=oldest");
  if (preference.only === "key") wanted.push("only=key");
  if (root.dataset.order && !window.location.search && wanted.length &&
      window.location.pathname === root.dataset.storyUrl) {
    window.location.replace(root.dataset.storyUrl + "?" + wanted.join("&") + window.location.hash);
    return;
  }

  var state = {
    version: root.dataset.version,
    interval: parseInt(root.dataset.pollInterval, 10) || 10,
    url: root.dataset.updatesUrl,
    firstPage: root.dataset.firstPage === "true",
    oldestFirst: root.dataset.order === "oldest",
    keyOnly: root.dataset.only === "key",
    keyIds: keyIdsOf(root.dataset.keyEntries || ""),
    failures: 0,
    pending: [],
    timer: null,
    inFlight: false
  };
  var button = document.getElementById("new-updates");
  var announcer = document.getElementById("live-status");

  // The entries a "Key updates only" reader sees: those the key points link to, and
  // the pinned entry.
  function keyIdsOf(text) {
    var ids = {};
    text.split(/\s+/).forEach(function (id) { if (id) ids["entry-" + id] = true; });
    return ids;
  }

  function keyIdsFromBlock(html, pinned) {
    var ids = {};
    var block = document.createElement("template");
    block.innerHTML = html;
    block.content.querySelectorAll("a[href*='/entries/']").forEach(function (link) {
      var match = link.getAttribute("href").match(/\/entries\/(\d+)\//);
      if (match) ids["entry-" + match[1]] = true;
    });
    if (pinned) ids["entry-" + pinned] = true;
    return ids;
  }

  function articles() {
    return Array.prototype.slice.call(stream.querySelectorAll("article.entry"));
  }

  function key(article) {
    var parts = article.dataset.cursor.split(".");
    return [Number(parts[0]), Number(parts[1])];
  }

  function isNewer(a, b) {
    var x = key(a), y = key(b);
    return x[0] !== y[0] ? x[0] > y[0] : x[1] > y[1];
  }

  function toElement(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // Put an entry where its time belongs. One beyond every loaded entry (older, or
  // newer when reading oldest first) stays out while there is a page to load: that
  // page brings it in its turn.
  function place(article) {
    var list = articles();
    for (var i = 0; i < list.length; i++) {
      if (state.oldestFirst ? isNewer(list[i], article) : isNewer(article, list[i])) {
        stream.insertBefore(article, list[i]);
        return;
      }
    }
    if (!document.querySelector(".load-older")) stream.appendChild(article);
  }

  function shown(article) {
    return !state.keyOnly || state.keyIds[article.id] === true;
  }

  // Key points changed under a "Key updates only" reader: drop what is no longer key,
  // and fetch this view's first page for what became key.
  function refreshKeyEntries(ids) {
    var added = Object.keys(ids).filter(function (id) { return !state.keyIds[id]; });
    state.keyIds = ids;
    articles().forEach(function (article) {
      if (!shown(article)) article.remove();
    });
    if (!added.length) return;
    fetch(root.dataset.viewUrl, { headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        page.querySelectorAll("#entries article.entry").forEach(function (article) {
          if (!document.getElementById(article.id) && added.indexOf(article.id) >= 0) {
            place(document.importNode(article, true));
          }
        });
        regroupDays();
      })
      .catch(function () { /* the next reload shows them */ });
  }

  // Date headings sit wherever the day changes; their text travels with each entry.
  function regroupDays() {
    Array.prototype.forEach.call(stream.querySelectorAll(".day-heading"), function (h) { h.remove(); });
    var previous = null;
    articles().forEach(function (article) {
      if (article.dataset.day !== previous) {
        var heading = document.createElement("h2");
        heading.className = "day-heading";
        heading.textContent = article.dataset.dayLabel;
        stream.insertBefore(heading, article);
        previous = article.dataset.day;
      }
    });
    var empty = document.querySelector(".stream .empty");
    if (empty) empty.hidden = articles().length > 0;
  }

  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function plural(n) {
    return n + (n === 1 ? " new update" : " new updates");
  }

  // The reader is "at the top" while the start of the stream has not scrolled away.
  function readerAtTop() {
    return state.firstPage && stream.getBoundingClientRect().top > -20;
  }

  function showPending() {
    state.pending.sort(function (a, b) { return isNewer(a, b) ? 1 : -1; });
    state.pending.forEach(place);
    var first = state.pending[state.pending.length - 1];
    state.pending = [];
    button.hidden = true;
    regroupDays();
    if (first) {
      first.setAttribute("tabindex", "-1");
      first.scrollIntoView({ block: "start" });
      first.focus({ preventScroll: true });
    }
  }

  button.addEventListener("click", function () {
    if (!state.firstPage) {
      window.location.href = root.dataset.storyUrl;
      return;
    }
    showPending();
  });

  function apply(update) {
    if (update.reload) {
      window.location.reload();
      return;
    }
    if (state.keyOnly && update.key_points_html !== null) {
      refreshKeyEntries(keyIdsFromBlock(update.key_points_html, root.dataset.pinnedEntry));
    }
    update.removed.forEach(function (id) {
      var gone = document.getElementById("entry-" + id);
      if (gone) gone.remove();
      state.pending = state.pending.filter(function (a) { return a.id !== "entry-" + id; });
    });
    var arrivals = [];
    update.entries.forEach(function (item) {
      var fresh = toElement(item.html);
      var waiting = state.pending.findIndex(function (a) { return a.id === fresh.id; });
      var existing = document.getElementById(fresh.id);
      if (waiting >= 0) {
        state.pending[waiting] = fresh;
      } else if (existing && existing.dataset.cursor === fresh.dataset.cursor) {
        existing.replaceWith(fresh);
      } else if (existing) {
        existing.remove();  // re-timed: it moves to where its new time belongs
        place(fresh);
      } else if (shown(fresh)) {
        arrivals.push(fresh);
      }
    });
    if (arrivals.length && state.oldestFirst) {
      // Oldest first, news goes at the end: in place for a reader who has every page
      // loaded, and the last page brings it for one who has not.
      var atEnd = !document.querySelector(".load-older");
      if (atEnd) arrivals.forEach(place);
      announce(plural(arrivals.length) + (atEnd ? " at the end" : " after the updates still to load"));
    } else if (arrivals.length && readerAtTop()) {
      arrivals.forEach(place);
      announce(plural(arrivals.length));
    } else if (arrivals.length) {
      state.pending = state.pending.concat(arrivals);
      button.textContent = plural(state.pending.length);
      button.hidden = false;
      announce(plural(state.pending.length));
    }
    if (update.key_points_html !== null) {
      document.getElementById("key-points-block").innerHTML = update.key_points_html;
    }
    var header = document.getElementById("story-header");
    if (update.header_html !== null && header) {
      var wasLive = !!header.querySelector(".live-marker");
      var fresh = document.createElement("template");
      fresh.innerHTML = update.header_html;
      // An older page and the embed show no lede: the fresh header keeps it that way.
      if (header.dataset.summary === "hidden") {
        Array.prototype.forEach.call(fresh.content.querySelectorAll(".lede"), function (l) { l.remove(); });
      }
      header.replaceChildren(fresh.content);
      if (wasLive && update.status === "ended") announce("Coverage has ended.");
    }
    regroupDays();
    state.version = String(update.version);
    state.interval = update.poll_interval || state.interval;
  }

  // Poll at the server's interval, four times slower in a hidden tab, with jitter so
  // readers who opened the page together do not poll together, and backing off on errors.
  function schedule() {
    window.clearTimeout(state.timer);
    var delay = state.interval * 1000 * (document.hidden ? 4 : 1);
    if (state.failures) delay = Math.min(delay * Math.pow(2, state.failures), 300000);
    state.timer = window.setTimeout(poll, delay * (0.8 + Math.random() * 0.4));
  }

  function poll() {
    if (state.inFlight) return;
    state.inFlight = true;
    fetch(state.url.replace(/[^/]+\/$/, encodeURIComponent(state.version) + "/"), {
      headers: { Accept: "application/json" },
      credentials: "omit"
    })
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("updates answered " + response.status);
        return response.json();
      })
      .then(function (update) {
        state.failures = 0;
        if (update) apply(update);
      })
      .catch(function () {
        state.failures = Math.min(state.failures + 1, 8);
      })
      .then(function () {
        state.inFlight = false;
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) poll();
  });
  // Another script on the page (the desk, after posting) may ask for a poll now.
  document.addEventListener("liveblog:poll", poll);

  // --- Load older updates ----------------------------------------------------
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.load-older");
    if (!link) return;
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    fetch(link.href, { headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("older page answered " + response.status);
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var first = null;
        page.querySelectorAll("#entries article.entry").forEach(function (article) {
          if (document.getElementById(article.id)) return;
          stream.appendChild(article);
          first = first || article;
        });
        var next = page.querySelector("a.load-older");
        if (next) {
          link.setAttribute("href", next.getAttribute("href"));
          link.removeAttribute("aria-busy");
        } else {
          link.parentNode.remove();
        }
        regroupDays();
        if (first) {
          first.setAttribute("tabindex", "-1");
          first.focus({ preventScroll: true });
        }
      })
      .catch(function () { window.location.href = link.href; });
  });

  schedule();
})();

// Ask the newsroom: without JavaScript, "Ask a question or send a tip" is a link to the
// form's page, which posts and says thanks. With it, the form comes in place (its page
// carries the CSRF token, which the cached story page cannot) and posts in place.
(function () {
  "use strict";
  var slot = document.getElementById("ask-slot");
  if (!slot || !window.fetch || !window.DOMParser) return;

  function formOf(html) {
    return new DOMParser().parseFromString(html, "text/html").getElementById("ask-form");
  }

  function say(form, text) {
    var status = form.querySelector(".ask-status");
    if (status) status.textContent = text;
  }

  function send(form) {
    var button = form.querySelector(".ask-send");
    if (button.disabled) return;
    button.disabled = true;
    say(form, "Sending…");
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "text/html" }
    })
      .then(function (response) {
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var thanks = page.querySelector(".ask-thanks");
          var answer = page.getElementById("ask-form");
          var closed = page.querySelector(".ask-closed");
          if (response.ok && thanks) {
            var done = document.createElement("p");
            done.className = "ask-thanks";
            done.setAttribute("tabindex", "-1");
            done.textContent = thanks.textContent;
            slot.replaceChildren(done);
            done.focus();
          } else if (closed) {
            slot.replaceChildren(closed);
          } else if (answer) {
            // Refused: the server's form keeps what was typed and says what to fix.
            slot.replaceChildren(answer);
            wire(answer);
            var problem = answer.querySelector(".ask-refusal, .is-invalid");
            if (problem) problem.focus();
          } else {
            button.disabled = false;
            say(form, "Not sent: the server answered " + response.status + ". What you typed is still here; try again.");
          }
        });
      })
      .catch(function () {
        button.disabled = false;
        say(form, "Not sent: the connection failed. What you typed is still here; try again.");
      });
  }

  function wire(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form);
    });
  }

  slot.addEventListener("click", function (event) {
    var link = event.target.closest("a.ask-open");
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(); })
      .then(function (html) {
        var form = formOf(html);
        if (!form) throw new Error("no form");
        slot.replaceChildren(form);
        wire(form);
        form.querySelector("textarea").focus();
      })
      .catch(function () { window.location.href = link.href; });
  });
})();
