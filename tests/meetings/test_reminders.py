"""`flask meetings remind`: registration-deadline and meeting reminders, once each."""
from __future__ import annotations

from typing import Any

from flask import Flask

from portal.extensions import db
from portal.meetings import registration
from portal.models import Meeting
from tests.conftest import audit_actions
from tests.meetings.conftest import deliver, local, new_meeting, user


def _register(app: Flask, spoc: Any, meeting_id: Any, email: str) -> None:
    with app.app_context():
        registration.add_delegate(db.session, user(spoc), db.session.get(Meeting, meeting_id),
                                  {"name": "Delegate", "email": email, "attendance": "in_person"})
        db.session.remove()


def test_reminders_go_out_once(app: Flask, people: Any, mailbox: Any) -> None:
    closing = new_meeting(app, people.sec, title="Plenary", starts_at=local(10, 9), ends_at=local(10, 17),
                          registration_deadline=local(5, 17))
    soon = new_meeting(app, people.sec, title="Expert meeting", kind="expert_meeting", starts_at=local(1, 12),
                       ends_at=local(1, 17), registration_deadline=local(1, 8), invite_all_subscribing=False,
                       states=["DK"])
    new_meeting(app, people.sec, title="Far away", starts_at=local(60, 9), ends_at=local(60, 17),
                registration_deadline=local(40, 17))
    _register(app, people.dk, closing, "someone@dk.example")
    _register(app, people.dk, soon, "officer@dk.example")  # a delegate with a portal account
    deliver(app)  # the invitations of the announcements
    mailbox.clear()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["meetings", "remind"])
    assert result.exit_code == 0, result.output
    assert "2 registration reminder(s) and 2 meeting reminder(s) queued." in result.output
    assert "4 message(s) sent." in result.output
    received = {(m["To"], m["Subject"]) for m in mailbox.messages}
    assert received == {
        ("spoc@fr.example", "Reminder: register your delegation for Plenary"),
        ("spoc@de.example", "Reminder: register your delegation for Plenary"),
        ("spoc@dk.example", "Reminder: Expert meeting starts soon"),
        ("officer@dk.example", "Reminder: Expert meeting starts soon"),
    }
    [fr_mail] = mailbox.to("spoc@fr.example")
    assert "France has not yet registered a delegation" in mailbox.text(fr_mail)
    assert "(Europe/Copenhagen)" in mailbox.text(fr_mail)

    # Run again (cron does): nothing new is sent.
    result = runner.invoke(args=["meetings", "remind"])
    assert result.exit_code == 0, result.output
    assert "0 registration reminder(s) and 0 meeting reminder(s) queued." in result.output
    assert len(mailbox.messages) == 4
    assert audit_actions(app, closing).count("meeting.registration_reminders_queued") == 1
    assert audit_actions(app, soon).count("meeting.reminders_queued") == 1


def test_reminders_skip_drafts_and_cancelled_meetings(app: Flask, people: Any, mailbox: Any) -> None:
    from portal.meetings import notify, service

    draft = new_meeting(app, people.sec, announce=False, starts_at=local(1, 12), ends_at=local(1, 17),
                        registration_deadline=local(1, 8))
    cancelled = new_meeting(app, people.sec, starts_at=local(1, 12), ends_at=local(1, 17),
                            registration_deadline=local(1, 8))
    with app.app_context():
        service.cancel(db.session, user(people.sec), db.session.get(Meeting, cancelled), "Postponed.")
        run = notify.queue_reminders(db.session)
        db.session.remove()
    assert (run.registration, run.meeting) == (0, 0)
    assert draft


def test_meeting_reminders_honour_not_by_email_but_invitations_do_not(app: Flask, people: Any, mailbox: Any) -> None:
    from portal.models.notification import AlertTopic, DeliveryMode
    from portal.notifications import prefs

    with app.app_context():
        prefs.save_preference(db.session, user(people.fr), AlertTopic.MEETINGS, DeliveryMode.OFF)
        db.session.remove()
    new_meeting(app, people.sec, title="Plenary", starts_at=local(10, 9), ends_at=local(10, 17),
                registration_deadline=local(5, 17))
    deliver(app)
    assert [m["Subject"] for m in mailbox.to("spoc@fr.example")] == ["Invitation: Plenary"]  # must act on it
    mailbox.clear()

    result = app.test_cli_runner().invoke(args=["meetings", "remind"])
    assert result.exit_code == 0, result.output
    assert mailbox.to("spoc@fr.example") == []  # a reminder is a nudge they declined
    assert [m["Subject"] for m in mailbox.to("spoc@de.example")] == ["Reminder: register your delegation for Plenary"]


def test_registration_reminders_reach_the_chosen_fallback_states(app: Flask, people: Any, make_user: Any,
                                                                  mailbox: Any) -> None:
    from portal.meetings import service

    es_officer = make_user("officer", "ES", email="officer@es.example")
    fi_reader = make_user("reader", "FI", email="reader@fi.example")
    meeting_id = new_meeting(app, people.sec, announce=False, title="Plenary", starts_at=local(10, 9),
                             ends_at=local(10, 17), registration_deadline=local(5, 17), invite_all_subscribing=False,
                             states=["DK", "ES", "FI"])
    with app.app_context():
        service.announce(db.session, user(people.sec), db.session.get(Meeting, meeting_id), ["ES"])
        db.session.remove()
    deliver(app)
    mailbox.clear()
    result = app.test_cli_runner().invoke(args=["meetings", "remind"])
    assert result.exit_code == 0, result.output
    received = {(m["To"], m["Subject"]) for m in mailbox.messages}
    assert received == {("spoc@dk.example", "Reminder: register your delegation for Plenary"),
                        (es_officer.email, "Reminder: register your delegation for Plenary")}
    assert mailbox.to(fi_reader.email) == []
