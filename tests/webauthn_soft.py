"""A software authenticator for server-side WebAuthn tests (the browser tests use Chromium's).

It answers the portal's options as a browser plus a security key would: attestation "none", a
P-256 key (ES256), clientDataJSON with the origin given, and a signature counter that can be
set, so tests can make clones, replay answers and sign for other origins. Test code only: the
portal itself verifies with the webauthn library.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

OPTIONS = re.compile(r'data-webauthn="(create|get)" data-options="([^"]*)"')


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def page_options(page_html: str, ceremony: str) -> dict[str, Any]:
    """The options a page hands its script (the data-options attribute of its WebAuthn form)."""
    for kind, raw in OPTIONS.findall(page_html):
        if kind == ceremony:
            return dict(json.loads(html.unescape(raw)))
    raise AssertionError(f"no {ceremony} options on the page")


@dataclass
class SoftKey:
    """One credential: its id, private key, the account's user handle and its counter."""

    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    user_handle: bytes = b""
    counter: int = 0

    def clone(self, counter: int) -> SoftKey:
        return SoftKey(self.credential_id, self.private_key, self.user_handle, counter)

    def _cose(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()

    def create(self, options: dict[str, Any], origin: str, *, rp_id: str | None = None) -> str:
        """The answer to navigator.credentials.create(options), as the page's script posts it."""
        self.user_handle = unb64url(options["user"]["id"])
        rp_hash = hashlib.sha256((rp_id or options["rp"]["id"]).encode()).digest()
        auth_data = (rp_hash + bytes([0x45]) + struct.pack(">I", self.counter) + bytes(16)
                     + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"], origin)),
                         "attestationObject": b64url(attestation), "transports": ["usb"]},
            "clientExtensionResults": {}, "authenticatorAttachment": "cross-platform",
        })

    def get(self, options: dict[str, Any], origin: str, *, rp_id: str | None = None,
            user_handle: bytes | None = None) -> str:
        """The answer to navigator.credentials.get(options); the counter goes up by one."""
        self.counter += 1
        rp_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        auth_data = rp_hash + bytes([0x05]) + struct.pack(">I", self.counter)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.private_key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature),
                         "userHandle": b64url(self.user_handle if user_handle is None else user_handle)},
            "clientExtensionResults": {}, "authenticatorAttachment": "cross-platform",
        })
