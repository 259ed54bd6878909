// The buy form's live total (docs/rules.md §14, §15): items + shipping − points, with free shipping from the
// buyer's level threshold. The server recomputes everything; this only shows what it will charge.
(function () {
  "use strict";
  var form = document.getElementById("buy-form");
  if (!form) { return; }
  var price = parseInt(form.dataset.price, 10) || 0;
  var shipping = parseInt(form.dataset.shipping, 10) || 0;
  var freeFrom = form.dataset.freeFrom ? parseInt(form.dataset.freeFrom, 10) : null;
  var perCoin = parseInt(form.dataset.pointsPerCoin, 10) || 50;
  // The points the server would accept: the buyer's available points, at most the per-order cap.
  var limit = Math.min(parseInt(form.dataset.pointsAvailable, 10), parseInt(form.dataset.pointsCap, 10));
  limit -= limit % perCoin;
  var qty = form.querySelector("input[name=quantity]");
  var points = form.querySelector("input[name=points]");
  var total = document.getElementById("buy-total");
  var breakdown = document.getElementById("buy-breakdown");

  function coins(n) { return n.toLocaleString() + " 🪙"; }

  function update() {
    var q = Math.max(parseInt(qty.value, 10) || 1, 1);
    var items = q * price;
    var ship = shipping;
    var notes = [];
    if (ship > 0 && freeFrom !== null && items >= freeFrom) { ship = 0; notes.push("free shipping"); }
    var used = points ? Math.max(parseInt(points.value, 10) || 0, 0) : 0;
    if (!isNaN(limit) && used > limit) {
      notes.push("at most " + limit + " points");  // the server refuses more: no discount shown
      used = 0;
    } else if (used % perCoin !== 0) {
      notes.push("points in multiples of " + perCoin);
      used = 0;
    }
    var off = Math.floor(used / perCoin);
    if (off > items) { off = items; }
    if (off > 0) { notes.push("−" + coins(off) + " for " + used + " points"); }
    total.textContent = coins(items + ship - off);
    breakdown.textContent = notes.length ? "(" + notes.join(", ") + ")" : "";
  }

  qty.addEventListener("input", update);
  if (points) { points.addEventListener("input", update); }
  update();
}());
