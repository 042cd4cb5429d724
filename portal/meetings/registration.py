"""Delegations: a point of contact registers its state's delegates until the deadline.

One head of delegation per state and meeting is enforced by a partial unique index; the
check here only turns the common case into a friendly message before the database has to.
"""
from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import access, audit
from portal.downloads import safe_cell
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.meetings import times
from portal.models.base import utcnow
from portal.models.country import Country
from portal.models.meeting import Attendance, Delegate, Meeting, MeetingStatus
from portal.models.user import User
from portal.validation import Checker

MAX_DELEGATES = 20  # per state and meeting
EMAIL_PATTERN = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]{2,}$")
CSV_COLUMNS = ["State", "State code", "Name", "Position", "E-mail", "Attendance", "Head of delegation",
               "Registered (UTC)"]
DUPLICATE_MESSAGE = "This person is already in your delegation to the meeting."


def closed_message(meeting: Meeting) -> str:
    """Why registration is not open, in words for the point of contact."""
    if meeting.status is MeetingStatus.DRAFT:
        return "Registration opens when the meeting is announced."
    if meeting.status is MeetingStatus.ANNOUNCED:
        deadline = times.format_moment(meeting.registration_deadline, meeting.timezone)
        return (f"Registration closed at the deadline, {deadline}. "
                "Write to the secretariat if your delegation must change.")
    return "Registration for this meeting is closed. Write to the secretariat if your delegation must change."


def _check(actor: User, meeting: Meeting) -> str:
    if not access.can_register_delegation(actor, meeting):
        raise Forbidden("Only a point of contact of an invited state registers its delegation.")
    if not access.registration_is_open(meeting, utcnow()):
        raise ValidationFailed(closed_message(meeting))
    assert actor.country_code is not None
    return actor.country_code


def delegation(session: Session, meeting: Meeting, country_code: str) -> list[Delegate]:
    """One state's delegation to the meeting, head first."""
    return list(session.scalars(select(Delegate).where(Delegate.meeting_id == meeting.id,
                                                       Delegate.country_code == country_code)
                                .order_by(Delegate.is_head.desc(), Delegate.name, Delegate.id)))


def get_delegate(session: Session, actor: User, meeting: Meeting, delegate_id: uuid.UUID) -> Delegate:
    """A delegate of the actor's own state (the only ones it may change)."""
    found = session.scalar(select(Delegate).where(Delegate.id == delegate_id, Delegate.meeting_id == meeting.id,
                                                  Delegate.country_code == actor.country_code))
    if found is None:
        raise NotFound()
    return found


def _validate(session: Session, meeting: Meeting, code: str, payload: Mapping[str, Any],
              current: Delegate | None) -> dict[str, Any]:
    c = Checker(dict(payload))
    name = c.text("name", required=True, limit=200, missing="Enter the delegate's full name.")
    position = c.text("position", limit=200)
    email = c.text("email", limit=254).lower()
    if not EMAIL_PATTERN.match(email):
        c.fail("email", "Enter an e-mail address like name@ministry.example.")
    elif "email" not in c.errors:
        # Only the state's own delegation: another state's delegates are not this state's to confirm.
        clash = session.scalar(select(Delegate).where(Delegate.meeting_id == meeting.id, Delegate.country_code == code,
                                                      Delegate.email == email))
        if clash is not None and clash is not current:
            c.fail("email", DUPLICATE_MESSAGE)
    attendance = c.enum("attendance", Attendance, message="Choose in person or remote.", default=Attendance.REMOTE)
    if attendance not in access.offered_attendance(meeting):
        c.fail("attendance", "This meeting is online only: choose remote." if attendance is Attendance.IN_PERSON
               else "This meeting has no online participation: choose in person.")
    is_head = c.flag("is_head")
    if is_head:
        head = session.scalar(select(Delegate).where(Delegate.meeting_id == meeting.id, Delegate.country_code == code,
                                                     Delegate.is_head.is_(True)))
        if head is not None and head is not current:
            c.fail("is_head", f"{head.name} is already your head of delegation. "
                   "A state has one head of delegation: change theirs first.")
    c.done()
    return {"name": name, "position": position, "email": email, "attendance": attendance, "is_head": is_head}


def _flush(session: Session, meeting: Meeting, code: str, email: str) -> None:
    """Write now; a race lost to the unique indexes becomes the same message as the checks above."""
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        taken = session.scalar(select(Delegate.id).where(Delegate.meeting_id == meeting.id,
                                                         Delegate.country_code == code, Delegate.email == email))
        if taken is not None:
            raise ValidationFailed("Some fields need attention.", {"email": DUPLICATE_MESSAGE}) from None
        raise ValidationFailed("Some fields need attention.", {
            "is_head": "Your state already has a head of delegation: change theirs first."}) from None


def add_delegate(session: Session, actor: User, meeting: Meeting, payload: Mapping[str, Any]) -> Delegate:
    """Register one delegate of the actor's state."""
    code = _check(actor, meeting)
    count = session.scalar(select(func.count()).where(Delegate.meeting_id == meeting.id,
                                                      Delegate.country_code == code)) or 0
    if count >= MAX_DELEGATES:
        raise ValidationFailed(f"A delegation has at most {MAX_DELEGATES} members.")
    clean = _validate(session, meeting, code, payload, None)
    delegate = Delegate(id=uuid.uuid4(), meeting_id=meeting.id, country_code=code, registered_by_id=actor.id, **clean)
    session.add(delegate)
    _flush(session, meeting, code, clean["email"])
    audit.record(session, "meeting.delegate_registered", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"delegate": str(delegate.id), "head": delegate.is_head})
    session.commit()
    return delegate


def update_delegate(session: Session, actor: User, meeting: Meeting, delegate: Delegate,
                    payload: Mapping[str, Any]) -> None:
    """Change a delegate of the actor's state."""
    code = _check(actor, meeting)
    if delegate.country_code != code:
        raise NotFound()
    clean = _validate(session, meeting, code, payload, delegate)
    for name, value in clean.items():
        setattr(delegate, name, value)
    delegate.updated_at = utcnow()
    _flush(session, meeting, code, clean["email"])
    audit.record(session, "meeting.delegate_updated", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"delegate": str(delegate.id), "head": delegate.is_head})
    session.commit()


def remove_delegate(session: Session, actor: User, meeting: Meeting, delegate: Delegate) -> None:
    """Withdraw a delegate of the actor's state."""
    code = _check(actor, meeting)
    if delegate.country_code != code:
        raise NotFound()
    session.delete(delegate)
    audit.record(session, "meeting.delegate_removed", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"delegate": str(delegate.id)})
    session.commit()


@dataclass
class StateDelegation:
    country: Country
    delegates: list[Delegate]


def participants(session: Session, meeting: Meeting) -> list[StateDelegation]:
    """Every registered delegation, by state name (shown to all who see the meeting)."""
    rows = session.scalars(select(Delegate).join(Country, Country.code == Delegate.country_code)
                           .where(Delegate.meeting_id == meeting.id)
                           .order_by(Country.name, Delegate.is_head.desc(), Delegate.name, Delegate.id))
    grouped: dict[str, StateDelegation] = {}
    for delegate in rows:
        grouped.setdefault(delegate.country_code, StateDelegation(delegate.country, [])).delegates.append(delegate)
    return list(grouped.values())



def export_csv(session: Session, actor: User, meeting: Meeting) -> str:
    """All registrations as CSV, for the secretariat."""
    if not access.can_manage_meetings(actor):
        raise Forbidden("Only the secretariat exports registrations.")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for group in participants(session, meeting):
        for d in group.delegates:
            writer.writerow([safe_cell(v) for v in (
                group.country.name, d.country_code, d.name, d.position, d.email, d.attendance.label,
                "yes" if d.is_head else "no", d.created_at.strftime("%Y-%m-%d %H:%M"))])
    audit.record(session, "meeting.registrations_exported", actor=actor, target_type="meeting", target_id=meeting.id)
    session.commit()
    return buffer.getvalue()
