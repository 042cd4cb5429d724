"""The signature bundle verifies offline with the stock OpenSSL command shown in the README."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portal.models import Role
from tests.attachments.conftest import pdf_bytes

OPENSSL = shutil.which("openssl")


def _bundle(app: Flask, client: Any, attachment_id: Any) -> zipfile.ZipFile:
    response = client.get(f"/attachments/{attachment_id}/signature")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert "signature.zip" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def test_bundle_contents_describe_the_file(app: Flask, make_user: Any, login_as: Any, make_item: Any,
                                           store: Any) -> None:
    data = pdf_bytes(70_000)
    item_id = make_item(countries=["NO"])
    attachment_id = store(item_id, data, "evidence.pdf")
    client = app.test_client()
    login_as(client, make_user(Role.READER, "NO"))
    bundle = _bundle(app, client, attachment_id)
    assert sorted(bundle.namelist()) == ["VERIFY.txt", "manifest.json", "manifest.sig", "signer.pem"]
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["attachment_id"] == str(attachment_id)
    assert manifest["item_id"] == str(item_id)
    assert manifest["item_version"] == 2  # a file added after publication comes with version 2
    assert manifest["filename"] == "evidence.pdf"
    assert manifest["media_type"] == "application/pdf"
    assert manifest["size"] == len(data)
    assert manifest["plaintext_sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["signer"] == "DK" and manifest["signing_key_version"] == 1
    assert manifest["tlp"] == "AMBER"
    assert len(bundle.read("manifest.sig")) == 64
    assert "openssl pkeyutl -verify" in bundle.read("VERIFY.txt").decode()
    # The signer's key is the one published for Denmark at /keys.
    keys = client.get("/keys").get_json()["keys"]
    published = [k for k in keys if k["owner"] == "DK" and k["purpose"] == "signing" and k["version"] == 1]
    assert published and published[0]["public_key_pem"] == bundle.read("signer.pem").decode()
    assert manifest["signing_key_fingerprint"] == published[0]["fingerprint"]


def openssl_verify(bundle: zipfile.ZipFile, folder: Path) -> subprocess.CompletedProcess[str]:
    """The exact command from the README, run by the real openssl binary."""
    bundle.extractall(folder)
    return subprocess.run(
        [OPENSSL or "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signer.pem", "-rawin",
         "-in", "manifest.json", "-sigfile", "manifest.sig"],
        cwd=folder, capture_output=True, text=True, check=False)


@pytest.mark.skipif(OPENSSL is None, reason="openssl binary not installed")
def test_openssl_verifies_the_bundle_and_rejects_a_changed_manifest(app: Flask, make_user: Any, login_as: Any,
                                                                   make_item: Any, store: Any,
                                                                   tmp_path: Path) -> None:
    attachment_id = store(make_item(countries=["NO"]), pdf_bytes(), "evidence.pdf")
    client = app.test_client()
    login_as(client, make_user(Role.OFFICER, "NO"))
    bundle = _bundle(app, client, attachment_id)

    result = openssl_verify(bundle, tmp_path / "good")
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout

    bad = tmp_path / "bad"
    bundle.extractall(bad)
    manifest = (bad / "manifest.json").read_bytes().replace(b"evidence.pdf", b"evidencf.pdf")
    (bad / "manifest.json").write_bytes(manifest)
    result = subprocess.run(
        [OPENSSL or "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signer.pem", "-rawin",
         "-in", "manifest.json", "-sigfile", "manifest.sig"],
        cwd=bad, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "Signature Verification Failure" in result.stdout + result.stderr


def test_downloaded_file_matches_the_signed_digest(app: Flask, make_user: Any, login_as: Any, make_item: Any,
                                                   store: Any) -> None:
    data = pdf_bytes(200_000)
    attachment_id = store(make_item(countries=["NO"]), data)
    client = app.test_client()
    login_as(client, make_user(Role.OFFICER, "NO"))
    manifest = json.loads(_bundle(app, client, attachment_id).read("manifest.json"))
    downloaded = client.get(f"/attachments/{attachment_id}").get_data()
    assert hashlib.sha256(downloaded).hexdigest() == manifest["plaintext_sha256"]
