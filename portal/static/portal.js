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
  // "Add another party" / "Add another control-list entry": without JavaScript the button posts
  // the form back and the page returns with one row more; with it, the row is added here.
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      var group = button.closest("[data-repeat]");
      var rows = group.querySelectorAll("[data-row]");
      var last = rows[rows.length - 1];
      if (!last) { return; }
      event.preventDefault();
      var name = group.getAttribute("data-repeat");
      var pattern = new RegExp("^" + name + "-(\\d+)-");
      var index = 0;  // one past the highest index in use (rows removed on the server leave gaps)
      group.querySelectorAll("[name]").forEach(function (field) {
        var found = pattern.exec(field.getAttribute("name"));
        if (found) { index = Math.max(index, parseInt(found[1], 10) + 1); }
      });
      var row = last.cloneNode(true);
      row.querySelectorAll(".error-message").forEach(function (node) { node.remove(); });
      row.querySelectorAll(".field-error").forEach(function (node) { node.classList.remove("field-error"); });
      row.querySelectorAll("[id], [for], [name], [aria-describedby]").forEach(function (node) {
        ["id", "for", "name"].forEach(function (attribute) {
          var value = node.getAttribute(attribute);
          if (value) { node.setAttribute(attribute, value.replace(pattern, name + "-" + index + "-")); }
        });
        if (node.hasAttribute("aria-describedby")) {
          var hints = node.getAttribute("aria-describedby").split(" ").filter(function (id) { return !/-error$/.test(id); });
          if (hints.length) {
            node.setAttribute("aria-describedby", hints.map(function (id) { return id.replace(pattern, name + "-" + index + "-"); }).join(" "));
          } else { node.removeAttribute("aria-describedby"); }
        }
        node.removeAttribute("aria-invalid");
      });
      row.querySelectorAll("input, textarea").forEach(function (field) { field.value = ""; });
      row.querySelectorAll("select").forEach(function (field) { field.selectedIndex = 0; });
      row.querySelectorAll("button[name=remove_row]").forEach(function (remove) { remove.remove(); });
      var legend = row.querySelector("legend");
      if (legend) { legend.textContent = legend.textContent.replace(/\d+\s*$/, String(rows.length + 1)); }
      last.after(row);
      var first = row.querySelector("select, input, textarea");
      if (first) { first.focus(); }
    });
  });
});
