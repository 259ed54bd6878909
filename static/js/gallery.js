// Listing gallery: a thumbnail click shows that photo in the main frame (without JS it opens the photo).
(function () {
  "use strict";
  var main = document.getElementById("gallery-main");
  var link = document.getElementById("gallery-main-link");
  if (!main) return;
  document.querySelectorAll(".gallery-thumb").forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      main.src = a.getAttribute("data-full");
      if (link) link.href = a.getAttribute("data-full");
      document.querySelectorAll(".gallery-thumb.current").forEach(function (c) { c.classList.remove("current"); });
      a.classList.add("current");
    });
  });
})();
