// Live auction box: connects to /ws/listings/{id}, updates price, bids, minimum, reserve, countdown and standing
// without a reload, and submits the bid form with fetch (X-CSRFToken). Times come from the server: the offset
// between the server clock and this browser's is measured on every message, never trusted from Date.now().
(function () {
  "use strict";
  var box = document.getElementById("auction-box");
  if (!box || box.dataset.live === "1") return;
  box.dataset.live = "1";
  var id = box.dataset.listingId;
  var me = box.dataset.userId ? Number(box.dataset.userId) : null;
  var state = {
    endsAt: Date.parse(box.dataset.endsAt),
    status: box.dataset.status,
    version: Number(box.dataset.version || 0),
    youLead: box.dataset.youLead === "true",  // no user ids reach the page: the server says whether we lead
    youBid: box.dataset.youBid === "true",
    offset: box.dataset.serverTime ? Date.parse(box.dataset.serverTime) - Date.now() : null,
  };
  var fmt = new Intl.NumberFormat();
  // The page's language: messages rendered by the server (templates/auctions/_auction_box.html), English fallback.
  var messages = {};
  var holder = document.getElementById("live-messages");
  try { messages = JSON.parse((holder && holder.dataset.messages) || "{}"); } catch (e) {}
  function tr(key, fallback, value) {
    return String(messages[key] || fallback).replace("%(value)s", value === undefined ? "" : value);
  }
  function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
  function set(name, text) { var el = field(name); if (el) el.textContent = text; }
  function coins(v) { return v === null || v === undefined ? "—" : fmt.format(v) + " 🪙"; }
  function serverNow() { return Date.now() + (state.offset || 0); }
  function syncClock(msg) { if (msg.server_time) state.offset = Date.parse(msg.server_time) - Date.now(); }

  function standing() {
    var el = field("standing");
    if (!el || me === null) return;
    var html = "";
    if (state.status === "active" && state.youLead) html = '<span class="badge badge-ok"></span>';
    else if (state.status === "active" && state.youBid) html = '<span class="badge badge-err"></span>';
    else if (state.status === "sold" && state.youLead) html = '<span class="badge badge-ok"></span>';
    el.innerHTML = html;
    var badge = el.querySelector(".badge");
    if (badge) {
      badge.textContent = state.status === "sold" ? tr("you_won", "You won")
        : (state.youLead ? tr("you_lead", "You lead") : tr("outbid", "You were outbid"));
    }
  }

  function apply(msg) {
    if (msg.current_price !== undefined) set("current_price", coins(msg.current_price));
    if (msg.bid_count !== undefined) set("bid_count", String(msg.bid_count));
    if (msg.min_next_bid !== undefined) {
      set("min_next_bid", coins(msg.min_next_bid));
      var input = box.querySelector('input[name="max_amount"]');
      if (input) input.placeholder = tr("or_more", "%(value)s or more", msg.min_next_bid);
    }
    if (msg.reserve_met !== undefined) {
      set("reserve_met", msg.reserve_met === null ? tr("no_reserve", "no reserve")
        : (msg.reserve_met ? tr("reserve_met", "reserve met") : tr("reserve_not_met", "reserve not met")));
    }
    if ("buy_now_price" in msg) {
      box.querySelectorAll("[data-buy-now]").forEach(function (el) { el.hidden = msg.buy_now_price === null; });
      if (msg.buy_now_price !== null) set("buy_now_price", coins(msg.buy_now_price));
    }
    if (msg.ends_at) {
      state.endsAt = Date.parse(msg.ends_at);
      var t = field("ends_at");
      if (t) { t.setAttribute("datetime", msg.ends_at); t.textContent = window.localTime ? window.localTime.format(msg.ends_at) : msg.ends_at; }
    }
    if ("you_lead" in msg) {
      // An older "You lead!" from our own form must not contradict the live standing.
      if (!msg.you_lead && state.youLead) set("bid_result", "");
      state.youLead = !!msg.you_lead;
    }
    if (msg.version !== undefined) state.version = msg.version;
    box.dataset.version = String(state.version);
    standing();
    tick();
  }

  function closed(msg) {
    state.status = msg.status;
    if ("you_lead" in msg) state.youLead = !!msg.you_lead;
    box.dataset.status = msg.status;
    var el = field("closed");
    if (el) {
      el.hidden = false;
      el.textContent = msg.status === "sold" ? tr("sold_for", "Sold for %(value)s.", coins(msg.final_price))
        : tr("unsold", "Ended without a sale.");
    }
    set("current_price", coins(msg.final_price));
    var form = box.querySelector("[data-bid-form]");
    if (form) form.remove();
    box.querySelectorAll("[data-buy-now]").forEach(function (el) { el.hidden = true; });
    // Ended: no "Minimum next bid" any more; the status badge says so; the winner gets the way to the order.
    box.querySelectorAll("[data-while-active]").forEach(function (el) { el.hidden = true; });
    var badge = document.getElementById("listing-status");
    if (badge) badge.textContent = msg.status;
    var me = box.dataset.userId;
    if (el && msg.status === "sold" && me && String(msg.leader_id) === me) {
      var link = document.createElement("a");
      link.href = "/my/purchases";
      link.className = "btn btn-primary winner-order-link";
      link.textContent = tr("go_to_order", "You won: go to your order");
      el.appendChild(document.createTextNode(" "));
      el.appendChild(link);
    }
    standing();
    tick();
  }

  function tick() {
    var el = field("time_left");
    if (!el) return;
    if (state.status !== "active") { el.textContent = tr("ended", "ended"); return; }
    if (state.offset === null) return;
    var ms = state.endsAt - serverNow();
    if (ms <= 0) { el.textContent = tr("closing", "closing…"); return; }
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    var m = Math.floor(s % 3600 / 60), sec = s % 60;
    el.textContent = (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (sec < 10 ? "0" : "") + sec + "s";
    el.classList.toggle("ending-soon", ms < 5 * 60 * 1000);
  }
  setInterval(tick, 1000);

  var historyTimer = null;
  function refreshHistory() {
    var holder = document.getElementById("bid-history");
    if (!holder || !holder.dataset.historyUrl) return;
    clearTimeout(historyTimer);
    historyTimer = setTimeout(function () {
      fetch(holder.dataset.historyUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) holder.innerHTML = html; })
        .catch(function () {});
    }, 300);
  }

  var retry = 500;
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws/listings/" + id);
    box.dataset.socket = "connecting";
    ws.onopen = function () { retry = 500; box.dataset.socket = "open"; };
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      syncClock(msg);
      if (msg.type === "snapshot") {
        if (msg.status && msg.status !== "active") { apply(msg); closed({ status: msg.status, final_price: msg.current_price }); }
        else { state.version = -1; apply(msg); }
        if (msg.you_bid) state.youBid = true;
        standing();
        refreshHistory();
      } else if (msg.type === "bid") {
        // A bid committed between our subscription and the snapshot arrives twice; keep the newest state only.
        if (msg.version !== undefined && msg.version <= state.version) return;
        apply(msg);
        refreshHistory();
      } else if (msg.type === "closed") {
        closed(msg);
        refreshHistory();
      } else if (msg.type === "edited" && !document.getElementById("edited-notice")) {
        // docs/rules.md §19.7: the seller changed the listing; the page shows the new version on reload
        var note = document.createElement("p");
        note.id = "edited-notice";
        note.className = "muted";
        note.setAttribute("role", "status");
        note.textContent = box.getAttribute("data-edited-text") || "The seller edited this listing: reload to see the changes.";
        box.insertBefore(note, box.firstChild);
      }
    };
    ws.onclose = function () {
      box.dataset.socket = "closed";
      if (state.status === "active") { setTimeout(connect, retry); retry = Math.min(retry * 2, 10000); }
    };
  }
  connect();

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  var form = box.querySelector("[data-bid-form]");
  if (form && window.fetch && window.FormData) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var out = field("bid_result");
      if (button) button.disabled = true;
      fetch(form.action, {
        method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrf() },
      }).then(function (r) {
        return r.json().catch(function () {
          // Not our JSON: a login page or a CSRF refusal (the session expired), or a server error page.
          var text = r.status === 401 || r.status === 403
            ? tr("session_expired", "Your session has expired. Please log in again, then place your bid.")
            : tr("bid_failed", "Your bid could not be placed (error %(value)s). Please try again.", r.status);
          return { ok: false, detail: text };
        });
      })
        .then(function (body) {
          if (out) { out.textContent = body.detail || ""; out.className = "bid-result " + (body.ok ? "ok" : "err"); }
          if (body.ok) {
            state.youBid = true;
            if (body.you_lead) state.youLead = true;
            form.reset();
            standing();
          }
        })
        .catch(function () { if (out) out.textContent = tr("network", "Network error; your bid may not have been placed."); })
        .then(function () { if (button) button.disabled = false; });
    });
  }
})();
