"""The daily lapse job treats an amended denial like an active one: a new version does not
move the review date, so an amended denial not renewed by then lapses too. SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import DenialStatus, Item, ItemEvent
from portal.models.base import utcnow
from portal.sharing import service
from tests.conftest import audit_actions, csrf_token
from tests.sharing import helpers
from tests.sharing.helpers import item_url, to_form


def set_review_date(app: Flask, item_id: uuid.UUID, review: date) -> None:
    with app.app_context():
        db.session.execute(update(Item).where(Item.id == item_id).values(review_date=review))
        db.session.commit()
        db.session.remove()


def last_event(app: Flask, item_id: uuid.UUID) -> str:
    with app.app_context():
        kinds = list(db.session.scalars(select(ItemEvent.kind).where(ItemEvent.item_id == item_id).order_by(ItemEvent.id)))
        db.session.remove()
    return kinds[-1].value


def test_amended_denials_lapse_after_their_review_date(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc, reader = make_user("spoc", "DK"), make_user("reader", "FR")
    amended_id, active_id, revoked_id = (helpers.make_item(app, spoc) for _ in range(3))
    client = login_as(app.test_client(), spoc)
    token = csrf_token(client)
    payload = helpers.denial_payload(title="Denial of IMSI catchers, corrected end-user")
    response = client.post(item_url("denial", amended_id, "/amend"),
                           data=to_form("denial", payload, csrf_token=token, change_note="Corrected the end-user."))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert client.post(item_url("denial", revoked_id, "/revoke"),
                       data={"csrf_token": token, "reason": "Court ruling."}).status_code == 302
    amended = helpers.load_item(app, amended_id)
    assert amended.denial_status is DenialStatus.AMENDED and amended.version == 2

    # Before the review date nothing lapses, amended or not.
    with app.app_context():
        assert service.lapse_overdue_denials(db.session, today=amended.review_date) == 0
        db.session.remove()
    assert helpers.load_item(app, amended_id).denial_status is DenialStatus.AMENDED

    # The review date passes without a renewal: the cron command lapses the amended denial as well.
    yesterday = utcnow().date() - timedelta(days=1)
    for item_id in (amended_id, active_id, revoked_id):
        set_review_date(app, item_id, yesterday)
    result = app.test_cli_runner().invoke(args=["denials", "lapse"])
    assert result.exit_code == 0, result.output
    assert "2 denial(s) lapsed." in result.output
    assert helpers.load_item(app, amended_id).denial_status is DenialStatus.LAPSED
    assert helpers.load_item(app, active_id).denial_status is DenialStatus.LAPSED
    assert helpers.load_item(app, revoked_id).denial_status is DenialStatus.REVOKED  # revoked stays revoked
    assert last_event(app, amended_id) == "lapsed"
    assert "item.lapsed" in audit_actions(app, amended_id)

    # The audience finds it under the lapsed filter, no longer under the amended one.
    fr = login_as(app.test_client(), reader)
    lapsed = fr.get("/denials/", query_string={"status": "lapsed"}).get_data(as_text=True)
    assert item_url("denial", amended_id) in lapsed and item_url("denial", revoked_id) not in lapsed
    still_amended = fr.get("/denials/", query_string={"status": "amended"}).get_data(as_text=True)
    assert item_url("denial", amended_id) not in still_amended

    # Running it again the same day finds nothing more.
    assert "0 denial(s) lapsed." in app.test_cli_runner().invoke(args=["denials", "lapse"]).output
