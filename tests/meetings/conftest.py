"""Helpers for the meeting tests: accounts per role, meetings made through the service, mail."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar

from portal.extensions import db
from portal.models import Country, CountryStatus, Meeting, User

ZONE = "Europe/Copenhagen"


def local(days: int, hour: int = 9, minute: int = 0) -> datetime:
    """A wall-clock time `days` from today (naive: the meeting's zone applies)."""
    day = date.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute)


def payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "plenary", "title": "Fourth plenary of the Initiative", "description": "Annual plenary.",
        "timezone": ZONE, "starts_at": local(30, 9), "ends_at": local(31, 17), "registration_deadline": local(20, 17),
        "venue": "Eigtveds Pakhus, Copenhagen", "online_url": "https://meet.example.org/echri-plenary",
        "invite_all_subscribing": True, "invite_observers": False, "states": [],
    }
    data.update(overrides)
    return data


def form(data: dict[str, Any]) -> dict[str, Any]:
    """A service payload as the HTML form posts it."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, datetime):
            out[key] = value.strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, bool):
            if value:
                out[key] = "y"
        elif value is None:
            out[key] = ""
        else:
            out[key] = value
    return out


def user(account: Any) -> User:
    found = db.session.get(User, account.id)
    assert found is not None
    return found


def new_meeting(app: Flask, account: Any, *, announce: bool = True, **overrides: Any) -> uuid.UUID:
    """A meeting made by `account` (the secretariat) through the service, announced unless told not to."""
    from portal.meetings import service

    with app.app_context():
        actor = user(account)
        meeting = service.create_meeting(db.session, actor, payload(**overrides))
        if announce:
            service.announce(db.session, actor, meeting)
        meeting_id = meeting.id
        db.session.remove()
    return meeting_id


def deliver(app: Flask) -> int:
    """Send what the outbox holds, over real SMTP to the loopback server."""
    from portal.notifications.outbox import deliver_pending

    with app.app_context():
        sent = deliver_pending(db.session)
        db.session.remove()
    return sent


def calendars(message: EmailMessage) -> list[Calendar]:
    """The iCalendar attachments of a received e-mail, parsed."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            found.append(Calendar.from_ical(part.get_payload(decode=True)))
    return found


def add_observer(app: Flask, code: str = "CR", name: str = "Costa Rica") -> str:
    with app.app_context():
        db.session.add(Country(code=code, name=name, status=CountryStatus.OBSERVER))
        db.session.commit()
        db.session.remove()
    return code


def shift_meeting(app: Flask, meeting_id: uuid.UUID, days: int) -> None:
    """Move a meeting (and its deadline) in time, as if the calendar had moved on."""
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting is not None
        delta = timedelta(days=days)
        meeting.registration_deadline += delta
        meeting.starts_at += delta
        meeting.ends_at += delta
        db.session.commit()
        db.session.remove()


@pytest.fixture
def people(app: Flask, make_user: Any) -> SimpleNamespace:
    """The cast: the secretariat, an administrator, and users of Denmark, France and Germany."""
    return SimpleNamespace(
        sec=make_user("secretariat", None, email="secretariat@echri.example", name="Sam Secretariat"),
        admin=make_user("admin", None, email="admin@echri.example"),
        dk=make_user("spoc", "DK", email="spoc@dk.example", name="Dana Dane"),
        dk_officer=make_user("officer", "DK", email="officer@dk.example"),
        dk_reader=make_user("reader", "DK", email="reader@dk.example"),
        fr=make_user("spoc", "FR", email="spoc@fr.example", name="Francine Franc"),
        fr_officer=make_user("officer", "FR", email="officer@fr.example"),
        de=make_user("spoc", "DE", email="spoc@de.example", name="Dieter Deutsch"),
    )
