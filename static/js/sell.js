// Sell form enhancements: show only the fields of the chosen format, and accept photos by drag and drop.
// Without this script the form still works: both field groups show and the file input takes several files.
(function () {
  "use strict";
  var form = document.getElementById("sell-form");
  if (!form) return;

  function showMode() {
    var checked = form.querySelector("input[name=mode]:checked");
    var mode = checked ? checked.value : "fixed";
    form.querySelectorAll(".mode-fields").forEach(function (el) {
      el.hidden = el.getAttribute("data-mode") !== mode;
    });
  }
  form.querySelectorAll("input[name=mode]").forEach(function (r) { r.addEventListener("change", showMode); });
  showMode();

  var zone = document.getElementById("dropzone");
  var input = document.getElementById("images");
  var previews = document.getElementById("previews");
  if (!zone || !input || typeof DataTransfer === "undefined") return;

  function render() {
    previews.textContent = "";
    Array.prototype.forEach.call(input.files, function (file) {
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      previews.appendChild(img);
    });
  }

  function addFiles(files) {
    var dt = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (f) { dt.items.add(f); });
    Array.prototype.forEach.call(files, function (f) { if (/^image\//.test(f.type)) dt.items.add(f); });
    input.files = dt.files;
    render();
  }

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (e) { addFiles(e.dataTransfer.files); });
  input.addEventListener("change", render);
})();
