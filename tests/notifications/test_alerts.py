"""Alerts by e-mail (through a real SMTP server on loopback) and in the portal."""
from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import ItemKind, OutboxMessage, OutboxStatus, User, UserStatus
from portal.models.base import utcnow
from portal.models.notification import AlertTopic, DeliveryMode
from portal.notifications import alerts, outbox, prefs
from portal.sharing import service
from tests.conftest import post_form

SECRET_BODY = "Operational detail that must never travel by e-mail"


def notice(tlp: str = "AMBER", countries: list[str] | None = None, *, all_subscribing: bool = True,
           observers: bool = False, secretariat: bool = False, severity: str = "critical") -> dict[str, Any]:
    return {"title": f"Spyware sold to police ({tlp})", "summary": "A vendor offers zero-click spyware.",
            "body": SECRET_BODY, "tlp": tlp,
            "audience": {"all_subscribing": all_subscribing, "countries": countries or [], "secretariat": secretariat,
                         "observers": observers},
            "severity": severity, "categories": ["intrusion_software"], "regions": ["MM"], "entities": []}


def publish(app: Any, author: Any, payload: dict[str, Any], kind: ItemKind = ItemKind.THREAT_NOTICE) -> str:
    with app.app_context():
        actor = db.session.get(User, author.id)
        item = service.create_draft(db.session, actor, kind, payload)
        service.publish(db.session, actor, item)
        item_id = str(item.id)
        db.session.remove()
    return item_id


def deliver(app: Any) -> int:
    with app.app_context():
        sent = outbox.deliver_pending(db.session)
        db.session.remove()
    return sent


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    return {
        "dk_spoc": make_user("spoc", "DK"),
        "no_officer": make_user("officer", "NO"),
        "no_reader": make_user("reader", "NO"),
        "fr_spoc": make_user("spoc", "FR"),
        "secretariat": make_user("secretariat", None),
        "admin": make_user("admin", None),
    }


def test_amber_alert_reaches_audience_with_link_only(app: Any, mailbox: Any, people: dict[str, Any]) -> None:
    publish(app, people["dk_spoc"], notice("AMBER", ["NO"], all_subscribing=False))
    assert deliver(app) == 1  # NO officer (immediate, critical); NO reader gets the digest; FR not in audience
    [message] = mailbox.to(people["no_officer"].email)
    assert message["Subject"].startswith("[TLP:AMBER] Threat notice published: Spyware sold to police")
    text = mailbox.text(message)
    assert "/threat-notices/" in text and "A vendor offers" not in text and SECRET_BODY not in text
    assert SECRET_BODY not in message.get_body(("html",)).get_content()
    assert not mailbox.to(people["fr_spoc"].email) and not mailbox.to(people["admin"].email)
    assert not mailbox.to(people["dk_spoc"].email)  # the author is not told of their own act


@pytest.mark.parametrize("tlp", ["CLEAR", "GREEN"])
def test_clear_and_green_alerts_carry_the_summary_never_the_body(app: Any, mailbox: Any, people: dict[str, Any], tlp: str) -> None:
    publish(app, people["dk_spoc"], notice(tlp))
    deliver(app)
    text = mailbox.text(mailbox.to(people["fr_spoc"].email)[0])
    assert f"TLP:{tlp}" in text and "A vendor offers zero-click spyware." in text and SECRET_BODY not in text


def test_red_goes_to_named_states_and_never_to_readers(app: Any, mailbox: Any, people: dict[str, Any], make_user: Any) -> None:
    reader_pref = make_user("reader", "NO")
    with app.app_context():  # a reader who asked for everything at once still gets no RED
        prefs.save_preference(db.session, db.session.get(User, reader_pref.id), AlertTopic.THREAT_NOTICES, DeliveryMode.IMMEDIATE)
        db.session.remove()
    publish(app, people["dk_spoc"], notice("RED", ["NO"], all_subscribing=False))
    deliver(app)
    assert [m["To"] for m in mailbox.messages] == [people["no_officer"].email]
    assert mailbox.messages[0]["Subject"].startswith("[TLP:RED]")
    assert "A vendor offers" not in mailbox.text(mailbox.messages[0])


def test_observer_states_hear_only_of_clear_green_released_to_observers(app: Any, mailbox: Any, people: dict[str, Any], make_user: Any) -> None:
    from portal.countries.service import add_country
    from portal.models import CountryStatus

    with app.app_context():
        admin = db.session.get(User, people["admin"].id)
        add_country(db.session, admin, code="CR", name="Costa Rica", status=CountryStatus.OBSERVER, endorsed_on=None)
        db.session.remove()
    observer = make_user("officer", "CR")
    with app.app_context():
        prefs.save_preference(db.session, db.session.get(User, observer.id), AlertTopic.THREAT_NOTICES, DeliveryMode.IMMEDIATE)
        db.session.remove()
    publish(app, people["dk_spoc"], notice("AMBER"))
    publish(app, people["dk_spoc"], notice("GREEN", observers=True))
    deliver(app)
    received = mailbox.to(observer.email)
    assert len(received) == 1 and received[0]["Subject"].startswith("[TLP:GREEN]")


def test_worker_recovers_after_crash_without_duplicates(app: Any, mailbox: Any, people: dict[str, Any], smtp_server: Any) -> None:
    publish(app, people["dk_spoc"], notice("GREEN"))  # the event is committed; no worker ran ("crash")
    with app.app_context():
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        db.session.remove()
    assert queued >= 2 and not mailbox.messages
    # A worker that cannot reach the mail server loses nothing: every message stays queued.
    app.config["SMTP_PORT"] = 1  # nothing listens there
    with app.app_context(), pytest.raises(OSError):
        outbox.deliver_pending(db.session)
    app.config["SMTP_PORT"] = smtp_server.port
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING)) == queued
        db.session.remove()
    assert deliver(app) == queued
    assert deliver(app) == 0  # the next run finds nothing: no duplicates
    ids = [m["Message-ID"] for m in mailbox.messages]
    assert len(ids) == queued == len(set(ids))


def test_refused_message_is_retried_with_backoff(app: Any, mailbox: Any, people: dict[str, Any]) -> None:
    mailbox.refuse.add(people["no_officer"].email)
    publish(app, people["dk_spoc"], notice("GREEN"))
    sent_first = deliver(app)
    assert not mailbox.to(people["no_officer"].email) and len(mailbox.messages) == sent_first
    with app.app_context():
        [held] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.attempts == 1)).all()
        assert held.status is OutboxStatus.PENDING and held.next_attempt_at > utcnow() and "550" in held.last_error
        db.session.remove()
    assert deliver(app) == 0  # not due yet
    mailbox.refuse.clear()
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()
    assert deliver(app) == 1 and len(mailbox.to(people["no_officer"].email)) == 1


def test_the_same_event_queues_once(app: Any, people: dict[str, Any]) -> None:
    item_id = publish(app, people["dk_spoc"], notice("GREEN"))
    with app.app_context():
        from portal.models import Item, ItemEventKind

        item = db.session.get(Item, __import__("uuid").UUID(item_id))
        before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        alerts.on_item_event(db.session, item, ItemEventKind.PUBLISHED, db.session.get(User, people["dk_spoc"].id))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before
        db.session.remove()


def test_recipients_are_rechecked_at_send_time(app: Any, mailbox: Any, people: dict[str, Any]) -> None:
    item_id = publish(app, people["dk_spoc"], notice("AMBER", ["NO", "FR"], all_subscribing=False))
    with app.app_context():
        # Before the worker runs: the FR SPOC is disabled and NO is dropped from the audience.
        db.session.get(User, people["fr_spoc"].id).status = UserStatus.DISABLED
        db.session.commit()
        from portal.models import Item

        item = db.session.get(Item, __import__("uuid").UUID(item_id))
        payload = notice("AMBER", ["FR"], all_subscribing=False)
        service.amend(db.session, db.session.get(User, people["dk_spoc"].id), item, payload, "NO removed")
        db.session.remove()
    deliver(app)
    assert not mailbox.to(people["no_officer"].email) and not mailbox.to(people["fr_spoc"].email)
    with app.app_context():
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
        assert OutboxStatus.SKIPPED in statuses and OutboxStatus.SENT not in statuses
        db.session.remove()


def test_withdrawal_and_revocation_notify(app: Any, mailbox: Any, people: dict[str, Any]) -> None:
    item_id = publish(app, people["dk_spoc"], notice("GREEN"))
    with app.app_context():
        from portal.models import Item

        item = db.session.get(Item, __import__("uuid").UUID(item_id))
        service.withdraw(db.session, db.session.get(User, people["dk_spoc"].id), item, "Source retracted")
        db.session.remove()
    deliver(app)
    subjects = [m["Subject"] for m in mailbox.to(people["fr_spoc"].email)]
    assert any("withdrawn" in s for s in subjects)
    assert not any(" published:" in s for s in subjects)  # superseded before it was sent


def test_digest_covers_what_became_visible_once(app: Any, mailbox: Any, people: dict[str, Any]) -> None:
    publish(app, people["dk_spoc"], notice("GREEN", severity="low"))
    with app.app_context():
        assert alerts.send_digests(db.session) >= 2  # NO reader (digest) and NO officer (low severity waits)
        outbox.deliver_pending(db.session)
        db.session.remove()
    digest = mailbox.to(people["no_reader"].email)
    assert len(digest) == 1 and "daily digest: 1 update" in digest[0]["Subject"]
    assert "Spyware sold to police" in mailbox.text(digest[0]) and SECRET_BODY not in mailbox.text(digest[0])
    assert len(mailbox.to(people["no_officer"].email)) == 1
    mailbox.clear()
    with app.app_context():
        assert alerts.send_digests(db.session) == 0  # nothing new since the last digest
        db.session.remove()


def test_in_portal_notifications(app: Any, client: Any, login_as: Any, people: dict[str, Any]) -> None:
    publish(app, people["dk_spoc"], notice("AMBER", ["NO"], all_subscribing=False))
    login_as(client, people["no_reader"])
    page = client.get("/").get_data(as_text=True)
    assert 'class="count">1<' in page
    listing = client.get("/notifications/").get_data(as_text=True)
    assert "Threat notice published: Spyware sold to police" in listing
    with app.app_context():
        from portal.models import Notification

        note = db.session.scalar(select(Notification).where(Notification.user_id == people["no_reader"].id))
        db.session.remove()
    response = post_form(client, f"/notifications/{note.id}/read", {"open": "1"}, page="/notifications/")
    assert response.status_code == 302 and "/threat-notices/" in response.headers["Location"]
    assert 'class="count">' not in client.get("/").get_data(as_text=True)
    # Another state's user cannot mark it.
    login_as(client, people["fr_spoc"])
    assert post_form(client, f"/notifications/{note.id}/read", page="/notifications/").status_code == 404


def test_preferences_and_unsubscribe_link(app: Any, client: Any, login_as: Any, people: dict[str, Any], mailbox: Any) -> None:
    assert client.get("/notifications/unsubscribe/denials").status_code == 302  # needs a login
    login_as(client, people["no_officer"])
    assert client.get("/notifications/unsubscribe/nonsense").status_code == 404
    response = post_form(client, "/notifications/unsubscribe/threat_notices", page="/notifications/unsubscribe/threat_notices")
    assert response.status_code == 302
    publish(app, people["dk_spoc"], notice("GREEN"))
    deliver(app)
    assert not mailbox.to(people["no_officer"].email)
    form = {"threat_notices": "immediate", "min_severity": "", "denials": "off", "documents": "digest", "meetings": "immediate"}
    assert post_form(client, "/notifications/preferences", form, page="/notifications/preferences").status_code == 302
    with app.app_context():
        mine = prefs.preferences(db.session, db.session.get(User, people["no_officer"].id))
        assert mine[AlertTopic.THREAT_NOTICES].mode is DeliveryMode.IMMEDIATE and mine[AlertTopic.DENIALS].mode is DeliveryMode.OFF
        db.session.remove()
    bad = dict(form, min_severity="apocalyptic")
    assert post_form(client, "/notifications/preferences", bad, page="/notifications/preferences").status_code == 200


def test_two_workers_on_postgresql_send_each_message_once(app: Any, mailbox: Any, make_user: Any, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("row locking with SKIP LOCKED is PostgreSQL's")
    author = make_user("spoc", "DK")
    for country in ("NO", "FR", "DE", "ES"):
        for _ in range(10):
            make_user("officer", country)
    publish(app, author, notice("GREEN"))
    results: list[int] = []

    def worker() -> None:
        with app.app_context():
            results.append(outbox.deliver_pending(db.session))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 40 and len(mailbox.messages) == 40
    assert len({m["Message-ID"] for m in mailbox.messages}) == 40


@pytest.mark.parametrize("tlp, reason_in_mail", [("GREEN", True), ("CLEAR", True), ("AMBER", False)])
def test_withdrawal_mail_gives_the_reason_only_where_tlp_allows_content(
        app: Any, mailbox: Any, people: dict[str, Any], tlp: str, reason_in_mail: bool) -> None:
    import uuid

    from portal.models import Item

    item_id = publish(app, people["dk_spoc"], notice(tlp))
    deliver(app)
    mailbox.clear()
    with app.app_context():
        item = db.session.get(Item, uuid.UUID(item_id))
        service.withdraw(db.session, db.session.get(User, people["dk_spoc"].id), item, "Source retracted its claim")
        db.session.remove()
    deliver(app)
    [mail] = mailbox.to(people["fr_spoc"].email)
    text = mailbox.text(mail)
    assert ("Source retracted its claim" in text) is reason_in_mail
    assert "A vendor offers zero-click spyware." not in text  # a withdrawn item's summary is not repeated
