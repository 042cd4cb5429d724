"""Every kind of tampering gives an error page, an audit entry and not one byte of the file."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from portal.crypto.stream import CHUNK_SIZE, HEADER_SIZE, TAG_SIZE
from portal.extensions import db
from portal.models import Attachment, AttachmentKeyWrap, Role
from tests.attachments.conftest import attachment_row, delete_stored, pdf_bytes, read_stored, write_stored
from tests.conftest import audit_actions

BLOCK = CHUNK_SIZE + TAG_SIZE


def _flip_byte(app: Flask, attachment_id: Any, other: Any) -> None:
    data = bytearray(read_stored(app, attachment_id))
    data[HEADER_SIZE + 1000] ^= 0x01
    write_stored(app, attachment_id, bytes(data))


def _truncate(app: Flask, attachment_id: Any, other: Any) -> None:
    data = read_stored(app, attachment_id)
    write_stored(app, attachment_id, data[:HEADER_SIZE + 2 * BLOCK])  # cut cleanly at a chunk boundary


def _reorder(app: Flask, attachment_id: Any, other: Any) -> None:
    data = read_stored(app, attachment_id)
    first = data[HEADER_SIZE:HEADER_SIZE + BLOCK]
    second = data[HEADER_SIZE + BLOCK:HEADER_SIZE + 2 * BLOCK]
    write_stored(app, attachment_id, data[:HEADER_SIZE] + second + first + data[HEADER_SIZE + 2 * BLOCK:])


def _swap_wrap(app: Flask, attachment_id: Any, other: Any) -> None:
    """Norway's wrap of another attachment copied onto this one."""
    with app.app_context():
        foreign = db.session.get(AttachmentKeyWrap, (other, "NO"))
        assert foreign is not None
        db.session.execute(update(AttachmentKeyWrap)
                           .where(AttachmentKeyWrap.attachment_id == attachment_id, AttachmentKeyWrap.owner == "NO")
                           .values(wrapped_key=foreign.wrapped_key, key_version=foreign.key_version))
        db.session.commit()
        db.session.remove()


def _alter_manifest(app: Flask, attachment_id: Any, other: Any) -> None:
    """Someone with database access renames the file in the signed manifest and in the row."""
    row = attachment_row(app, attachment_id)
    fields = json.loads(row.manifest)
    fields["filename"] = "harmless.pdf"
    altered = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    with app.app_context():
        db.session.execute(update(Attachment).where(Attachment.id == attachment_id)
                           .values(manifest=altered, filename="harmless.pdf"))
        db.session.commit()
        db.session.remove()


def _alter_record(app: Flask, attachment_id: Any, other: Any) -> None:
    """The row claims HTML (which a browser would render) while the signed manifest says PDF."""
    with app.app_context():
        db.session.execute(update(Attachment).where(Attachment.id == attachment_id)
                           .values(media_type="text/html", filename="evidence.html"))
        db.session.commit()
        db.session.remove()


def _swap_file(app: Flask, attachment_id: Any, other: Any) -> None:
    """Another attachment's (valid) encrypted file put in this one's place."""
    write_stored(app, attachment_id, read_stored(app, other))


def _delete_file(app: Flask, attachment_id: Any, other: Any) -> None:
    delete_stored(app, attachment_id)


TAMPERING: dict[str, Callable[[Flask, Any, Any], None]] = {
    "flipped byte": _flip_byte,
    "truncated": _truncate,
    "chunks reordered": _reorder,
    "wrap from another attachment": _swap_wrap,
    "manifest altered": _alter_manifest,
    "record altered": _alter_record,
    "file swapped": _swap_file,
    "file missing": _delete_file,
}


@pytest.fixture
def two_attachments(make_item: Any, store: Any) -> tuple[Any, Any, bytes]:
    item_id = make_item(countries=["NO"])
    data = pdf_bytes(4 * CHUNK_SIZE + 500)  # five STREAM chunks
    return store(item_id, data, "evidence.pdf"), store(item_id, pdf_bytes(4 * CHUNK_SIZE + 500), "other.pdf"), data


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_detected_before_any_byte_is_sent(app: Flask, make_user: Any, login_as: Any,
                                                       two_attachments: Any, how: str) -> None:
    attachment_id, other_id, data = two_attachments
    client = app.test_client()
    login_as(client, make_user(Role.OFFICER, "NO"))
    assert client.get(f"/attachments/{attachment_id}").get_data() == data  # intact first

    TAMPERING[how](app, attachment_id, other_id)

    response = client.get(f"/attachments/{attachment_id}")
    assert response.status_code == 500
    body = response.get_data()
    assert b"This file failed its integrity check" in body
    assert data[:32] not in body and data[-32:] not in body
    assert "Content-Disposition" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert audit_actions(app, attachment_id).count("attachment.tamper_detected") == 1
    # The other file is untouched and still downloads (except when it was the source of the swap).
    assert client.get(f"/attachments/{other_id}").status_code == 200


def test_altered_manifest_also_fails_the_signature_bundle(app: Flask, make_user: Any, login_as: Any,
                                                          two_attachments: Any) -> None:
    attachment_id, other_id, _ = two_attachments
    _alter_manifest(app, attachment_id, other_id)
    client = app.test_client()
    login_as(client, make_user(Role.OFFICER, "NO"))
    response = client.get(f"/attachments/{attachment_id}/signature")
    assert response.status_code == 500
    assert b"This file failed its integrity check" in response.get_data()
    assert "attachment.tamper_detected" in audit_actions(app, attachment_id)


def test_tampering_detected_through_the_service_layer(app: Flask, two_attachments: Any) -> None:
    from portal.attachments.download import IntegrityFailure
    from tests.attachments.conftest import decrypt_as_owner

    attachment_id, other_id, _ = two_attachments
    _reorder(app, attachment_id, other_id)
    with pytest.raises(IntegrityFailure):
        decrypt_as_owner(app, attachment_id, "NO")
