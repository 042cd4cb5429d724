"""The attachment endpoints of /api/v1, with personal API tokens and the same rules as the pages."""
from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import pytest
from flask import Flask

from portal.extensions import db
from portal.models import Role, User
from tests.attachments.conftest import (
    count_attachments,
    pdf_bytes,
    read_stored,
    stored_files,
    wrap_owners,
    write_stored,
)
from tests.conftest import audit_actions

tokens = pytest.importorskip("portal.api.tokens", reason="personal API tokens (portal.api.tokens) not available yet")


@pytest.fixture
def bearer(app: Flask) -> Any:
    """bearer(account) -> Authorization headers with a fresh personal API token."""

    def make(account: Any) -> dict[str, str]:
        with app.app_context():
            token = tokens.create_token(db.session, db.session.get(User, account.id), "attachments test", 30)
            db.session.remove()
        return {"Authorization": f"Bearer {token}"}

    return make


def _post(client: Any, headers: dict[str, str], item_id: Any, data: bytes, filename: str,
          kind: str = "threat-notices") -> Any:
    return client.post(f"/api/v1/{kind}/{item_id}/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def test_api_upload_download_and_signature(app: Flask, client: Any, bearer: Any, spoc: Any, make_user: Any,
                                           make_item: Any) -> None:
    item_id = make_item(countries=["NO"])
    data = pdf_bytes(140_000)
    response = _post(client, bearer(spoc), item_id, data, "report.pdf")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    attachment_id = body["id"]
    assert body["filename"] == "report.pdf" and body["media_type"] == "application/pdf"
    assert body["size"] == len(data) and body["item_id"] == str(item_id) and body["tlp"] == "AMBER"
    assert response.headers["Location"] == f"/api/v1/attachments/{attachment_id}"
    assert wrap_owners(app, uuid.UUID(attachment_id)) == {"DK", "NO"}

    reader = bearer(make_user(Role.READER, "NO"))
    response = client.get(body["links"]["download"], headers=reader)
    assert response.status_code == 200 and response.get_data() == data
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="report.pdf"')
    response = client.get(body["links"]["signature"], headers=reader)
    assert response.status_code == 200
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()


def test_api_non_audience_gets_404(app: Flask, client: Any, bearer: Any, spoc: Any, make_user: Any,
                                   make_item: Any, store: Any) -> None:
    item_id = make_item(countries=["NO"])
    attachment_id = store(item_id, pdf_bytes())
    outsider = bearer(make_user(Role.SPOC, "FI"))
    for url in (f"/api/v1/attachments/{attachment_id}", f"/api/v1/attachments/{attachment_id}/signature"):
        response = client.get(url, headers=outsider)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert _post(client, outsider, item_id, pdf_bytes(), "a.pdf").status_code == 404
    assert client.get(f"/api/v1/attachments/{attachment_id}").status_code == 401  # no token


def test_api_upload_rules(app: Flask, client: Any, bearer: Any, spoc: Any, make_user: Any, make_item: Any) -> None:
    item_id = make_item(countries=["NO"])
    headers = bearer(spoc)
    # The kind in the URL must be the item's.
    assert _post(client, headers, item_id, pdf_bytes(), "a.pdf", kind="denials").status_code == 404
    assert _post(client, headers, item_id, pdf_bytes(), "a.pdf", kind="nonsense").status_code == 404
    # Not the originator's point of contact.
    response = _post(client, bearer(make_user(Role.SPOC, "NO")), item_id, pdf_bytes(), "a.pdf")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    # Content that does not match the name.
    response = _post(client, headers, item_id, b"<html><script>x</script></html>", "a.pdf")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_type"
    # Too large.
    app.config["ATTACHMENT_MAX_SIZE"] = 100_000
    response = _post(client, headers, item_id, pdf_bytes(100_001), "a.pdf")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"
    # No file field.
    response = client.post(f"/api/v1/threat-notices/{item_id}/attachments", headers=headers,
                           data={"other": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_upload"
    assert count_attachments(app) == 0
    assert stored_files(app) == []


def test_api_tampered_file_gives_json_error_and_audit(app: Flask, client: Any, bearer: Any, make_user: Any,
                                                      make_item: Any, store: Any) -> None:
    attachment_id = store(make_item(countries=["NO"]), pdf_bytes(100_000))
    write_stored(app, attachment_id, read_stored(app, attachment_id)[:-1])
    response = client.get(f"/api/v1/attachments/{attachment_id}", headers=bearer(make_user(Role.OFFICER, "NO")))
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "integrity_check_failed"
    assert b"%PDF" not in response.get_data()
    assert "attachment.tamper_detected" in audit_actions(app, attachment_id)
