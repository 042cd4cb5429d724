// Upload progress for attachment forms (progressive enhancement: the form posts normally without it).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var field = input.closest(".field");
    var box = form.querySelector("[data-upload-progress]");
    var bar = box.querySelector("progress");
    var percent = box.querySelector("[data-upload-percent]");
    var errorBox = form.querySelector("[data-upload-error]");
    var button = form.querySelector("button[type=submit]");
    var maxSize = parseInt(form.getAttribute("data-max-size") || "0", 10);

    function showError(message) {
      errorBox.textContent = message;
      errorBox.hidden = false;
      field.classList.add("field-error");
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "attachment-file-hint " + errorBox.id);
      box.hidden = true;
      button.disabled = false;
      input.focus();
    }

    function clearError() {
      errorBox.hidden = true;
      field.classList.remove("field-error");
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", "attachment-file-hint");
    }

    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      clearError();
      var file = input.files && input.files[0];
      if (!file) { showError("Choose a file to upload."); return; }
      if (maxSize && file.size > maxSize) {
        showError("The file is larger than the limit of " + Math.floor(maxSize / 1048576) + " MB.");
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var value = Math.round((e.loaded / e.total) * 100);
        bar.value = value;
        percent.textContent = value + "% uploaded";
      });
      xhr.upload.addEventListener("load", function () {
        percent.textContent = "Encrypting and signing…";
      });
      xhr.addEventListener("load", function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (ignored) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300 && data && data.redirect) {
          percent.textContent = "Uploaded.";
          window.location.assign(data.redirect);
          return;
        }
        showError(data && data.error ? data.error.message
          : "The file could not be uploaded (error " + xhr.status + "). Reload the page and try again.");
      });
      xhr.addEventListener("error", function () {
        showError("The upload was interrupted. Check your connection and try again.");
      });
      bar.value = 0;
      percent.textContent = "0% uploaded";
      box.hidden = false;
      button.disabled = true;
      xhr.send(new FormData(form));
    });
  });
});
