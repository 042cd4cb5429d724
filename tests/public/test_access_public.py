"""Direct cases for the public side's rules in portal/access.py (the routes' tests go through them too)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import Flask

from portal import access
from portal.extensions import db
from portal.models import (
    ContactMessage, ContactStatus, ContactStep, OrganisationType, PublicConsultation,
)
from portal.models.base import utcnow
from tests.sharing.helpers import user


def message(status: ContactStatus = ContactStatus.OPEN, forwarded: str | None = None,
            call: PublicConsultation | None = None) -> ContactMessage:
    return ContactMessage(id=uuid.uuid4(), organisation_type=OrganisationType.OTHER, organisation="o", name="n",
                          email="e@x.example", country="c", subject="s", message="m", status=status,
                          forwarded_to_code=forwarded, consultation=call,
                          consultation_id=call.id if call is not None else None)


def call(code: str = "DK", copied: bool = False, closes_on: date | None = None) -> PublicConsultation:
    return PublicConsultation(id=uuid.uuid4(), originator_code=code, title="t", description="d",
                              closes_on=closes_on or date(2030, 1, 10), to_secretariat=copied)


def test_consultation_is_open_through_its_closing_date() -> None:
    c = call(closes_on=date(2030, 1, 10))
    assert access.public_consultation_open(c, date(2030, 1, 10))
    assert not access.public_consultation_open(c, date(2030, 1, 11))
    c.closed_at = utcnow()
    assert not access.public_consultation_open(c, date(2030, 1, 1))


def test_contact_message_rules(app: Flask, make_user: Any) -> None:
    accounts = {name: make_user(role, country) for name, role, country in (
        ("sec", "secretariat", None), ("dk", "spoc", "DK"), ("no", "spoc", "NO"), ("dk_officer", "officer", "DK"),
        ("admin", "admin", None))}
    with app.app_context():
        u = {name: user(account) for name, account in accounts.items()}
        plain, unconfirmed = message(), message(ContactStatus.UNCONFIRMED)
        forwarded = message(forwarded="DK")
        response, copied = message(call=call("DK")), message(call=call("DK", copied=True))
        assert access.can_view_contact_message(u["sec"], plain)
        assert not access.can_view_contact_message(u["sec"], unconfirmed)
        assert not access.can_view_contact_message(u["dk"], plain)
        assert access.can_view_contact_message(u["dk"], forwarded)
        assert not access.can_view_contact_message(u["no"], forwarded)
        assert access.can_view_contact_message(u["dk"], response)
        assert not access.can_view_contact_message(u["sec"], response)
        assert access.can_view_contact_message(u["sec"], copied)
        for outsider in ("dk_officer", "admin"):
            assert not access.can_view_contact_inbox(u[outsider])
            assert not any(access.can_view_contact_message(u[outsider], m) for m in (plain, forwarded, response))
        # Acting: the secretariat on messages to the Initiative, the calling SPOC on its responses.
        assert access.can_take_contact_step(u["sec"], plain, ContactStep.HANDLE)
        assert access.can_take_contact_step(u["sec"], plain, ContactStep.FORWARD)
        assert not access.can_take_contact_step(u["sec"], plain, ContactStep.REOPEN)  # not handled yet
        assert not access.can_take_contact_step(u["sec"], plain, ContactStep.CONFIRM)
        assert not access.can_take_contact_step(u["dk"], forwarded, ContactStep.HANDLE)
        assert access.can_take_contact_step(u["dk"], response, ContactStep.HANDLE)
        assert not access.can_take_contact_step(u["sec"], copied, ContactStep.HANDLE)
        assert not access.can_take_contact_step(u["dk"], response, ContactStep.FORWARD)
        assert access.can_delete_contact_message(u["dk"], response)
        assert not access.can_delete_contact_message(u["dk"], forwarded)
        db.session.remove()


def test_running_public_consultations(app: Flask, make_user: Any) -> None:
    from tests.sharing.helpers import add_observer_state

    add_observer_state(app, "CR", "Costa Rica")
    accounts = {name: make_user(role, country) for name, role, country in (
        ("dk", "spoc", "DK"), ("no", "spoc", "NO"), ("cr", "spoc", "CR"), ("dk_officer", "officer", "DK"),
        ("sec", "secretariat", None))}
    with app.app_context():
        u = {name: user(account) for name, account in accounts.items()}
        assert access.can_run_public_consultations(u["dk"])
        assert not any(access.can_run_public_consultations(u[n]) for n in ("cr", "dk_officer", "sec"))
        c = call("DK", closes_on=date.today() + timedelta(days=5))
        today = date.today()
        assert access.can_close_public_consultation(u["dk"], c, today)
        assert not access.can_close_public_consultation(u["no"], c, today)
        assert not access.can_publish_consultation_summary(u["dk"], c, today)  # still open
        assert access.can_publish_consultation_summary(u["dk"], c, today + timedelta(days=6))
        db.session.remove()
