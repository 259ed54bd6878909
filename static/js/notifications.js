// Header bell: keeps the unread badge live over /ws/me (session cookie), reconnecting with a back-off.
// Watch buttons: mark the listings the user watches (GET /watchlist/ids) and toggle them with fetch
// (X-CSRFToken); without this script the same forms toggle and answer 303.
(function () {
  "use strict";
  var badge = document.getElementById("notif-count");

  function setUnread(n) {
    if (!badge || typeof n !== "number") return;
    badge.textContent = String(n);
    badge.dataset.unread = String(n);
    badge.hidden = n <= 0;
  }

  var delay = 1000;
  function connect() {
    if (!badge || !window.WebSocket) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/ws/me");
    var bell = document.getElementById("notif-bell");
    ws.onopen = function () { delay = 1000; if (bell) bell.dataset.socket = "open"; };
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.type === "notification" || msg.type === "unread") setUnread(msg.unread);
      if (msg.type === "notification") {
        document.dispatchEvent(new CustomEvent("marketplace:notification", { detail: msg }));
      }
    };
    ws.onclose = function (event) {
      if (bell) bell.dataset.socket = "closed";
      if (event.code === 4401) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  var forms = document.querySelectorAll("form[data-watch-listing]");
  function show(form, watched) {
    var button = form.querySelector(".watch-btn");
    form.dataset.watched = watched ? "1" : "0";
    if (!button) return;
    button.setAttribute("aria-pressed", watched ? "true" : "false");
    // the labels come from the page, in its language (templates/notifications/_watch.html)
    button.textContent = watched ? (button.dataset.watching || "★ Watching") : (button.dataset.watch || "☆ Watch");
  }
  if (forms.length) {
    fetch("/watchlist/ids", { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { ids: [] }; })
      .then(function (body) {
        var ids = {};
        (body.ids || []).forEach(function (id) { ids[String(id)] = true; });
        forms.forEach(function (form) { show(form, !!ids[form.dataset.watchListing]); });
      })
      .catch(function () {});
  }
  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.set("op", form.dataset.watched === "1" ? "remove" : "add");
      fetch(form.action, {
        method: "POST",
        headers: { "Accept": "application/json", "X-CSRFToken": csrf() },
        credentials: "same-origin",
        body: new URLSearchParams(data),
      }).then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      }).then(function (res) {
        if (res.ok) show(form, res.body.watched);
        else window.alert(res.body.detail || "Could not update the watchlist.");
      }).catch(function () { form.submit(); });
    });
  });
})();
