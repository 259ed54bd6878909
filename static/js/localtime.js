// Local time (docs/architecture.md "Local time"). Times are stored in UTC and rendered by the server in the
// reader's zone: a signed-in user's setting, an anonymous visitor's browser zone (the "tz" cookie this script
// sets), else Asia/Shanghai. On a page rendered in another zone than the browser's (an anonymous visitor's first
// page), the <time datetime data-local="when"> elements are re-rendered here in the browser's zone, in the same
// "12-01 19:05 (UTC+8)" form as marketplace/web/filters.py. window.localTime.format serves live updates.
(function () {
  "use strict";
  var script = document.currentScript;
  var rendered = (script && script.getAttribute("data-zone")) || "Asia/Shanghai";
  var signedIn = !!(script && script.getAttribute("data-signed-in"));
  var browser = null;
  try { browser = Intl.DateTimeFormat().resolvedOptions().timeZone || null; } catch (e) { browser = null; }
  var zone = signedIn || !browser ? rendered : browser;

  if (!signedIn && browser) {
    var m = document.cookie.match(/(?:^|;\s*)tz=([^;]*)/);
    var current = m ? decodeURIComponent(m[1]) : null;
    if (current !== browser) {
      document.cookie = "tz=" + encodeURIComponent(browser) + "; path=/; max-age=31536000; samesite=lax";
    }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(iso, tz) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso;
    tz = tz || zone;
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-US", {
        timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
        hourCycle: "h23", timeZoneName: "shortOffset"
      }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    } catch (e) { return iso; }
    var thisYear = {};
    new Intl.DateTimeFormat("en-US", { timeZone: tz, year: "numeric" }).formatToParts(new Date())
      .forEach(function (p) { thisYear[p.type] = p.value; });
    var offset = (parts.timeZoneName || "GMT").replace("GMT", "UTC");
    var stamp = parts.month + "-" + parts.day + " " + pad(parseInt(parts.hour, 10) % 24) + ":" + parts.minute;
    if (parts.year !== thisYear.year) stamp = parts.year + "-" + stamp;
    return stamp + " (" + offset + ")";
  }

  window.localTime = { zone: zone, format: function (iso) { return format(iso, zone); } };

  if (zone !== rendered) {
    var nodes = document.querySelectorAll("time[datetime][data-local]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i], text = format(el.getAttribute("datetime"), zone);
      if (el.getAttribute("data-local") === "left") el.setAttribute("title", text);
      else el.textContent = text;
    }
  }
})();
