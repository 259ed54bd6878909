// The checkout's "Confirm and pay": disabled after the first click so a double click sends one request (the
// server's idempotency key is the real guard, docs/rules.md §19.3).
(function () {
  "use strict";
  var form = document.getElementById("checkout-form");
  if (!form) { return; }
  form.addEventListener("submit", function () {
    var button = document.getElementById("confirm-pay");
    window.setTimeout(function () { button.disabled = true; button.textContent = button.dataset.paying || "Paying…"; }, 0);
  });
}());
