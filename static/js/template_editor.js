// Line numbers beside the template textarea (no inline scripts: the page's CSP allows only files).
(function () {
  var area = document.getElementById("template-source");
  if (!area) return;
  var gutter = area.parentNode.querySelector(".line-numbers");
  function paint() {
    var n = area.value.split("\n").length, out = [];
    for (var i = 1; i <= n; i++) out.push(i);
    gutter.textContent = out.join("\n");
    gutter.scrollTop = area.scrollTop;
  }
  area.addEventListener("input", paint);
  area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
  area.addEventListener("keydown", function (e) {
    if (e.key === "Tab") {
      e.preventDefault();
      var s = area.selectionStart;
      area.value = area.value.slice(0, s) + "  " + area.value.slice(area.selectionEnd);
      area.selectionStart = area.selectionEnd = s + 2;
      paint();
    }
  });
  paint();
})();
