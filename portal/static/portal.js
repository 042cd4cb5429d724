// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to an error summary so screen-reader and keyboard users hear it first.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // Ask before irreversible actions marked with data-confirm (no inline handlers: CSP).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (link) {
    link.addEventListener("click", function (event) { event.preventDefault(); window.print(); });
  });
});
