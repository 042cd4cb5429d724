"""Fixtures for the attachment tests (additive: the harness itself lives in tests/conftest.py)."""
from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.attachments import download, service
from portal.extensions import db
from portal.models import Attachment, AttachmentKeyWrap, Item, ItemKind, Role, User
from portal.sharing import service as sharing
from tests.conftest import Account, csrf_token


def pdf_bytes(size: int = 5000) -> bytes:
    """A file whose content says PDF (the type check looks at the first bytes)."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    return head + os.urandom(max(0, size - len(head)))


def threat_payload(countries: list[str] | tuple[str, ...] = ("NO", "FR"), tlp: str = "AMBER", *,
                   all_subscribing: bool = False, secretariat: bool = False, observers: bool = False) -> dict[str, Any]:
    return {"title": "Spyware vendor offering zero-click implants", "summary": "A vendor markets implants.",
            "body": "Observed at a trade fair.", "tlp": tlp,
            "audience": {"all_subscribing": all_subscribing, "countries": list(countries),
                         "secretariat": secretariat, "observers": observers},
            "severity": "high", "categories": ["intrusion_software"], "regions": [], "entities": []}


def user(account: Account) -> User:
    found = db.session.get(User, account.id)
    assert found is not None
    return found


@pytest.fixture
def spoc(make_user: Any) -> Account:
    """The point of contact of Denmark, the originating state in these tests."""
    return make_user(Role.SPOC, "DK")


@pytest.fixture
def make_item(app: Flask, spoc: Account) -> Any:
    """make_item(publish=True, author=spoc, **threat_payload args) -> item id (a threat notice from DK)."""

    def factory(*, publish: bool = True, author: Account | None = None, **kwargs: Any) -> uuid.UUID:
        with app.app_context():
            actor = user(author or spoc)
            item = sharing.create_draft(db.session, actor, ItemKind.THREAT_NOTICE, threat_payload(**kwargs))
            if publish:
                sharing.publish(db.session, actor, item)
            item_id = item.id
            db.session.remove()
        return item_id

    return factory


@pytest.fixture
def store(app: Flask, spoc: Account) -> Any:
    """store(item_id, data, filename, actor=spoc) -> attachment id, through the service layer."""

    def do(item_id: uuid.UUID, data: bytes, filename: str = "report.pdf", actor: Account | None = None) -> uuid.UUID:
        with app.app_context():
            item = db.session.get(Item, item_id)
            assert item is not None
            attachment = service.store_attachment(db.session, user(actor or spoc), item, filename, io.BytesIO(data))
            attachment_id = attachment.id
            db.session.remove()
        return attachment_id

    return do


def upload(client: FlaskClient, item_id: uuid.UUID, data: bytes, filename: str, **kwargs: Any) -> Any:
    """Post the page's upload form (CSRF token first, then the file)."""
    token = csrf_token(client)
    return client.post(f"/items/{item_id}/attachments", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", **kwargs)


def storage_root(app: Flask) -> Path:
    with app.app_context():
        return service.storage().root


def stored_files(app: Flask) -> list[Path]:
    """Every file under the storage folder, temporary ones included."""
    root = storage_root(app)
    return sorted(p for p in root.rglob("*") if p.is_file())


def attachment_row(app: Flask, attachment_id: uuid.UUID) -> Attachment:
    with app.app_context():
        row = db.session.get(Attachment, attachment_id)
        assert row is not None
        db.session.expunge(row)
        db.session.remove()
    return row


def stored_path(app: Flask, attachment_id: uuid.UUID) -> Path:
    row = attachment_row(app, attachment_id)
    with app.app_context():
        return service.storage().path(row.storage_name)


def wrap_owners(app: Flask, attachment_id: uuid.UUID) -> set[str]:
    with app.app_context():
        owners = set(db.session.scalars(select(AttachmentKeyWrap.owner)
                                        .where(AttachmentKeyWrap.attachment_id == attachment_id)))
        db.session.remove()
    return owners


def count_attachments(app: Flask) -> int:
    with app.app_context():
        n = len(db.session.scalars(select(Attachment.id)).all())
        db.session.remove()
    return n


def decrypt_as_owner(app: Flask, attachment_id: uuid.UUID, owner: str) -> bytes:
    """Below every access check: decrypt through `owner`'s own wrap (raises when it has none)."""
    with app.app_context():
        row = db.session.get(Attachment, attachment_id)
        assert row is not None
        try:
            return download.open_verified(db.session, row, owner).read_all()
        finally:
            db.session.remove()
