// Forms with data-confirm ask before submitting (no inline handlers: the CSP allows scripts from /static only).
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
