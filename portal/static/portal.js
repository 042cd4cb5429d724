// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to an error summary so screen-reader and keyboard users hear it first.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // After a redirect, the message saying what happened gets focus (read out, scrolled into view).
  // A redirect to a section (#registration) shows the message in that section, so it is in view.
  var flash = document.querySelector("main > .notice[role=status]:first-child, main > .notice[role=alert]:first-child");
  if (!summary && flash) {
    flash.setAttribute("tabindex", "-1");
    flash.setAttribute("data-flash", "");
    var section = window.location.hash && document.getElementById(window.location.hash.slice(1));
    if (section && section.contains && !section.contains(flash)) {
      var heading = /^H[1-6]$/.test(section.tagName) ? section : section.querySelector("h2, h3");
      if (heading) { heading.after(flash); } else { section.prepend(flash); }
    }
    window.setTimeout(function () { flash.focus(); }, 0);
  }
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
