// Security keys and passkeys: hands the server's options to navigator.credentials and posts the
// authenticator's answer back in the form's hidden "credential" field. The server checks
// everything (challenge, origin, key, counter); this file only converts between JSON and bytes.
"use strict";
(function () {
  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var raw = window.atob(base64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return window.btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, { id: toBytes(d.id) }); });
  }

  function creationOptions(o) {
    var options = Object.assign({}, o, { challenge: toBytes(o.challenge), excludeCredentials: descriptors(o.excludeCredentials) });
    options.user = Object.assign({}, o.user, { id: toBytes(o.user.id) });
    return { publicKey: options };
  }

  function requestOptions(o) {
    return { publicKey: Object.assign({}, o, { challenge: toBytes(o.challenge), allowCredentials: descriptors(o.allowCredentials) }) };
  }

  function answer(credential) {
    var r = credential.response, response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type, response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    });
  }

  function showError(form, message) {
    var box = form.querySelector("[data-webauthn-error]");
    if (box) { box.textContent = message; box.hidden = false; box.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!window.PublicKeyCredential || !navigator.credentials) {
          showError(form, "This browser cannot use security keys or passkeys.");
          return;
        }
        var name = form.querySelector("input[name=name]");
        if (name && !name.value.trim()) { showError(form, "Enter a name for the key first."); return; }
        var options = JSON.parse(form.getAttribute("data-options"));
        var ceremony = form.getAttribute("data-webauthn") === "create"
          ? navigator.credentials.create(creationOptions(options))
          : navigator.credentials.get(requestOptions(options));
        ceremony.then(function (credential) {
          form.querySelector("input[name=credential]").value = answer(credential);
          form.submit();
        }, function (error) {
          showError(form, error && error.name === "InvalidStateError"
            ? "This key is already registered."
            : "The key did not answer (it was cancelled or timed out). Try again.");
        });
      });
    });
  });
})();
