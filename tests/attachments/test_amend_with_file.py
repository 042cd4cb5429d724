"""A file added to a published item is an amendment: a new version (which releases the file),
a history entry, and alerts to the audience. A file added to a draft is not. Both databases."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attachment, Item, ItemEvent, ItemEventKind, ItemVersion, Notification, Role
from tests.attachments.conftest import pdf_bytes, upload


def test_adding_a_file_to_a_published_item_publishes_a_new_version(
        app: Flask, make_user: Any, login_as: Any, spoc: Any, make_item: Any) -> None:
    norway = make_user(Role.OFFICER, "NO")
    item_id = make_item(countries=("NO",), tlp="AMBER")
    client = login_as(app.test_client(), spoc)
    page = client.get(f"/threat-notices/{item_id}").get_data(as_text=True)
    assert "publishes it as a new version (version 2) and notifies the audience" in page

    response = upload(client, item_id, pdf_bytes(), "annex.pdf")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "published as version 2" in page

    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item is not None and item.version == 2
        version = db.session.scalar(select(ItemVersion).where(ItemVersion.item_id == item_id, ItemVersion.version == 2))
        assert version is not None and version.change_note == "Attachment added: annex.pdf"
        kinds = [e.kind for e in db.session.scalars(select(ItemEvent).where(ItemEvent.item_id == item_id)
                                                    .order_by(ItemEvent.at))]
        assert kinds[-1] is ItemEventKind.AMENDED
        attachment = db.session.scalar(select(Attachment).where(Attachment.item_id == item_id))
        assert attachment is not None and attachment.item_version == 2
        notes = db.session.scalars(select(Notification).where(Notification.user_id == norway.id)).all()
        assert f"Threat notice amended: {item.title}" in [n.title for n in notes]
        attachment_id = attachment.id
        db.session.remove()

    reader = login_as(app.test_client(), norway)
    assert "Attachment added: annex.pdf" in reader.get(f"/threat-notices/{item_id}").get_data(as_text=True)
    assert reader.get(f"/attachments/{attachment_id}").status_code == 200


def test_a_file_added_to_a_draft_is_no_amendment(app: Flask, login_as: Any, spoc: Any, make_item: Any) -> None:
    item_id = make_item(publish=False, countries=("NO",))
    client = login_as(app.test_client(), spoc)
    assert "publishes it as a new version" not in client.get(f"/threat-notices/{item_id}").get_data(as_text=True)
    assert upload(client, item_id, pdf_bytes(), "annex.pdf").status_code == 303
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item is not None and item.version == 0
        assert db.session.scalar(select(ItemVersion).where(ItemVersion.item_id == item_id)) is None
        db.session.remove()
