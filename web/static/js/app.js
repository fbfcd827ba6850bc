// Behaviour every page shares, kept out of the templates so the Content-Security-Policy can
// refuse inline scripts and on*="" handlers (script-src 'self').
(function () {
  "use strict";

  // Swap 4xx responses too, so form errors show where the form is.
  if (window.htmx) {
    window.htmx.config.responseHandling = [
      {code: "204", swap: false},
      {code: "[23]..", swap: true},
      {code: "[4]..", swap: true, error: false},
      {code: "...", swap: false, error: true}
    ];
  }

  // Delegated, so content htmx swaps in later behaves the same.
  // <select data-autosubmit> / <input data-autosubmit>: submit the form on change.
  document.addEventListener("change", function (e) {
    const el = e.target;
    if (el instanceof Element && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
  });
  // <a data-print>: print the page instead of following the link.
  document.addEventListener("click", function (e) {
    const el = e.target instanceof Element ? e.target.closest("[data-print]") : null;
    if (el) { e.preventDefault(); window.print(); }
  });
  // <form data-nosubmit>: never submitted by the browser (scripts save it).
  document.addEventListener("submit", function (e) {
    if (e.target instanceof Element && e.target.hasAttribute("data-nosubmit")) e.preventDefault();
  });
})();
