"""Uploading through the page, downloading as the audience, and everyone else getting nothing."""
from __future__ import annotations

import io
import os
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask

from portal.attachments.download import NoWrapForOwner
from portal.models import Role
from tests.attachments.conftest import (
    count_attachments,
    decrypt_as_owner,
    pdf_bytes,
    stored_files,
    upload,
    wrap_owners,
)
from tests.conftest import audit_actions


def _only_attachment_id(app: Flask) -> Any:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Attachment

    with app.app_context():
        ids = db.session.scalars(select(Attachment.id)).all()
        db.session.remove()
    assert len(ids) == 1
    return ids[0]


def test_upload_and_download_roundtrip(app: Flask, client: Any, login_as: Any, make_user: Any, spoc: Any,
                                       make_item: Any) -> None:
    item_id = make_item(countries=["NO", "FR"])
    data = pdf_bytes(3 * 65536 + 123)  # several STREAM chunks
    login_as(client, spoc)
    response = upload(client, item_id, data, "Field report.pdf")
    assert response.status_code == 303, response.get_data(as_text=True)
    attachment_id = _only_attachment_id(app)
    assert wrap_owners(app, attachment_id) == {"DK", "NO", "FR"}
    assert "attachment.uploaded" in audit_actions(app, attachment_id)

    reader = make_user(Role.READER, "NO")
    other = app.test_client()
    login_as(other, reader)
    response = other.get(f"/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.get_data() == data
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Length"] == str(len(data))
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Field report.pdf"')
    assert "filename*=UTF-8''Field%20report.pdf" in disposition
    assert "attachment.downloaded" in audit_actions(app, attachment_id)

    # The originating state reads it through its own wrap too.
    assert client.get(f"/attachments/{attachment_id}").get_data() == data


def test_upload_with_javascript_gets_json(app: Flask, client: Any, login_as: Any, spoc: Any, make_item: Any) -> None:
    item_id = make_item()
    login_as(client, spoc)
    response = upload(client, item_id, b"name,score\nalpha,1\n", "scores.csv", headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["attachment"]["filename"] == "scores.csv"
    assert "redirect" in body


def test_non_audience_state_gets_404_and_has_no_wrap(app: Flask, make_user: Any, login_as: Any, make_item: Any,
                                                     store: Any) -> None:
    item_id = make_item(countries=["NO"])
    data = pdf_bytes()
    attachment_id = store(item_id, data)
    for role in (Role.SPOC, Role.OFFICER, Role.READER):
        client = app.test_client()
        login_as(client, make_user(role, "FI"))
        assert client.get(f"/attachments/{attachment_id}").status_code == 404
        assert client.get(f"/attachments/{attachment_id}/signature").status_code == 404
    admin = app.test_client()
    login_as(admin, make_user(Role.ADMIN, None))
    assert admin.get(f"/attachments/{attachment_id}").status_code == 404
    # Even below every access check, Finland has nothing to decrypt with.
    with pytest.raises(NoWrapForOwner):
        decrypt_as_owner(app, attachment_id, "FI")
    with pytest.raises(NoWrapForOwner):
        decrypt_as_owner(app, attachment_id, "SECRETARIAT")
    assert decrypt_as_owner(app, attachment_id, "NO") == data


def test_secretariat_reads_through_its_own_wrap(app: Flask, make_user: Any, login_as: Any, make_item: Any,
                                                store: Any) -> None:
    item_id = make_item(countries=["NO"], secretariat=True)
    data = pdf_bytes()
    attachment_id = store(item_id, data)
    assert "SECRETARIAT" in wrap_owners(app, attachment_id)
    client = app.test_client()
    login_as(client, make_user(Role.SECRETARIAT, None))
    assert client.get(f"/attachments/{attachment_id}").get_data() == data


def test_observer_state_reads_only_clear_and_green(app: Flask, make_user: Any, login_as: Any, make_item: Any,
                                                   store: Any) -> None:
    from portal.countries import service as countries
    from portal.extensions import db
    from portal.models import CountryStatus

    with app.app_context():
        countries.add_country(db.session, _admin(app, make_user), code="CR", name="Costa Rica",
                              status=CountryStatus.OBSERVER, endorsed_on=None)
        db.session.remove()
    item_id = make_item(countries=[], tlp="GREEN", observers=True)
    data = b"plain text for observers\n"
    attachment_id = store(item_id, data, "notes.txt")
    assert wrap_owners(app, attachment_id) == {"DK", "CR"}
    client = app.test_client()
    login_as(client, make_user(Role.READER, "CR"))
    response = client.get(f"/attachments/{attachment_id}")
    assert response.get_data() == data
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def _admin(app: Flask, make_user: Any) -> Any:
    from portal.extensions import db
    from portal.models import User

    account = make_user(Role.ADMIN, None)
    return db.session.get(User, account.id)


def test_reader_of_audience_state_cannot_read_red_files(app: Flask, make_user: Any, login_as: Any, make_item: Any,
                                                        store: Any) -> None:
    item_id = make_item(countries=["NO"], tlp="RED")
    attachment_id = store(item_id, pdf_bytes())
    reader = app.test_client()
    login_as(reader, make_user(Role.READER, "NO"))
    assert reader.get(f"/attachments/{attachment_id}").status_code == 404
    officer = app.test_client()
    login_as(officer, make_user(Role.OFFICER, "NO"))
    assert officer.get(f"/attachments/{attachment_id}").status_code == 200


def test_only_the_originator_attaches(app: Flask, make_user: Any, login_as: Any, make_item: Any) -> None:
    item_id = make_item(countries=["NO"])
    officer_dk = app.test_client()
    login_as(officer_dk, make_user(Role.OFFICER, "DK"))  # published items: the SPOC only
    assert upload(officer_dk, item_id, pdf_bytes(), "a.pdf").status_code == 403
    spoc_no = app.test_client()
    login_as(spoc_no, make_user(Role.SPOC, "NO"))  # sees the item, is not its originator
    assert upload(spoc_no, item_id, pdf_bytes(), "a.pdf").status_code == 403
    spoc_fi = app.test_client()
    login_as(spoc_fi, make_user(Role.SPOC, "FI"))  # does not see it at all
    assert upload(spoc_fi, item_id, pdf_bytes(), "a.pdf").status_code == 404
    draft_id = make_item(countries=["NO"], publish=False)
    assert upload(officer_dk, draft_id, pdf_bytes(), "a.pdf").status_code == 303  # drafts: editors too
    assert count_attachments(app) == 1


def test_upload_without_csrf_token_is_refused(app: Flask, client: Any, login_as: Any, spoc: Any,
                                              make_item: Any) -> None:
    item_id = make_item()
    login_as(client, spoc)
    response = client.post(f"/items/{item_id}/attachments", data={"file": (io.BytesIO(pdf_bytes()), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert count_attachments(app) == 0
    assert stored_files(app) == []


def test_oversized_upload_is_413_and_leaves_nothing(app: Flask, client: Any, login_as: Any, spoc: Any,
                                                    make_item: Any) -> None:
    app.config["ATTACHMENT_MAX_SIZE"] = 256 * 1024
    item_id = make_item()
    login_as(client, spoc)
    # Within the request ceiling, so the limit is enforced while the file streams through.
    response = upload(client, item_id, pdf_bytes(256 * 1024 + 1), "big.pdf")
    assert response.status_code == 413
    assert "larger than the limit" in response.get_data(as_text=True)
    # Beyond the request ceiling (limit + framing): refused from the Content-Length alone.
    response = upload(client, item_id, pdf_bytes(3 * 1024 * 1024), "bigger.pdf")
    assert response.status_code == 413
    assert count_attachments(app) == 0
    assert stored_files(app) == []
    # Exactly at the limit is fine.
    assert upload(client, item_id, pdf_bytes(256 * 1024), "fits.pdf").status_code == 303


def test_chunked_oversized_upload_is_413(app: Flask, client: Any, login_as: Any, spoc: Any, make_item: Any) -> None:
    """A body without Content-Length (chunked) is cut off at the limit while streaming."""
    from werkzeug.test import EnvironBuilder

    from tests.conftest import csrf_token

    app.config["ATTACHMENT_MAX_SIZE"] = 128 * 1024
    item_id = make_item()
    login_as(client, spoc)
    token = csrf_token(client)
    builder = EnvironBuilder(method="POST", data={"csrf_token": token, "file": (io.BytesIO(pdf_bytes(400 * 1024)), "x.pdf")})
    environ = builder.get_environ()
    body = environ["wsgi.input"].read()
    response = client.post(f"/items/{item_id}/attachments", input_stream=io.BytesIO(body),
                           content_type=environ["CONTENT_TYPE"],
                           environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert response.status_code == 413
    assert count_attachments(app) == 0
    assert stored_files(app) == []


@pytest.mark.parametrize(("content", "name"), [
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "tool.pdf"),  # an executable renamed
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "page.pdf"),  # HTML renamed
    (b"<html><body onload=alert(1)></body></html>", "notes.txt"),  # HTML posing as text
    (b"%PDF-1.7 but named as a picture", "photo.png"),  # content and name disagree
    (b"MZ\x90\x00\x03" + b"\x00" * 100, "setup.exe"),  # type not allowed at all
    (b"", "empty.pdf"),
])
def test_disallowed_types_are_refused_and_nothing_stored(app: Flask, client: Any, login_as: Any, spoc: Any,
                                                         make_item: Any, content: bytes, name: str) -> None:
    item_id = make_item()
    login_as(client, spoc)
    response = upload(client, item_id, content, name)
    assert response.status_code == 415
    text = response.get_data(as_text=True)
    assert "This type of file is not accepted" in text and "Nothing was saved" in text
    assert count_attachments(app) == 0
    assert stored_files(app) == []


@pytest.mark.parametrize(("content", "name", "media_type"), [
    (b"PK\x03\x04" + os.urandom(200), "minutes.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"PK\x03\x04" + os.urandom(200), "bundle.zip", "application/zip"),
    (bytes.fromhex("D0CF11E0A1B11AE1") + os.urandom(200), "old.xls", "application/vnd.ms-excel"),
    (b"\x89PNG\r\n\x1a\n" + os.urandom(100), "map.png", "image/png"),
    (b"\xff\xd8\xff\xe0" + os.urandom(100), "photo.JPG", "image/jpeg"),
    (b"GIF89a" + os.urandom(100), "anim.gif", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 " + os.urandom(100), "pic.webp", "image/webp"),
    ("Zeugnis für Ärzte – naïve café\n".encode(), "notes.txt", "text/plain"),
])
def test_allowed_types_are_detected_from_content(app: Flask, make_item: Any, store: Any, content: bytes, name: str,
                                                 media_type: str) -> None:
    from tests.attachments.conftest import attachment_row

    attachment_id = store(make_item(), content, name)
    assert attachment_row(app, attachment_id).media_type == media_type


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("rep\x00ort\x1b[31m.txt", "report[31m.txt"),
    ("invoice\u202etxt.exe.txt", "invoicetxt.exe.txt"),  # right-to-left override removed
    ("  ..hidden.txt  ", "hidden.txt"),
    ("a<b>c:d|e?*.txt", "a_b_c_d_e__.txt"),
    ("CON.txt", "_CON.txt"),
])
def test_file_names_are_sanitised(app: Flask, client: Any, login_as: Any, spoc: Any, make_item: Any, raw: str,
                                  expected: str) -> None:
    from tests.attachments.conftest import attachment_row

    item_id = make_item()
    login_as(client, spoc)
    assert upload(client, item_id, b"plain words\n", raw).status_code == 303
    row = attachment_row(app, _only_attachment_id(app))
    assert row.filename == expected
    response = client.get(f"/attachments/{row.id}")
    disposition = response.headers["Content-Disposition"]
    assert "/" not in unquote(disposition.split("filename*=UTF-8''")[1])
    assert "\r" not in disposition and "\n" not in disposition
    # Stored under a server-generated name, never the user's.
    files = stored_files(app)
    assert len(files) == 1 and expected not in files[0] and files[0].endswith(".enc")


def test_unicode_file_name_gets_rfc6266_header(app: Flask, client: Any, login_as: Any, spoc: Any,
                                               make_item: Any) -> None:
    item_id = make_item()
    login_as(client, spoc)
    assert upload(client, item_id, b"x\n", "Übersicht März (v2).txt").status_code == 303
    row_id = _only_attachment_id(app)
    disposition = client.get(f"/attachments/{row_id}").headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Ubersicht Marz (v2).txt"; filename*=UTF-8\'\'')
    assert unquote(disposition.split("''", 1)[1]) == "Übersicht März (v2).txt"


def test_failed_write_leaves_no_row_and_no_file(app: Flask, make_item: Any, spoc: Any) -> None:
    """A source that breaks mid-stream (a dropped connection) leaves neither a temporary file nor a row."""
    from portal.attachments import service
    from portal.extensions import db
    from portal.models import Item, User

    class Broken(io.BytesIO):
        def readinto(self, view: Any) -> int:
            if self.tell() > 200_000:
                raise OSError("client went away")
            return super().readinto(view)

    item_id = make_item()
    with app.app_context():
        with pytest.raises(OSError):
            service.store_attachment(db.session, db.session.get(User, spoc.id), db.session.get(Item, item_id),
                                     "a.pdf", Broken(pdf_bytes(1_000_000)))
        db.session.remove()
    assert count_attachments(app) == 0
    assert stored_files(app) == []


def test_attachments_for_lists_what_the_user_may_open(app: Flask, make_user: Any, make_item: Any, store: Any) -> None:
    from portal.attachments.service import attachments_for
    from portal.extensions import db
    from portal.models import Item, User

    item_id = make_item(countries=["NO"], tlp="RED")
    first = store(item_id, pdf_bytes(), "one.pdf")
    second = store(item_id, b"two\n", "two.txt")
    officer, reader, outsider = make_user(Role.OFFICER, "NO"), make_user(Role.READER, "NO"), make_user(Role.SPOC, "FI")
    with app.app_context():
        item = db.session.get(Item, item_id)
        listed = lambda account: [a.id for a in attachments_for(db.session, db.session.get(User, account.id), item)]
        assert listed(officer) == [first, second]
        assert listed(reader) == []  # RED: not for readers
        assert listed(outsider) == []
        db.session.remove()
