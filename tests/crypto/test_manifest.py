"""Canonical manifests, Ed25519 signatures, and bundles verified by the real openssl binary."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from portal.crypto.keys import ed25519_public_pem, generate_ed25519_keypair
from portal.crypto.manifest import (
    ManifestError,
    SignatureError,
    canonical_manifest,
    sign_manifest,
    signature_bundle,
    verify_manifest,
)

FIELDS = {
    "attachment_id": "0b6f2f0e-6c1e-4a4e-9a52-2d7c3f1b9e10",
    "version": 3,
    "filename": "Dénial notice – Ⅻ.pdf",
    "media_type": "application/pdf",
    "size": 123456,
    "plaintext_sha256": "a" * 64,
    "ciphertext_sha256": "b" * 64,
    "uploader": {"user_id": 42, "state": "FR"},
    "uploaded_at": "2025-01-31T12:00:00Z",
    "audience": ["DE", "FR", "GB"],
    "withdrawn": False,
    "note": None,
}


def test_canonical_bytes_are_exact() -> None:
    assert canonical_manifest({"b": 1, "a": {"d": [1, "x"], "c": True}, "é": None}) == (
        '{"a":{"c":true,"d":[1,"x"]},"b":1,"é":null}'.encode()
    )


def test_canonical_is_deterministic_and_independent_of_key_order() -> None:
    reordered = dict(reversed(list(FIELDS.items())))
    reordered["uploader"] = {"state": "FR", "user_id": 42}
    assert canonical_manifest(FIELDS) == canonical_manifest(dict(FIELDS)) == canonical_manifest(reordered)


def test_canonical_is_utf8_not_escaped() -> None:
    encoded = canonical_manifest(FIELDS)
    assert "Dénial notice – Ⅻ.pdf".encode() in encoded
    assert b"\\u" not in encoded


@pytest.mark.parametrize(
    "bad",
    [
        {"size": 1.0},
        {"nested": {"x": [1, 2.5]}},
        {"nan": float("nan")},
        {1: "non-string key"},
        {"nested": {2: "x"}},
        {"when": object()},
        {"blob": b"bytes"},
        {"huge": 2**53},
        {"surrogate": "\ud800"},
    ],
)
def test_unencodable_fields_are_refused(bad: dict[object, object]) -> None:
    with pytest.raises(ManifestError):
        canonical_manifest(bad)  # type: ignore[arg-type]


def test_sign_and_verify() -> None:
    signer = generate_ed25519_keypair()
    manifest = canonical_manifest(FIELDS)
    signature = sign_manifest(signer.private, manifest)
    assert len(signature) == 64
    verify_manifest(signer.public, manifest, signature)


def test_tampered_manifest_fails() -> None:
    signer = generate_ed25519_keypair()
    manifest = canonical_manifest(FIELDS)
    signature = sign_manifest(signer.private, manifest)
    with pytest.raises(SignatureError):
        verify_manifest(signer.public, canonical_manifest({**FIELDS, "size": 123457}), signature)
    with pytest.raises(SignatureError):
        verify_manifest(signer.public, manifest + b" ", signature)
    flipped = bytearray(signature)
    flipped[10] ^= 1
    with pytest.raises(SignatureError):
        verify_manifest(signer.public, manifest, bytes(flipped))
    with pytest.raises(SignatureError):
        verify_manifest(signer.public, manifest, signature[:-1])


def test_other_signer_fails() -> None:
    manifest = canonical_manifest(FIELDS)
    signature = sign_manifest(generate_ed25519_keypair().private, manifest)
    with pytest.raises(SignatureError):
        verify_manifest(generate_ed25519_keypair().public, manifest, signature)
    with pytest.raises(SignatureError):
        verify_manifest(b"\x00" * 31, manifest, signature)


def make_bundle() -> tuple[bytes, bytes, bytes, bytes]:
    signer = generate_ed25519_keypair()
    manifest = canonical_manifest(FIELDS)
    signature = sign_manifest(signer.private, manifest)
    pem = ed25519_public_pem(signer.public)
    return signature_bundle(manifest, signature, pem), manifest, signature, pem


def test_bundle_contains_the_exact_signed_bytes() -> None:
    bundle, manifest, signature, pem = make_bundle()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        assert {"manifest.json", "manifest.sig", "signer.pem"} <= set(archive.namelist())
        assert archive.read("manifest.json") == manifest
        assert archive.read("manifest.sig") == signature
        assert archive.read("signer.pem") == pem
    assert signature_bundle(manifest, signature, pem) == bundle  # reproducible byte for byte


def test_bundle_refuses_a_signature_that_does_not_verify() -> None:
    _, manifest, signature, _ = make_bundle()
    other_pem = ed25519_public_pem(generate_ed25519_keypair().public)
    with pytest.raises(SignatureError):
        signature_bundle(manifest, signature, other_pem)


def _openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("openssl binary not on PATH")
    version = subprocess.run([path, "version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("OpenSSL"), version.stdout
    return path


def _openssl_verify(openssl: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", "signer.pem", "-rawin",
         "-in", "manifest.json", "-sigfile", "manifest.sig"],
        cwd=folder, capture_output=True, text=True, check=False,
    )


def test_bundle_verifies_with_stock_openssl(tmp_path: Path) -> None:
    openssl = _openssl()
    bundle, _, _, _ = make_bundle()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        archive.extractall(tmp_path)
    result = _openssl_verify(openssl, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout


def test_stock_openssl_rejects_a_tampered_manifest(tmp_path: Path) -> None:
    openssl = _openssl()
    bundle, _, _, _ = make_bundle()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        archive.extractall(tmp_path)
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"size":123456', b'"size":123457'))
    result = _openssl_verify(openssl, tmp_path)
    assert result.returncode != 0
    assert "Signature Verified Successfully" not in result.stdout
