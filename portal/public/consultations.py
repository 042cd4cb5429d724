"""Public consultations: a state's call for input on the public side, responses into its inbox.

A call is TLP:CLEAR by nature (it is published the moment it is made, by the state's point of
contact); responses go through the same form rules, spam defences and address confirmation as
"Contact the Initiative" (they are contact messages tied to the call), and land in the calling
state's inbox, and the secretariat's if the call copies it. Once the call is closed, the state
decides whether a summary of the responses is published.
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.models.base import utcnow
from portal.models.public import ContactMail, ContactMessage, ContactStatus, PublicConsultation
from portal.models.user import User
from portal.public import contact
from portal.validation import Checker

MAX_DESCRIPTION = 20_000
MAX_SUMMARY = 20_000
MAX_DAYS_OPEN = 365


def _fail_if(c: Checker) -> None:
    if c.errors:
        raise ValidationFailed("Some fields need attention.", c.errors)


def validate_call(data: Any, today: date) -> tuple[str, str, date, bool]:
    """Title, description (plain text), closing date (tomorrow to a year ahead), copy to the secretariat."""
    c = Checker(data)
    title = c.text("title", required=True, limit=300)
    description = c.text("description", required=True, limit=MAX_DESCRIPTION, multiline=True)
    raw = c.date("closes_on", required=True)
    closes_on = date.fromisoformat(raw) if raw and "closes_on" not in c.errors else None
    if closes_on is not None and not today < closes_on <= today + timedelta(days=MAX_DAYS_OPEN):
        c.fail("closes_on", f"Choose a date after today and at most {MAX_DAYS_OPEN} days ahead.")
    to_secretariat = data.get("to_secretariat") in (True, "y", "true", "on")
    _fail_if(c)
    assert closes_on is not None
    return title, description, closes_on, to_secretariat


def create(session: Session, actor: User, data: Any, today: date | None = None) -> PublicConsultation:
    """Open a public call for input for the actor's state; it is on the public side at once."""
    if not access.can_run_public_consultations(actor):
        raise Forbidden("Only a subscribing state's point of contact runs a public consultation.")
    title, description, closes_on, to_secretariat = validate_call(data, today or utcnow().date())
    assert actor.country_code is not None
    call = PublicConsultation(id=uuid.uuid4(), originator_code=actor.country_code, created_by_id=actor.id,
                              title=title, description=description, closes_on=closes_on,
                              to_secretariat=to_secretariat, created_at=utcnow())
    session.add(call)
    session.flush()
    audit.record(session, "public_consultation.opened", actor=actor, target_type="public_consultation",
                 target_id=call.id, details={"deadline": closes_on.isoformat()})
    session.commit()
    return call


def close(session: Session, actor: User, call: PublicConsultation, today: date | None = None) -> None:
    """Close the call before its closing date."""
    if not access.can_close_public_consultation(actor, call, today or utcnow().date()):
        raise Forbidden("Only the calling state's point of contact closes an open consultation.")
    call.closed_at = utcnow()
    audit.record(session, "public_consultation.closed", actor=actor, target_type="public_consultation",
                 target_id=call.id)
    session.commit()


def publish_summary(session: Session, actor: User, call: PublicConsultation, data: Any,
                    today: date | None = None) -> None:
    """Publish a summary of the responses on the public side (the state's choice, once closed)."""
    if not access.can_publish_consultation_summary(actor, call, today or utcnow().date()):
        raise Forbidden("The calling state's point of contact publishes a summary once the consultation is closed.")
    c = Checker(data)
    summary = c.text("summary", required=True, limit=MAX_SUMMARY, multiline=True)
    _fail_if(c)
    call.summary = summary
    call.summary_published_at = utcnow()
    audit.record(session, "public_consultation.summary_published", actor=actor, target_type="public_consultation",
                 target_id=call.id)
    session.commit()


def list_public(session: Session) -> list[PublicConsultation]:
    return list(session.scalars(select(PublicConsultation).where(access.public_consultations_filter())
                                .order_by(PublicConsultation.created_at.desc()).limit(200)))


def get_public(session: Session, call_id: uuid.UUID) -> PublicConsultation:
    call = session.scalar(select(PublicConsultation).where(PublicConsultation.id == call_id,
                                                           access.public_consultations_filter()))
    if call is None:
        raise NotFound()
    return call


def own(session: Session, actor: User) -> list[PublicConsultation]:
    if not access.can_run_public_consultations(actor):
        raise NotFound()
    return list(session.scalars(select(PublicConsultation).where(access.own_public_consultations_filter(actor))
                                .order_by(PublicConsultation.created_at.desc())))


def get_own(session: Session, actor: User, call_id: uuid.UUID) -> PublicConsultation:
    call = session.get(PublicConsultation, call_id)
    if call is None or not access.can_manage_public_consultation(actor, call):
        raise NotFound()
    return call


def respond(session: Session, call: PublicConsultation, data: Any, today: date | None = None) -> ContactMessage:
    """Keep an unconfirmed response to an open call and owe its sender the confirmation e-mail."""
    if not access.public_consultation_open(call, today or utcnow().date()):
        raise ValidationFailed("This consultation is closed: it no longer takes responses.")
    clean = contact.validate({**(data if isinstance(data, dict) else {}), "subject": f"Response: {call.title}"[:200]})
    message = ContactMessage(id=uuid.uuid4(), organisation_type=clean.organisation_type,
                             organisation=clean.organisation, name=clean.name, email=clean.email,
                             country=clean.country, subject=clean.subject, message=clean.message,
                             status=ContactStatus.UNCONFIRMED, mail_due=ContactMail.CONFIRM, created_at=utcnow(),
                             consultation_id=call.id)
    session.add(message)
    session.commit()
    return message
