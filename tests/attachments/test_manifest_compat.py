"""Item manifests keep their exact shape and bytes now that a file may also belong to a
consultation: signatures made before keep verifying, and offline verifiers see no new fields."""
from __future__ import annotations

import json
from typing import Any

from flask import Flask

from portal.crypto.manifest import canonical_manifest
from portal.models import Role
from tests.attachments.conftest import attachment_row, pdf_bytes

# Every field an item attachment's manifest has held since the first release, and only those.
ITEM_MANIFEST_KEYS = {
    "format", "attachment_id", "item_id", "item_kind", "item_version", "filename", "media_type", "size",
    "plaintext_sha256", "ciphertext_size", "ciphertext_sha256", "chunk_size", "tlp", "uploaded_by",
    "uploader_name", "uploaded_at", "signer", "signing_key_version", "signing_key_fingerprint",
}

ITEM_FIELDS: dict[str, Any] = {
    "format": "echri-attachment-manifest/1",
    "attachment_id": "5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5", "item_id": "0b6f2f0e-6c1e-4a4e-9a52-2d7c3f1b9e10",
    "item_kind": "threat_notice", "item_version": 2, "filename": "Dénial notice.pdf", "media_type": "application/pdf",
    "size": 123456, "plaintext_sha256": "a" * 64, "ciphertext_size": 123552, "ciphertext_sha256": "b" * 64,
    "chunk_size": 65536, "tlp": "AMBER", "uploaded_by": "9d3c2b1a-0f9e-4d8c-b7a6-958473625140",
    "uploader_name": "Ana Example", "uploaded_at": "2026-11-30T12:00:00+00:00",
    "signer": "DK", "signing_key_version": 1, "signing_key_fingerprint": "c" * 64,
}

# The bytes the first release produced for ITEM_FIELDS (a signature over them must keep verifying).
ITEM_BYTES = (
    '{"attachment_id":"5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5","chunk_size":65536,"ciphertext_sha256":"' + "b" * 64
    + '","ciphertext_size":123552,"filename":"Dénial notice.pdf","format":"echri-attachment-manifest/1",'
    '"item_id":"0b6f2f0e-6c1e-4a4e-9a52-2d7c3f1b9e10","item_kind":"threat_notice","item_version":2,'
    '"media_type":"application/pdf","plaintext_sha256":"' + "a" * 64 + '","signer":"DK","signing_key_fingerprint":"'
    + "c" * 64 + '","signing_key_version":1,"size":123456,"tlp":"AMBER","uploaded_at":"2026-11-30T12:00:00+00:00",'
    '"uploaded_by":"9d3c2b1a-0f9e-4d8c-b7a6-958473625140","uploader_name":"Ana Example"}'
).encode()


def test_item_manifest_bytes_are_unchanged() -> None:
    assert canonical_manifest(ITEM_FIELDS) == ITEM_BYTES


def test_item_manifest_has_exactly_the_fields_it_always_had(app: Flask, make_item: Any, store: Any,
                                                           make_user: Any, login_as: Any) -> None:
    attachment_id = store(make_item(countries=["NO"]), pdf_bytes(), "evidence.pdf")
    fields = json.loads(attachment_row(app, attachment_id).manifest)
    assert set(fields) == ITEM_MANIFEST_KEYS
    assert fields["format"] == "echri-attachment-manifest/1"
    assert canonical_manifest(fields) == attachment_row(app, attachment_id).manifest
    client = app.test_client()
    login_as(client, make_user(Role.OFFICER, "NO"))
    assert client.get(f"/attachments/{attachment_id}").status_code == 200
