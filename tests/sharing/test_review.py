"""Denial review every three years: the review date follows the decision date, the denying
state's SPOCs are reminded 90, 30 and 7 days before (once each, over real SMTP), and the
"Denials due for review" page. SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import update

from portal.extensions import db
from portal.models import Item, User
from portal.models.base import utcnow
from portal.sharing import review
from tests.conftest import audit_actions, csrf_token
from tests.sharing import helpers
from tests.sharing.helpers import audience


def set_review_date(app: Flask, item_id: uuid.UUID, value: date) -> None:
    with app.app_context():
        db.session.execute(update(Item).where(Item.id == item_id).values(review_date=value))
        db.session.commit()
        db.session.remove()


def remind(app: Flask, today: date) -> int:
    with app.app_context():
        queued = review.queue_review_reminders(db.session, today)
        db.session.remove()
    return queued


def deliver(app: Flask) -> int:
    from portal.notifications.outbox import deliver_pending

    with app.app_context():
        sent = deliver_pending(db.session)
        db.session.remove()
    return sent


def test_review_date_is_three_years_after_the_decision(app: Flask, make_user: Any) -> None:
    spoc = make_user("spoc", "DK")
    item_id = helpers.make_item(app, spoc, "denial", "published", decision_date="2024-02-29")
    assert helpers.load_item(app, item_id).review_date == date(2027, 2, 28)


def test_reminders_at_90_30_and_7_days_once_each(app: Flask, make_user: Any, mailbox: Any) -> None:
    spoc = make_user("spoc", "DK", email="spoc@dk.example")
    second = make_user("spoc", "DK", email="deputy@dk.example")
    officer = make_user("officer", "DK", email="officer@dk.example")
    other = make_user("spoc", "NO", email="spoc@no.example")
    item_id = helpers.make_item(app, spoc, "denial", "published", title="Denial of IMSI catchers to Unit 7")
    deliver(app)  # the publication's own alerts
    mailbox.clear()
    due = date(2027, 6, 30)
    set_review_date(app, item_id, due)

    assert remind(app, due - timedelta(days=91)) == 0  # too early
    for days in (90, 30, 7):
        assert remind(app, due - timedelta(days=days)) == 2, days
        assert remind(app, due - timedelta(days=days)) == 0  # running twice sends nothing new
        assert deliver(app) == 2
        [mail] = mailbox.to("spoc@dk.example")
        assert mail["Subject"] == "[TLP:AMBER] Denial due for review on 30 June 2027: Denial of IMSI catchers to Unit 7"
        body = mailbox.text(mail)
        assert f"due for review in {days} days" in body and f"/denials/{item_id}" in body
        assert "/denials/due-for-review" in body
        assert len(mailbox.to("deputy@dk.example")) == 1
        assert mailbox.to("officer@dk.example") == [] and mailbox.to("spoc@no.example") == []
        mailbox.clear()
        # Between stages, nothing more.
        assert remind(app, due - timedelta(days=days - 1)) == 0
    assert remind(app, due) == 0 and remind(app, due + timedelta(days=1)) == 0
    assert audit_actions(app, item_id).count("denial.review_reminders_queued") == 3
    del second, officer, other


def test_a_late_first_run_sends_only_the_nearest_reminder(app: Flask, make_user: Any, mailbox: Any) -> None:
    spoc = make_user("spoc", "DK", email="spoc@dk.example")
    item_id = helpers.make_item(app, spoc, "denial", "published")
    due = date(2027, 6, 30)
    set_review_date(app, item_id, due)
    deliver(app)
    mailbox.clear()
    assert remind(app, due - timedelta(days=20)) == 1
    deliver(app)
    assert "in 30 days" in mailbox.text(mailbox.to("spoc@dk.example")[0])
    assert remind(app, due - timedelta(days=10)) == 0


def test_renewed_or_revoked_denials_get_no_stale_reminder(app: Flask, make_user: Any, mailbox: Any) -> None:
    spoc = make_user("spoc", "DK", email="spoc@dk.example")
    renewed = helpers.make_item(app, spoc, "denial", "published")
    revoked = helpers.make_item(app, spoc, "denial", "published")
    kept = helpers.make_item(app, spoc, "denial", "published", title="Kept as it is")
    today = utcnow().date()
    for item_id in (renewed, revoked, kept):
        set_review_date(app, item_id, today + timedelta(days=30))
    deliver(app)  # the publications' own alerts
    mailbox.clear()
    assert remind(app, today) == 3
    from portal.sharing import service

    with app.app_context():
        service.renew_denial(db.session, helpers.user(spoc), db.session.get(Item, renewed), "Still needed.")
        service.revoke_denial(db.session, helpers.user(spoc), db.session.get(Item, revoked), "Court ruling.")
        db.session.remove()
    deliver(app)
    # Written at send time: the renewed and the revoked denial are no longer due.
    [mail] = mailbox.to("spoc@dk.example")
    assert mail["Subject"].endswith("Kept as it is")


def test_due_for_review_page(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc, officer = make_user("spoc", "DK"), make_user("officer", "DK")
    reader, other = make_user("reader", "DK"), make_user("spoc", "NO")
    today = utcnow().date()
    soon = helpers.make_item(app, spoc, "denial", "published", title="Soon due denial")
    overdue = helpers.make_item(app, spoc, "denial", "published", title="Overdue denial")
    later = helpers.make_item(app, spoc, "denial", "published", title="Later denial")
    foreign = helpers.make_item(app, other, "denial", "published", title="Norwegian denial",
                                audience=audience(all_subscribing=True))
    set_review_date(app, soon, today + timedelta(days=10))
    set_review_date(app, overdue, today - timedelta(days=1))
    set_review_date(app, later, today + timedelta(days=91))
    set_review_date(app, foreign, today + timedelta(days=5))

    page = login_as(app.test_client(), spoc).get("/denials/due-for-review").get_data(as_text=True)
    assert page.index("Overdue denial") < page.index("Soon due denial")  # soonest first
    assert "Later denial" not in page and "Norwegian denial" not in page
    assert "1 day overdue" in page and "in 10 days" in page
    assert f"/denials/{soon}/renew" in page and f"/denials/{soon}/revoke" in page and f"/denials/{soon}/amend" in page
    officer_page = login_as(app.test_client(), officer).get("/denials/due-for-review").get_data(as_text=True)
    assert "Soon due denial" in officer_page and f"/denials/{soon}/renew" not in officer_page
    for account in (reader, make_user("secretariat", None), make_user("admin", None)):
        assert login_as(app.test_client(), account).get("/denials/due-for-review").status_code == 403

    # Renewing from the page, with a reason: a new review date three years on, off the list.
    client = login_as(app.test_client(), spoc)
    response = client.post(f"/denials/{soon}/renew", data={"csrf_token": csrf_token(client, "/denials/due-for-review"),
                                                           "reason": "Risk unchanged."})
    assert response.status_code == 302
    item = helpers.load_item(app, soon)
    assert item.review_date is not None and item.review_date.year == today.year + 3
    with app.app_context():
        from portal.sharing import service

        viewer = db.session.get(User, spoc.id)
        assert service.events(db.session, viewer, db.session.get(Item, soon))[-1].note == "Risk unchanged."
        db.session.remove()
    assert "Soon due denial" not in client.get("/denials/due-for-review").get_data(as_text=True)


def test_remind_review_command(app: Flask, make_user: Any, mailbox: Any) -> None:
    spoc = make_user("spoc", "DK", email="spoc@dk.example")
    item_id = helpers.make_item(app, spoc, "denial", "published")
    set_review_date(app, item_id, utcnow().date() + timedelta(days=7))
    deliver(app)
    mailbox.clear()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["denials", "remind-review"])
    assert first.exit_code == 0 and "1 review reminder(s) queued." in first.output
    assert "1 message(s) sent." in first.output
    second = runner.invoke(args=["denials", "remind-review"])
    assert "0 review reminder(s) queued." in second.output
    assert len(mailbox.to("spoc@dk.example")) == 1
