"""Consultations end to end through pages and API: deadlines, reminders, answers, outcomes,
grant notices (pages, notifications, e-mail on the SMTP server), the prefilled denial, audit."""
from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from click.testing import Result
from sqlalchemy import select

from portal.consultations import notify
from portal.extensions import db
from portal.models import AuditEntry, Consultation, Notification
from portal.models.base import utcnow
from portal.notifications import outbox
from tests.conftest import post_form, run_sql
from tests.consultations.conftest import open_consultation, take_to, transaction
from tests.sharing import helpers
from tests.sharing.helpers import api_token, bearer


def deliver(app: Any) -> int:
    with app.app_context():
        sent = outbox.deliver_pending(db.session)
        db.session.remove()
    return sent


def today() -> date:
    return utcnow().date()


# --- deadlines --------------------------------------------------------------------------

def test_deadline_defaults_to_30_days_and_must_be_at_least_10(app: Any, world: Any) -> None:
    client, headers = app.test_client(), bearer(api_token(app, world.people["b_officer"]))
    created = client.post("/api/v1/consultations", json=transaction(world.denial_id), headers=headers)
    assert created.status_code == 201
    assert created.get_json()["deadline"] == (today() + timedelta(days=30)).isoformat()
    too_soon = transaction(world.denial_id, deadline=(today() + timedelta(days=9)).isoformat())
    refused = client.post("/api/v1/consultations", json=too_soon, headers=headers)
    assert refused.status_code == 422
    assert "10 days" in refused.get_json()["error"]["fields"]["deadline"]
    ten = transaction(world.denial_id, deadline=(today() + timedelta(days=10)).isoformat())
    assert client.post("/api/v1/consultations", json=ten, headers=headers).status_code == 201


def test_the_page_applies_the_same_deadline_rule(app: Any, world: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), world.people["b_spoc"])
    url = f"/consultations/new?denial_id={world.denial_id}"
    form = {**{k: v for k, v in transaction(world.denial_id).items() if k != "control_entries"},
            "control_entries": "Wassenaar 5A001.j", "deadline": (today() + timedelta(days=5)).isoformat()}
    response = post_form(client, url, form, page=url)
    assert response.status_code == 200 and "at least 10 days" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Consultation.id)) is None
        db.session.remove()
    form["deadline"] = ""
    response = post_form(client, url, form, page=url)
    assert response.status_code == 302
    with app.app_context():
        consultation = db.session.scalars(select(Consultation)).one()
        assert consultation.deadline == today() + timedelta(days=30)
        assert consultation.control_entries == [{"regime": "Wassenaar", "code": "5A001.j"}]
        db.session.remove()


def test_overdue_is_shown_to_both_sides_once_the_deadline_passes(app: Any, world: Any, login_as: Any) -> None:
    consultation_id = open_consultation(app, world)
    a = login_as(app.test_client(), world.people["a_officer"])
    b = login_as(app.test_client(), world.people["b_officer"])
    for client in (a, b):
        assert 'id="overdue"' not in client.get(f"/consultations/{consultation_id}").get_data(as_text=True)
    run_sql(app, "UPDATE consultations SET deadline = :d", {"d": today() - timedelta(days=1)})
    for client in (a, b):
        assert 'id="overdue"' in client.get(f"/consultations/{consultation_id}").get_data(as_text=True)
        assert "overdue" in client.get("/consultations/").get_data(as_text=True)
    headers = bearer(api_token(app, world.people["b_spoc"]))
    assert app.test_client().get(f"/api/v1/consultations/{consultation_id}", headers=headers).get_json()["overdue"]
    # An answer stops the clock: it is no longer overdue.
    take_to(app, world, consultation_id, "answered")
    assert 'id="overdue"' not in b.get(f"/consultations/{consultation_id}").get_data(as_text=True)


def test_reminders_go_to_the_denying_state_7_and_2_days_before_once_each(app: Any, world: Any, mailbox: Any) -> None:
    consultation_id = open_consultation(app, world)
    deliver(app)
    mailbox.clear()
    run_sql(app, "UPDATE consultations SET deadline = :d", {"d": today() + timedelta(days=8)})
    runner = app.test_cli_runner()
    result: Result = runner.invoke(args=["consultations", "remind"])
    assert result.exit_code == 0, result.output
    assert deliver(app) == 0  # eight days ahead: nothing yet
    run_sql(app, "UPDATE consultations SET deadline = :d", {"d": today() + timedelta(days=7)})
    for _ in range(2):  # idempotent: a second run queues nothing new
        assert runner.invoke(args=["consultations", "remind"]).exit_code == 0
    deliver(app)
    a_side = {world.people["a_spoc"].email, world.people["a_officer"].email}
    assert sorted(m["To"] for m in mailbox.messages) == sorted(a_side)
    assert all("deadline approaching" in m["Subject"] for m in mailbox.messages)
    mailbox.clear()
    run_sql(app, "UPDATE consultations SET deadline = :d", {"d": today() + timedelta(days=2)})
    for _ in range(2):
        runner.invoke(args=["consultations", "remind"])
    deliver(app)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(a_side)
    mailbox.clear()
    # Once answered, nobody is reminded.
    take_to(app, world, consultation_id, "answered")
    deliver(app)
    mailbox.clear()
    run_sql(app, "UPDATE consultations SET deadline = :d", {"d": today() + timedelta(days=1)})
    with app.app_context():
        assert notify.queue_reminders(db.session).mails == 0
        db.session.remove()


# --- the thread --------------------------------------------------------------------------

def test_opening_answering_and_messages_alert_the_other_side_only(app: Any, world: Any, mailbox: Any) -> None:
    consultation_id = open_consultation(app, world)
    deliver(app)
    a_side = sorted([world.people["a_spoc"].email, world.people["a_officer"].email])
    assert sorted(m["To"] for m in mailbox.messages) == a_side
    for message in mailbox.messages:  # AMBER: a link, never the question
        assert "Zqconsultquestion" not in mailbox.text(message)
        assert str(message["Subject"]).strip().startswith("[TLP:AMBER]")
    mailbox.clear()
    take_to(app, world, consultation_id, "answered")
    deliver(app)
    assert sorted(m["To"] for m in mailbox.messages) == sorted([world.people["b_spoc"].email,
                                                                 world.people["b_officer"].email])
    with app.app_context():
        notified = {row.user_id for row in db.session.scalars(
            select(Notification).where(Notification.subject_type == "consultation"))}
        db.session.remove()
    # Opened by B's officer: A's SPOC and officer; answered by A's SPOC: B's SPOC and officer. No readers.
    assert notified == {world.people[k].id for k in ("a_spoc", "a_officer", "b_spoc", "b_officer")}


def test_green_consultation_mails_carry_the_words(app: Any, world: Any, make_item: Any, mailbox: Any) -> None:
    green = make_item(world.people["a_spoc"], "denial", "published", tlp="GREEN",
                      audience=helpers.audience(all_subscribing=True))
    deliver(app)
    mailbox.clear()
    with app.app_context():
        from portal.consultations import service

        service.open_consultation(db.session, helpers.user(world.people["b_officer"]), transaction(green))
        db.session.remove()
    deliver(app)
    assert mailbox.messages and all("Zqconsultquestion" in mailbox.text(m) for m in mailbox.messages)


def test_a_thread_through_the_pages(app: Any, world: Any, login_as: Any) -> None:
    consultation_id = open_consultation(app, world)
    url = f"/consultations/{consultation_id}"
    a = login_as(app.test_client(), world.people["a_officer"])
    b = login_as(app.test_client(), world.people["b_spoc"])
    assert post_form(b, f"{url}/messages", {"body": "Zqmessage from B"}, page=url).status_code == 302
    assert post_form(a, f"{url}/answer", {"position": "more_information_needed", "reasons": "Who is the broker?"},
                     page=url).status_code == 302
    page = b.get(url).get_data(as_text=True)
    assert "Zqmessage from B" in page and "More information needed" in page and "Who is the broker?" in page
    # Templates ask predicates: A gets the answer form, not the close form; B the reverse.
    assert 'id="answer-form"' in a.get(url).get_data(as_text=True)
    assert 'id="close-form"' not in a.get(url).get_data(as_text=True)
    assert 'id="close-form"' in page and 'id="answer-form"' not in page
    refused = post_form(a, f"{url}/answer", {"position": "maybe", "reasons": ""}, page=url)
    assert refused.status_code == 422


# --- closing -------------------------------------------------------------------------------

def test_granted_needs_reasons(app: Any, world: Any) -> None:
    consultation_id = open_consultation(app, world)
    headers = bearer(api_token(app, world.people["b_officer"]))
    response = app.test_client().post(f"/api/v1/consultations/{consultation_id}/close",
                                      json={"outcome": "granted", "reasons": "  "}, headers=headers)
    assert response.status_code == 422 and "reasons" in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.get(Consultation, consultation_id).status.value == "open"  # type: ignore[union-attr]
        db.session.remove()


def test_granted_notifies_the_denials_audience_under_its_marking(app: Any, world: Any, mailbox: Any,
                                                                 login_as: Any) -> None:
    consultation_id = open_consultation(app, world)
    take_to(app, world, consultation_id, "answered")
    deliver(app)
    mailbox.clear()
    headers = bearer(api_token(app, world.people["b_officer"]))
    response = app.test_client().post(f"/api/v1/consultations/{consultation_id}/close", headers=headers,
                                      json={"outcome": "granted", "reasons": "Zqgrantreason: end user reformed."})
    assert response.status_code == 200 and response.get_json()["status"] == "closed"
    deliver(app)
    denial_page = f"/denials/{world.denial_id}"
    # The third state in the denial's audience sees the notice and is notified.
    c = login_as(app.test_client(), world.people["c_officer"])
    assert "Zqgrantreason" in c.get(denial_page).get_data(as_text=True)
    assert "Licence granted after consultation" in c.get("/notifications/").get_data(as_text=True)
    # So do A's reader and the secretariat (both see the denial), but not B's own actor by e-mail.
    for who in ("a_reader", "secretariat", "a_spoc"):
        assert "Zqgrantreason" in login_as(app.test_client(), world.people[who]).get(denial_page).get_data(as_text=True)
    # A state outside the audience sees neither the denial nor the notice.
    outside = login_as(app.test_client(), world.people["outside_officer"])
    assert outside.get(denial_page).status_code == 404
    assert "Licence granted after consultation" not in outside.get("/notifications/").get_data(as_text=True)
    received = {m["To"] for m in mailbox.messages if "Licence granted after consultation" in m["Subject"]}
    assert world.people["c_officer"].email in received
    assert world.people["outside_officer"].email not in received
    assert world.people["admin"].email not in received and world.people["observer"].email not in received
    for message in mailbox.messages:  # AMBER: a link, never B's reasons
        assert "Zqgrantreason" not in mailbox.text(message)
    closed = app.test_client().get(f"/api/v1/consultations/{consultation_id}", headers=headers).get_json()
    assert closed["outcome"] == "granted" and closed["status"] == "closed"


def test_denied_offers_a_prefilled_denial_form(app: Any, world: Any, login_as: Any) -> None:
    consultation_id = open_consultation(app, world)
    take_to(app, world, consultation_id, "closed", outcome="denied", reasons="")
    url = f"/consultations/{consultation_id}"
    b = login_as(app.test_client(), world.people["b_officer"])
    page = b.get(url).get_data(as_text=True)
    assert 'id="record-denial"' in page
    form = b.get(f"/denials/new?from_consultation={consultation_id}").get_data(as_text=True)
    assert "Two IMSI catchers" in form and "Ministry of Home Affairs" in form
    assert 'value="Wassenaar"' in form and 'value="5A001.j"' in form  # the first control-list entry's fields
    # A is not offered it, and cannot reach the prefill.
    a = login_as(app.test_client(), world.people["a_spoc"])
    assert 'id="record-denial"' not in a.get(url).get_data(as_text=True)
    assert a.get(f"/denials/new?from_consultation={consultation_id}").status_code == 404


def test_granted_is_not_offered_a_denial(app: Any, world: Any, login_as: Any) -> None:
    consultation_id = open_consultation(app, world)
    take_to(app, world, consultation_id, "closed", outcome="granted", reasons="Reformed end user.")
    b = login_as(app.test_client(), world.people["b_officer"])
    assert 'id="record-denial"' not in b.get(f"/consultations/{consultation_id}").get_data(as_text=True)
    assert b.get(f"/denials/new?from_consultation={consultation_id}").status_code == 404


def test_audit_holds_ids_statuses_and_counts_only(app: Any, world: Any) -> None:
    consultation_id = open_consultation(app, world)
    take_to(app, world, consultation_id, "closed", outcome="granted", reasons="Zqgrantreason")
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("consultation.%")
                                                                   | AuditEntry.action.like("grant_notice.%")).order_by(AuditEntry.id)))
        db.session.remove()
    assert [e.action for e in entries] == ["consultation.opened", "consultation.answered", "grant_notice.created",
                                           "consultation.closed"]
    dumped = json.dumps([e.details for e in entries])
    for words in ("Zqconsultquestion", "Zqanswerreason", "Zqgrantreason", "Exemplar", "IMSI"):
        assert words not in dumped


def test_preferences_offer_the_consultations_topic(app: Any, world: Any, login_as: Any, mailbox: Any) -> None:
    a = login_as(app.test_client(), world.people["a_officer"])
    page = a.get("/notifications/preferences").get_data(as_text=True)
    assert '<input checked id="consultations-0"' in page  # "At once", the default for officers
    form = {"threat_notices": "immediate", "denials": "immediate", "documents": "digest", "meetings": "immediate",
            "consultations": "off", "min_severity": ""}
    assert post_form(a, "/notifications/preferences", form, page="/notifications/preferences").status_code == 302
    open_consultation(app, world)
    deliver(app)
    assert [m["To"] for m in mailbox.messages] == [world.people["a_spoc"].email]
