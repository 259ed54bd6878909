// Photo zoom on the listing page (docs/rules.md §19.7): a click on the main photo opens it full-screen; the
// arrows (keys or buttons) step through the listing's photos, Esc or a click on the backdrop closes it.
// CSP: no inline script, so this file wires itself to the gallery's markup (templates/catalog/listing.html).
(function () {
  "use strict";
  var gallery = document.querySelector(".gallery[data-photos]");
  var mainLink = document.getElementById("gallery-main-link");
  if (!gallery || !mainLink) return;
  var photos = Array.prototype.map.call(gallery.querySelectorAll("[data-photo]"), function (el) {
    return el.getAttribute("data-photo");
  });
  if (!photos.length) return;
  var index = 0;
  var box = document.createElement("div");
  box.className = "lightbox";
  box.id = "lightbox";
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-modal", "true");
  box.setAttribute("aria-label", gallery.getAttribute("data-label") || "Photo");
  box.hidden = true;
  box.innerHTML = '<button type="button" class="lightbox-close">×</button>' +
    '<button type="button" class="lightbox-prev">‹</button>' +
    '<img class="lightbox-img" alt="">' +
    '<button type="button" class="lightbox-next">›</button>' +
    '<span class="lightbox-count"></span>';
  // The buttons' labels come translated from the page (data-*-text, templates/catalog/listing.html).
  [["close", "Close"], ["prev", "Previous photo"], ["next", "Next photo"]].forEach(function (pair) {
    box.querySelector(".lightbox-" + pair[0]).setAttribute(
      "aria-label", gallery.getAttribute("data-" + pair[0] + "-text") || pair[1]);
  });
  document.body.appendChild(box);
  var img = box.querySelector(".lightbox-img");
  var count = box.querySelector(".lightbox-count");
  var lastFocus = null;

  function show(i) {
    index = (i + photos.length) % photos.length;
    img.src = photos[index];
    img.alt = (gallery.getAttribute("data-label") || "Photo") + " " + (index + 1);
    count.textContent = (index + 1) + " / " + photos.length;
    box.querySelector(".lightbox-prev").hidden = photos.length < 2;
    box.querySelector(".lightbox-next").hidden = photos.length < 2;
  }
  function open(i) {
    lastFocus = document.activeElement;
    show(i);
    box.hidden = false;
    document.body.classList.add("lightbox-open");
    box.querySelector(".lightbox-close").focus();
  }
  function close() {
    box.hidden = true;
    document.body.classList.remove("lightbox-open");
    if (lastFocus && lastFocus.focus) lastFocus.focus();
  }
  mainLink.addEventListener("click", function (e) {
    e.preventDefault();
    var current = photos.indexOf(mainLink.getAttribute("href"));
    open(current < 0 ? 0 : current);
  });
  box.querySelector(".lightbox-close").addEventListener("click", close);
  box.querySelector(".lightbox-prev").addEventListener("click", function () { show(index - 1); });
  box.querySelector(".lightbox-next").addEventListener("click", function () { show(index + 1); });
  box.addEventListener("click", function (e) { if (e.target === box) close(); });
  document.addEventListener("keydown", function (e) {
    if (box.hidden) return;
    if (e.key === "Escape") { close(); }
    else if (e.key === "ArrowLeft") { show(index - 1); }
    else if (e.key === "ArrowRight") { show(index + 1); }
  });
  // a swipe on a phone steps too
  var startX = null;
  box.addEventListener("touchstart", function (e) { startX = e.touches[0].clientX; }, { passive: true });
  box.addEventListener("touchend", function (e) {
    if (startX === null) return;
    var dx = e.changedTouches[0].clientX - startX;
    if (Math.abs(dx) > 40) show(index + (dx < 0 ? 1 : -1));
    startX = null;
  });
})();
