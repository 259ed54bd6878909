// Live preview of a block's query: fetches /admin/blocks/preview as the form changes.
(function () {
  function queryOf(form) {
    var f = form.elements, q = {};
    ["mode", "q", "sort", "shop"].forEach(function (k) { if (f[k] && f[k].value) q[k] = f[k].value; });
    ["category_id", "min_price", "max_price"].forEach(function (k) { if (f[k] && f[k].value !== "") q[k] = parseInt(f[k].value, 10); });
    if (f.featured && f.featured.checked) q.featured = true;
    return q;
  }
  function load(box, query, limit) {
    var url = "/admin/blocks/preview?spec=" + encodeURIComponent(JSON.stringify(query)) + "&limit=" + (limit || 8);
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.text(); }).then(function (html) { box.innerHTML = html; });
  }
  document.querySelectorAll(".block-preview[data-query]").forEach(function (box) {
    load(box, JSON.parse(box.getAttribute("data-query") || "{}"), box.getAttribute("data-limit"));
  });
  document.querySelectorAll("form.block-form").forEach(function (form) {
    var box = form.id === "new-block" ? document.getElementById("new-block-preview")
                                      : form.closest(".block-admin").querySelector(".block-preview");
    var timer = null;
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { load(box, queryOf(form), form.elements.limit.value); }, 300);
    });
  });
})();
