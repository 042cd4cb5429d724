"""Fixtures for the public side (additive: the harness itself lives in tests/conftest.py)."""
from __future__ import annotations

import io
import os
import uuid
from typing import Any

import pytest
from flask import Flask

from portal.attachments import service as attachments
from portal.extensions import db
from portal.models import Item, ItemKind, PublicItem
from portal.public import service as public
from portal.sharing import service as sharing
from tests.sharing.helpers import audience, payload_for, unique_word, user


def pdf_bytes(size: int = 4000) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    return head + os.urandom(size - len(head))


class Public:
    """Items in every state, built through the services (the pages' own write path)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def item(self, author: Any, kind: str = "threat_notice", tlp: str = "CLEAR", status: str = "published", *,
             word: str | None = None, countries: tuple[str, ...] = ("NO",), **overrides: Any) -> uuid.UUID:
        word = word or unique_word()
        kind_enum = ItemKind(kind)
        fields: dict[str, Any] = {"title": f"Guidance {word}", "summary": f"Summary {word}", "body": f"Body {word}",
                                  "tlp": tlp, "audience": audience(countries=list(countries))}
        payload = payload_for(kind_enum, **{**fields, **overrides})
        with self.app.app_context():
            item = sharing.create_draft(db.session, user(author), kind_enum, payload)
            if status == "submitted":
                sharing.submit(db.session, user(author), item)  # `author` is an officer
            if status in ("published", "withdrawn"):
                sharing.publish(db.session, user(author), item)
            if status == "withdrawn":
                sharing.withdraw(db.session, user(author), item, "Superseded.")
            item_id = item.id
            db.session.remove()
        return item_id

    def attach(self, author: Any, item_id: uuid.UUID, filename: str, data: bytes | None = None) -> uuid.UUID:
        with self.app.app_context():
            item = db.session.get(Item, item_id)
            assert item is not None
            attachment = attachments.store_attachment(db.session, user(author), item, filename,
                                                      io.BytesIO(data or pdf_bytes()))
            attachment_id = attachment.id
            db.session.remove()
        return attachment_id

    def publish(self, actor: Any, item_id: uuid.UUID) -> None:
        with self.app.app_context():
            item = db.session.get(Item, item_id)
            assert item is not None
            public.publish_publicly(db.session, user(actor), item)
            db.session.remove()

    def force_row(self, item_id: uuid.UUID) -> None:
        """A publication row written behind the service's back (as a bug or a race might): the
        public side must still show nothing that is not published and CLEAR."""
        with self.app.app_context():
            db.session.add(PublicItem(item_id=item_id))
            db.session.commit()
            db.session.remove()

    def is_public(self, item_id: uuid.UUID) -> bool:
        with self.app.app_context():
            found = db.session.get(PublicItem, item_id) is not None
            db.session.remove()
        return found

    def amend(self, actor: Any, item_id: uuid.UUID, kind: str = "threat_notice", **overrides: Any) -> None:
        with self.app.app_context():
            item = db.session.get(Item, item_id)
            assert item is not None
            payload = payload_for(ItemKind(kind), **{"audience": audience(countries=["NO"]), **overrides})
            sharing.amend(db.session, user(actor), item, payload, "Updated.")
            db.session.remove()

    def withdraw(self, actor: Any, item_id: uuid.UUID) -> None:
        with self.app.app_context():
            item = db.session.get(Item, item_id)
            assert item is not None
            sharing.withdraw(db.session, user(actor), item, "No longer accurate.")
            db.session.remove()


@pytest.fixture
def pub(app: Flask) -> Public:
    return Public(app)


@pytest.fixture
def spoc(make_user: Any) -> Any:
    return make_user("spoc", "DK", name="Dagmar Spocperson")


@pytest.fixture
def secretariat(make_user: Any) -> Any:
    return make_user("secretariat", None, name="Sven Secperson")
