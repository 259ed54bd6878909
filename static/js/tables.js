// Responsive tables (docs/architecture.md "Mobile"): every table in <main> with a header row gets each cell
// labelled with its column's heading (data-label) and the class "stacked"; on narrow screens app.css shows such
// a table's rows as cards ("Amount: 120 🪙" per line) instead of a grid wider than the phone. Without this
// script a wide table scrolls inside its own box, never the page.
(function () {
  "use strict";
  var tables = document.querySelectorAll("main table");
  for (var t = 0; t < tables.length; t++) {
    var table = tables[t], head = table.tHead;
    if (!head || !head.rows.length) continue;
    var labels = [];
    var cells = head.rows[0].cells;
    for (var c = 0; c < cells.length; c++) {
      var span = cells[c].colSpan || 1, text = cells[c].textContent.replace(/\s+/g, " ").trim();
      for (var s = 0; s < span; s++) labels.push(text);
    }
    for (var b = 0; b < table.tBodies.length; b++) {
      var rows = table.tBodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var col = 0, row = rows[r].cells;
        for (var i = 0; i < row.length; i++) {
          if (!row[i].hasAttribute("data-label")) row[i].setAttribute("data-label", labels[col] || "");
          col += row[i].colSpan || 1;
        }
      }
    }
    table.classList.add("stacked");
  }
})();
