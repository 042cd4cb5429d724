"""Alert rules that a one-line change could break without any other test noticing: who hears of
a revocation, what a withdrawal e-mail may carry, notifications that outlive the reader's access,
and the digest of a user who only follows meetings. E-mail goes through the real SMTP server."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import ItemEvent, Notification
from portal.models.base import utcnow
from portal.notifications import alerts, outbox
from tests.conftest import csrf_token, post_form
from tests.notifications import test_alerts
from tests.notifications.test_alerts import SECRET_BODY, deliver, notice, publish
from tests.sharing import helpers
from tests.sharing.helpers import to_form

SUMMARY = "A vendor offers zero-click spyware."  # the summary notice() gives every item
BELL = 'class="count">'  # the unread counter in the page header

people = test_alerts.people  # the same cast of users: DK author, NO officer and reader, FR SPOC, secretariat, admin


def notifications_of(app: Flask, account: Any) -> list[Notification]:
    with app.app_context():
        rows = list(db.session.scalars(select(Notification).where(Notification.user_id == account.id)
                                       .order_by(Notification.created_at)))
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
    return rows


# --- a revoked denial is news for its audience ------------------------------------------------

def test_revoking_a_denial_notifies_its_audience(app: Flask, mailbox: Any, login_as: Any, people: dict[str, Any]) -> None:
    denial_id = helpers.make_item(app, people["dk_spoc"], "denial", tlp="AMBER",
                                  audience=helpers.audience(countries=["NO"]))
    deliver(app)
    mailbox.clear()

    dk = login_as(app.test_client(), people["dk_spoc"])
    response = dk.post(f"/denials/{denial_id}/revoke", data={"csrf_token": csrf_token(dk), "reason": "Court ruling."})
    assert response.status_code == 302

    # E-mail, at once, to the audience's immediate subscribers (the NO officer: denials default to immediate).
    assert deliver(app) == 1
    [message] = mailbox.to(people["no_officer"].email)
    assert message["Subject"].startswith("[TLP:AMBER] Licence-denial notification revoked: Denial of IMSI catchers")
    assert f"/denials/{denial_id}" in mailbox.text(message)
    assert not mailbox.to(people["dk_spoc"].email)  # the revoking SPOC is not told of their own act
    assert not mailbox.to(people["fr_spoc"].email)  # FR was never in the audience

    # In the portal, every audience user (the digest-only reader too) has a notification of it.
    reader = login_as(app.test_client(), people["no_reader"])
    listing = reader.get("/notifications/").get_data(as_text=True)
    assert "Licence-denial notification revoked: Denial of IMSI catchers" in listing
    assert f'{BELL}2<' in reader.get("/").get_data(as_text=True)  # published, then revoked
    assert [n.title.split(":")[0] for n in notifications_of(app, people["no_officer"])] == [
        "Licence-denial notification published", "Licence-denial notification revoked"]


# --- a withdrawn item's summary stays out of e-mail ---------------------------------------------

@pytest.mark.parametrize("tlp", ["CLEAR", "GREEN"])
def test_withdrawal_mails_of_clear_and_green_items_carry_no_summary(app: Flask, mailbox: Any, login_as: Any,
                                                                     people: dict[str, Any], tlp: str) -> None:
    item_id = publish(app, people["dk_spoc"], notice(tlp))
    deliver(app)
    published = mailbox.to(people["fr_spoc"].email)
    assert len(published) == 1 and SUMMARY in mailbox.text(published[0])  # while live, the summary may travel
    mailbox.clear()

    dk = login_as(app.test_client(), people["dk_spoc"])
    response = dk.post(f"/threat-notices/{item_id}/withdraw",
                       data={"csrf_token": csrf_token(dk), "reason": "Source retracted its claim."})
    assert response.status_code == 302

    deliver(app)
    [alert] = mailbox.to(people["fr_spoc"].email)
    assert alert["Subject"].startswith(f"[TLP:{tlp}] Threat notice withdrawn: Spyware sold to police")
    html = alert.get_body(("html",)).get_content()
    for part in (mailbox.text(alert), html):
        assert "Spyware sold to police" in part and f"/threat-notices/{item_id}" in part
        assert SUMMARY not in part and SECRET_BODY not in part

    # The daily digest lists the withdrawal notice the same way: title and link, no summary.
    mailbox.clear()
    with app.app_context():
        assert alerts.send_digests(db.session) >= 1
        outbox.deliver_pending(db.session)
        db.session.remove()
    [digest] = mailbox.to(people["no_reader"].email)
    text = mailbox.text(digest)
    assert "Spyware sold to police" in text and "withdrawn" in text
    assert SUMMARY not in text and SUMMARY not in digest.get_body(("html",)).get_content()


# --- notifications follow visibility -------------------------------------------------------------

def test_notification_disappears_when_its_item_is_no_longer_visible(app: Flask, login_as: Any,
                                                                     people: dict[str, Any]) -> None:
    payload = notice("AMBER", ["NO", "FR"], all_subscribing=False)
    item_id = publish(app, people["dk_spoc"], payload)
    reader = login_as(app.test_client(), people["no_reader"])
    assert f"{BELL}1<" in reader.get("/").get_data(as_text=True)
    assert "Threat notice published: Spyware sold to police" in reader.get("/notifications/").get_data(as_text=True)
    [note] = notifications_of(app, people["no_reader"])

    # Withdrawal does not take the item out of sight (the audience keeps the notice): the notification stays.
    # Amending the audience does: DK drops Norway.
    dk = login_as(app.test_client(), people["dk_spoc"])
    narrowed = notice("AMBER", ["FR"], all_subscribing=False)
    response = dk.post(f"/threat-notices/{item_id}/amend",
                       data=to_form("threat_notice", narrowed, csrf_token=csrf_token(dk), change_note="Norway removed"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert reader.get(f"/threat-notices/{item_id}").status_code == 404

    home = reader.get("/").get_data(as_text=True)
    assert "Notifications" in home and BELL not in home  # no unread count left
    listing = reader.get("/notifications/").get_data(as_text=True)
    assert "Spyware sold to police" not in listing and "No notifications yet" in listing
    assert post_form(reader, f"/notifications/{note.id}/read", page="/notifications/").status_code == 404
    assert notifications_of(app, people["no_reader"])[0].read_at is None  # and it was not marked either

    # France, still in the audience, keeps both notifications.
    fr = login_as(app.test_client(), people["fr_spoc"])
    listing = fr.get("/notifications/").get_data(as_text=True)
    assert "Threat notice published: Spyware" in listing and "Threat notice amended: Spyware" in listing
    assert f"{BELL}2<" in fr.get("/").get_data(as_text=True)


def test_notification_of_a_withdrawn_item_stays(app: Flask, login_as: Any, people: dict[str, Any]) -> None:
    item_id = publish(app, people["dk_spoc"], notice("AMBER", ["NO"], all_subscribing=False))
    dk = login_as(app.test_client(), people["dk_spoc"])
    assert dk.post(f"/threat-notices/{item_id}/withdraw",
                   data={"csrf_token": csrf_token(dk), "reason": "Source retracted."}).status_code == 302
    reader = login_as(app.test_client(), people["no_reader"])
    listing = reader.get("/notifications/").get_data(as_text=True)
    assert "Threat notice published: Spyware" in listing and "Threat notice withdrawn: Spyware" in listing
    assert f"{BELL}2<" in reader.get("/").get_data(as_text=True)


# --- the digest and users who follow only meetings ----------------------------------------------

def set_preferences(client: Any, **modes: str) -> None:
    form = {"threat_notices": "off", "min_severity": "", "denials": "off", "documents": "off", "meetings": "immediate"}
    form.update(modes)
    response = post_form(client, "/notifications/preferences", form, page="/notifications/preferences")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def publish_at(app: Flask, author: Any, title: str, at: datetime) -> uuid.UUID:
    """A denial to all subscribing states whose events are dated `at`."""
    item_id = helpers.make_item(app, author, "denial", title=title)
    with app.app_context():
        db.session.execute(update(ItemEvent).where(ItemEvent.item_id == item_id).values(at=at))
        db.session.commit()
        db.session.remove()
    return item_id


def digest_run(app: Flask, now: datetime) -> None:
    with app.app_context():
        alerts.send_digests(db.session, now=now)
        outbox.deliver_pending(db.session)
        db.session.remove()


def digests_to(mailbox: Any, account: Any) -> list[str]:
    return [mailbox.text(m) for m in mailbox.to(account.email) if "daily digest" in m["Subject"]]


def test_pausing_item_alerts_for_meetings_only_loses_nothing(app: Flask, mailbox: Any, login_as: Any,
                                                             make_user: Any) -> None:
    """A user who keeps only Meetings gets no item digest, and their digest clock stops: once
    they take the digest again, it covers everything since the last digest they received."""
    dk, officer = make_user("spoc", "DK"), make_user("officer", "NO")
    client = login_as(app.test_client(), officer)
    base = utcnow() - timedelta(days=10)

    set_preferences(client, denials="digest")
    publish_at(app, dk, "Denial before the pause", base + timedelta(hours=1))
    digest_run(app, base + timedelta(hours=2))
    [first] = digests_to(mailbox, officer)
    assert "Denial before the pause" in first

    set_preferences(client)  # everything off but Meetings
    publish_at(app, dk, "Denial during the pause", base + timedelta(days=1))
    mailbox.clear()
    digest_run(app, base + timedelta(days=2))
    assert not mailbox.to(officer.email)  # no item digest while only Meetings is on

    set_preferences(client, denials="digest")
    digest_run(app, base + timedelta(days=3))
    [resumed] = digests_to(mailbox, officer)
    assert "Denial during the pause" in resumed and "Denial before the pause" not in resumed


def test_turning_meetings_off_keeps_the_item_digest(app: Flask, mailbox: Any, login_as: Any, make_user: Any) -> None:
    dk, officer = make_user("spoc", "DK"), make_user("officer", "NO")
    set_preferences(login_as(app.test_client(), officer), denials="digest", meetings="off")
    publish_at(app, dk, "Denial for the digest", utcnow() - timedelta(hours=1))
    digest_run(app, utcnow())
    [digest] = digests_to(mailbox, officer)
    assert "Denial for the digest" in digest
