"""Files in a consultation: encrypted for the two states only (A, which denied, and B, which
consults), signed by the uploader's state, marked with the consultation's TLP, downloaded through
the one verified download path; everyone else gets 404."""
from __future__ import annotations

import io
import json
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.attachments import service as attachments
from portal.extensions import db
from portal.models import Attachment, AuditEntry
from tests.attachments.conftest import attachment_row, pdf_bytes, read_stored, wrap_owners, write_stored
from tests.attachments.test_bundle import openssl_verify
from tests.conftest import csrf_token
from tests.consultations.conftest import A, B, open_consultation, take_to
from tests.sharing.helpers import api_token, bearer

OPENSSL = shutil.which("openssl")


def page_upload(client: FlaskClient, consultation_id: uuid.UUID, data: bytes, filename: str, **kwargs: Any) -> Any:
    """The consultation page's form: CSRF token first, then the file."""
    token = csrf_token(client, f"/consultations/{consultation_id}")
    return client.post(f"/consultations/{consultation_id}/attachments",
                       data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", **kwargs)


def api_upload(app: Flask, account: Any, consultation_id: uuid.UUID, data: bytes, filename: str) -> Any:
    return app.test_client().post(f"/api/v1/consultations/{consultation_id}/attachments",
                                  data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data",
                                  headers=bearer(api_token(app, account)))


def files_of(app: Flask, consultation_id: uuid.UUID) -> list[Attachment]:
    with app.app_context():
        rows = list(db.session.scalars(select(Attachment).where(Attachment.consultation_id == consultation_id)
                                       .order_by(Attachment.created_at)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def audit_details(app: Flask, action: str) -> list[dict[str, Any]]:
    with app.app_context():
        rows = [e.details for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == action))]
        db.session.remove()
    return rows


@pytest.fixture
def consultation(app: Flask, world: Any) -> uuid.UUID:
    return open_consultation(app, world)


@pytest.fixture
def b_file(app: Flask, world: Any, consultation: uuid.UUID, login_as: Any) -> tuple[uuid.UUID, bytes]:
    """A file B's officer attached on the consultation page."""
    data = pdf_bytes(70_000)
    client = login_as(app.test_client(), world.people["b_officer"])
    response = page_upload(client, consultation, data, "zqconsultfile-end-user-statement.pdf")
    assert response.status_code == 303, response.get_data(as_text=True)
    [row] = files_of(app, consultation)
    return row.id, data


def test_both_states_attach_and_download_on_the_page(app: Flask, world: Any, consultation: uuid.UUID,
                                                     login_as: Any, b_file: Any) -> None:
    b_id, b_data = b_file
    a_data = pdf_bytes(5_000)
    a_client = login_as(app.test_client(), world.people["a_spoc"])
    response = page_upload(a_client, consultation, a_data, "licence-assessment.pdf",
                           headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json()["redirect"] == f"/consultations/{consultation}"
    b_row, a_row = files_of(app, consultation)
    assert b_row.id == b_id and a_row.id == uuid.UUID(response.get_json()["attachment"]["id"])
    # Wrapped for exactly the two states; signed by the uploader's state; marked like the consultation.
    assert wrap_owners(app, b_row.id) == wrap_owners(app, a_row.id) == {A, B}
    assert (b_row.signer_owner, a_row.signer_owner) == (B, A)
    assert b_row.tlp.value == a_row.tlp.value == "AMBER"
    assert b_row.item_id is None and b_row.item_version is None
    # Both states' SPOCs and officers list and download both files.
    for who in ("a_spoc", "a_officer", "b_spoc", "b_officer"):
        client = login_as(app.test_client(), world.people[who])
        page = client.get(f"/consultations/{consultation}").get_data(as_text=True)
        assert "zqconsultfile-end-user-statement.pdf" in page and "licence-assessment.pdf" in page
        assert "encrypted for the two states of this consultation only" in page
        got = client.get(f"/attachments/{b_id}")
        assert got.status_code == 200 and got.get_data() == b_data
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in got.headers["Content-Disposition"]
        assert client.get(f"/attachments/{a_row.id}").get_data() == a_data
    # The denial's own page does not list the consultation's files, even to the two states.
    denial_page = login_as(app.test_client(), world.people["a_spoc"]).get(f"/denials/{world.denial_id}")
    assert denial_page.status_code == 200 and "zqconsultfile" not in denial_page.get_data(as_text=True)
    # Audit: ids, counts and markings only.
    uploaded = audit_details(app, "attachment.uploaded")
    assert {d["consultation_id"] for d in uploaded} == {str(consultation)}
    assert all(d["wraps"] == 2 and "item_id" not in d for d in uploaded)
    assert all(d == {"consultation_id": str(consultation)} for d in audit_details(app, "attachment.downloaded"))


def test_both_states_attach_through_the_api(app: Flask, world: Any, consultation: uuid.UUID) -> None:
    data = pdf_bytes(9_000)
    created = api_upload(app, world.people["a_officer"], consultation, data, "position-paper.pdf")
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["consultation_id"] == str(consultation) and body["item_id"] is None
    assert body["signer"]["owner"] == A and body["tlp"] == "AMBER"
    assert created.headers["Location"] == f"/api/v1/attachments/{body['id']}"
    assert api_upload(app, world.people["b_spoc"], consultation, pdf_bytes(), "reply.pdf").status_code == 201
    b_headers = bearer(api_token(app, world.people["b_officer"]))
    client = app.test_client()
    listed = client.get(f"/api/v1/consultations/{consultation}/attachments", headers=b_headers).get_json()
    assert [a["filename"] for a in listed["attachments"]] == ["position-paper.pdf", "reply.pdf"]
    assert [a["signer"]["owner"] for a in listed["attachments"]] == [A, B]
    assert client.get(body["links"]["download"], headers=b_headers).get_data() == data
    for row in files_of(app, consultation):
        assert wrap_owners(app, row.id) == {A, B}


@pytest.mark.parametrize("who", ["c_officer", "outside_officer", "a_reader", "b_reader", "secretariat", "admin",
                                 "observer"])
def test_everyone_else_gets_404(app: Flask, world: Any, consultation: uuid.UUID, login_as: Any,
                                b_file: Any, who: str) -> None:
    b_id, _ = b_file
    client = login_as(app.test_client(), world.people[who])
    for url in (f"/attachments/{b_id}", f"/attachments/{b_id}/signature", f"/consultations/{consultation}"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client)
    refused = client.post(f"/consultations/{consultation}/attachments", content_type="multipart/form-data",
                          data={"csrf_token": token, "file": (io.BytesIO(pdf_bytes()), "x.pdf")})
    assert refused.status_code == 404
    if who != "admin":  # administrators hold no API tokens for content
        api = app.test_client()
        headers = bearer(api_token(app, world.people[who]))
        for url in (f"/api/v1/attachments/{b_id}", f"/api/v1/attachments/{b_id}/signature",
                    f"/api/v1/consultations/{consultation}/attachments"):
            assert api.get(url, headers=headers).status_code == 404, url
        assert api_upload(app, world.people[who], consultation, pdf_bytes(), "x.pdf").status_code == 404
    assert len(files_of(app, consultation)) == 1


def test_a_closed_consultation_takes_no_files_but_keeps_them(app: Flask, world: Any, consultation: uuid.UUID,
                                                             login_as: Any, b_file: Any) -> None:
    b_id, data = b_file
    take_to(app, world, consultation, "closed")
    client = login_as(app.test_client(), world.people["a_officer"])
    assert "Attach a file" not in client.get(f"/consultations/{consultation}").get_data(as_text=True)
    assert page_upload(client, consultation, pdf_bytes(), "late.pdf").status_code == 403
    refused = api_upload(app, world.people["b_officer"], consultation, pdf_bytes(), "late.pdf")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert client.get(f"/attachments/{b_id}").get_data() == data
    assert len(files_of(app, consultation)) == 1


def test_a_changed_byte_fails_the_integrity_check(app: Flask, world: Any, login_as: Any, b_file: Any) -> None:
    b_id, data = b_file
    stored = bytearray(read_stored(app, b_id))
    stored[len(stored) // 2] ^= 0x01
    write_stored(app, b_id, bytes(stored))
    client = login_as(app.test_client(), world.people["a_officer"])
    response = client.get(f"/attachments/{b_id}")
    assert response.status_code == 500
    assert b"This file failed its integrity check" in response.get_data()
    assert data[:32] not in response.get_data()
    api = app.test_client().get(f"/api/v1/attachments/{b_id}",
                                headers=bearer(api_token(app, world.people["b_spoc"])))
    assert api.status_code == 500 and api.get_json()["error"]["code"] == "integrity_check_failed"
    tampered = audit_details(app, "attachment.tamper_detected")
    assert len(tampered) == 2 and all(set(d) == {"consultation_id", "stage"} for d in tampered)


def test_a_manifest_naming_another_owner_fails(app: Flask, world: Any, login_as: Any, b_file: Any) -> None:
    """The signed manifest names the consultation: a record moved to another owner does not verify."""
    b_id, _ = b_file
    other = open_consultation(app, world, by="b_spoc")
    with app.app_context():
        row = db.session.get(Attachment, b_id)
        assert row is not None
        row.consultation_id = other
        db.session.commit()
        db.session.remove()
    client = login_as(app.test_client(), world.people["b_officer"])
    assert client.get(f"/attachments/{b_id}").status_code == 500


@pytest.mark.skipif(OPENSSL is None, reason="openssl binary not installed")
def test_the_signature_bundle_verifies_with_openssl(app: Flask, world: Any, login_as: Any, b_file: Any,
                                                    consultation: uuid.UUID, tmp_path: Path) -> None:
    b_id, _ = b_file
    client = login_as(app.test_client(), world.people["a_spoc"])
    response = client.get(f"/attachments/{b_id}/signature")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(response.get_data()))
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["consultation_id"] == str(consultation) and manifest["denial_id"] == str(world.denial_id)
    assert "item_id" not in manifest and "item_version" not in manifest
    assert manifest["signer"] == B and manifest["tlp"] == "AMBER"
    assert manifest["format"] == "echri-attachment-manifest/1"
    keys = client.get("/keys").get_json()["keys"]
    published = [k for k in keys if k["owner"] == B and k["purpose"] == "signing"]
    assert published and published[0]["public_key_pem"] == bundle.read("signer.pem").decode()
    result = openssl_verify(bundle, tmp_path / "good")
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout
    assert attachment_row(app, b_id).manifest == bundle.read("manifest.json")


def test_the_wrap_sync_leaves_consultation_files_to_the_two_states(app: Flask, world: Any, b_file: Any) -> None:
    b_id, _ = b_file
    with app.app_context():
        assert attachments.sync_all(db.session) == (0, 0)
        db.session.remove()
    assert wrap_owners(app, b_id) == {A, B}


def test_rotating_a_states_keys_rewraps_consultation_files(app: Flask, world: Any, login_as: Any,
                                                           b_file: Any) -> None:
    """Key rotation is owner-agnostic: B's new HPKE key opens the file, B's old signature still verifies."""
    from portal.keys import service as keys

    b_id, data = b_file
    with app.app_context():
        assert keys.rotate_owner(db.session, B).rewrapped == 1
        db.session.remove()
    client = login_as(app.test_client(), world.people["b_spoc"])
    assert client.get(f"/attachments/{b_id}").get_data() == data
    assert attachment_row(app, b_id).signer_key_version == 1
