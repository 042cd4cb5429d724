// "Stay signed in" before the idle timeout (WCAG 2.2.1 Timing Adjustable), and a warning before
// the absolute limit, which no activity moves (data-final: then there is no "stay"). Progressive
// enhancement: without it the session still ends, and a form sent afterwards is kept
// server-side and given back after signing in again (portal.auth.recovery).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var dialog = document.getElementById("session-dialog");
  if (!dialog || typeof dialog.showModal !== "function") { return; }
  var timeout = parseInt(dialog.getAttribute("data-timeout"), 10) * 1000;
  var warning = parseInt(dialog.getAttribute("data-warning"), 10) * 1000;
  var final = dialog.getAttribute("data-final") === "true";
  var warningState = dialog.querySelector("[data-state=warning]");
  var limitState = dialog.querySelector("[data-state=limit]");
  var endedState = dialog.querySelector("[data-state=ended]");
  var states = [warningState, limitState, endedState];
  var stay = dialog.querySelector("[data-stay]");
  var warnTimer = null, endTimer = null, returnFocus = null;

  function schedule(remaining) {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    warnTimer = window.setTimeout(warn, Math.max(0, remaining - warning));
    endTimer = window.setTimeout(ended, remaining);
  }

  function open() {
    if (!dialog.open) {
      returnFocus = document.activeElement;
      dialog.showModal();
    }
  }

  function close() {
    if (dialog.open) { dialog.close(); }
    if (returnFocus && typeof returnFocus.focus === "function") { returnFocus.focus(); }
  }

  // One state shows at a time, and the dialog is named and described by that state's text.
  function show(state) {
    states.forEach(function (each) { each.hidden = each !== state; });
    dialog.setAttribute("aria-labelledby", state.querySelector("h2").id);
    dialog.setAttribute("aria-describedby", state.querySelector("p").id);
    open();
    state.querySelector("a, button").focus();
  }

  function warn() { show(final ? limitState : warningState); }

  function ended() { show(endedState); }

  function extend() {
    var request = new XMLHttpRequest();
    request.open("POST", dialog.getAttribute("data-extend-url"));
    request.setRequestHeader("X-CSRFToken", dialog.getAttribute("data-csrf"));
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      var remaining = 0;
      try {
        var answer = JSON.parse(request.responseText);
        remaining = answer.remaining_seconds * 1000;
        final = answer.final === true;
      } catch (e) { remaining = 0; }
      if (request.status === 200 && remaining > 0) {
        close();
        schedule(remaining);
      } else {
        ended();
      }
    };
    request.onerror = ended;
    request.send();
  }

  stay.addEventListener("click", extend);
  dialog.querySelectorAll("[data-close]").forEach(function (button) { button.addEventListener("click", close); });
  // Escape closes a modal dialog: while it warns, that means "I am here", so stay signed in.
  dialog.addEventListener("cancel", function (event) {
    if (!warningState.hidden) { event.preventDefault(); extend(); }
  });
  schedule(timeout);
});
