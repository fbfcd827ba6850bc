// <form data-confirm="Question?">: asks before a destructive submit (Archive, ...).
// htmx elements use hx-confirm instead.
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
}, true);
