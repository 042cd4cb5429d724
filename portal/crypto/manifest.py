"""Canonical attachment manifests, Ed25519 signatures and offline-verifiable signature bundles.

The signature covers the exact manifest bytes, and those bytes travel with it (stored next to
the attachment, and as ``manifest.json`` in the bundle), so verification never depends on
re-serialising JSON the same way. Canonical encoding only makes the bytes reproducible from
the same fields: keys sorted, no whitespace, UTF-8, and no floats (their text form is not
stable across languages). Integers are limited to +/-(2**53 - 1) so JavaScript and other
IEEE-double JSON parsers read the same numbers.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from portal.crypto.errors import ManifestError, SignatureError

__all__ = [
    "BUNDLE_MANIFEST",
    "BUNDLE_README",
    "BUNDLE_SIGNATURE",
    "BUNDLE_SIGNER",
    "SIGNATURE_SIZE",
    "ManifestError",
    "SignatureError",
    "canonical_manifest",
    "sign_manifest",
    "signature_bundle",
    "verify_manifest",
]

SIGNATURE_SIZE = 64
BUNDLE_MANIFEST = "manifest.json"
BUNDLE_SIGNATURE = "manifest.sig"
BUNDLE_SIGNER = "signer.pem"
BUNDLE_README = "VERIFY.txt"
_MAX_SAFE_INT = 2**53 - 1
_MAX_DEPTH = 16

_README = (
    "ECHRI Portal attachment signature bundle\n"
    "\n"
    "manifest.json  the exact bytes the originating state signed\n"
    "manifest.sig   raw 64-byte Ed25519 signature over manifest.json\n"
    "signer.pem     the signer's Ed25519 public key (compare its fingerprint with the register)\n"
    "\n"
    "Verify with OpenSSL 3.0 or later:\n"
    "  openssl pkeyutl -verify -pubin -inkey signer.pem -rawin -in manifest.json -sigfile manifest.sig\n"
    "Expected output: Signature Verified Successfully\n"
    "\n"
    "Then check that sha256 of the downloaded file equals plaintext_sha256 in manifest.json:\n"
    "  openssl dgst -sha256 <file>\n"
)

# Fixed timestamp so the same manifest and signature always give byte-identical bundles.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _check(value: Any, path: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ManifestError(f"manifest nested deeper than {_MAX_DEPTH} levels at {path}")
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            raise ManifestError(f"integer at {path} is outside the interoperable range +/-(2**53-1)")
        return
    if isinstance(value, float):
        raise ManifestError(f"float at {path}: manifests allow only integers (floats do not serialise canonically)")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                # json.dumps would silently turn 1 and "1" into the same key.
                raise ManifestError(f"non-string key {key!r} at {path}")
            _check(item, f"{path}.{key}", depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]", depth + 1)
        return
    raise ManifestError(f"unsupported type {type(value).__name__} at {path}; convert it to str or int first")


def canonical_manifest(fields: Mapping[str, Any]) -> bytes:
    """Encode manifest fields as deterministic JSON bytes (sorted keys, compact, UTF-8, no floats)."""
    if not isinstance(fields, Mapping):
        raise ManifestError("manifest must be a mapping")
    _check(fields, "$", 0)
    text = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ManifestError("manifest contains a string that is not valid Unicode (lone surrogate)") from None


def sign_manifest(ed25519_private_raw: bytes, manifest_bytes: bytes) -> bytes:
    """Sign manifest bytes with a raw Ed25519 private key; return the raw 64-byte signature."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(ed25519_private_raw).sign(manifest_bytes)


def verify_manifest(ed25519_public_raw: bytes, manifest_bytes: bytes, signature: bytes) -> None:
    """Verify a manifest signature with a raw Ed25519 public key; raise SignatureError if invalid."""
    try:
        public_key = ed25519.Ed25519PublicKey.from_public_bytes(ed25519_public_raw)
    except ValueError:
        raise SignatureError("signer public key is not a valid Ed25519 key") from None
    if len(signature) != SIGNATURE_SIZE:
        raise SignatureError(f"signature must be {SIGNATURE_SIZE} bytes")
    try:
        public_key.verify(signature, manifest_bytes)
    except InvalidSignature:
        raise SignatureError("manifest signature does not verify") from None


def signature_bundle(manifest_bytes: bytes, signature: bytes, signer_public_pem: bytes) -> bytes:
    """Build a ZIP holding manifest.json, manifest.sig, signer.pem and VERIFY.txt for offline checks."""
    try:
        public_key = serialization.load_pem_public_key(signer_public_pem)
    except ValueError:
        raise SignatureError("signer public key is not a PEM public key") from None
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise SignatureError("signer public key is not an Ed25519 key")
    # Refusing to package a bundle that fails would otherwise surface only when a recipient
    # checks it offline, far from the bug that produced it.
    verify_manifest(public_key.public_bytes_raw(), manifest_bytes, signature)

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as bundle:
        for name, data in (
            (BUNDLE_MANIFEST, manifest_bytes),
            (BUNDLE_SIGNATURE, signature),
            (BUNDLE_SIGNER, signer_public_pem),
            (BUNDLE_README, _README.encode("ascii")),
        ):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            bundle.writestr(info, data)
    return out.getvalue()
