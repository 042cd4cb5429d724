"""Meetings: creation, details, invitations and the status lifecycle.

Each operation takes the actor, checks access.py, writes, audits and commits. E-mails go
through the outbox in the same transaction (portal.meetings.notify).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.errors import Forbidden, Locked, NotFound, ValidationFailed
from portal.forms import MAX_REASON
from portal.meetings import agenda, notify, times
from portal.models.base import utcnow
from portal.models.country import Country, CountryStatus
from portal.models.meeting import (
    MEETING_TRANSITIONS, Meeting, MeetingInvitedState, MeetingKind, MeetingStatus, MeetingStep,
)
from portal.models.user import User
from portal.pagination import Page, paginate
from portal.validation import Checker

MAX_TITLE = 300
MAX_DESCRIPTION = 20_000


def get_visible_meeting(session: Session, actor: User, meeting_id: uuid.UUID) -> Meeting:
    """The meeting if `actor` may see it; NotFound otherwise (never Forbidden: no leak)."""
    meeting = session.scalar(select(Meeting).where(Meeting.id == meeting_id, access.meetings_filter(actor)))
    if meeting is None:
        raise NotFound()
    return meeting


def list_meetings(session: Session, actor: User, when: str, args: Mapping[str, Any]) -> Page[Meeting]:
    """One page of the meetings `actor` sees: upcoming (soonest first) or past (latest first)."""
    query = select(Meeting).where(access.meetings_filter(actor))
    now = utcnow()
    if when == "past":
        query = query.where(Meeting.ends_at < now).order_by(Meeting.starts_at.desc(), Meeting.id)
    else:
        query = query.where(Meeting.ends_at >= now).order_by(Meeting.starts_at, Meeting.id)
    return paginate(session, query, args)


def upcoming(session: Session, actor: User, limit: int = 3) -> list[Meeting]:
    """The next meetings for the home page (drafts left out)."""
    return list(session.scalars(select(Meeting).where(
        access.meetings_filter(actor), Meeting.ends_at >= utcnow(),
        Meeting.status.notin_((MeetingStatus.DRAFT, MeetingStatus.CANCELLED)),
    ).order_by(Meeting.starts_at).limit(limit)))


def invited_countries(session: Session, meeting: Meeting) -> list[Country]:
    """The states invited to `meeting`, by name."""
    return [c for c in session.scalars(select(Country).order_by(Country.name)) if access.meeting_invites(meeting, c)]


def states_without_contact(session: Session, meeting: Meeting) -> list[Country]:
    """Invited states with no active point of contact: the invitation would reach nobody there."""
    covered = {u.country_code for u in notify.spocs_of(session, [c.code for c in invited_countries(session, meeting)])}
    return [c for c in invited_countries(session, meeting) if c.code not in covered]


# --- details --------------------------------------------------------------------------

@dataclass
class CleanMeeting:
    kind: MeetingKind
    title: str
    description: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime
    venue: str
    online_url: str | None
    invite_all_subscribing: bool
    invite_observers: bool
    states: list[str] = field(default_factory=list)


def _local(c: Checker, name: str, zone_name: str, label: str) -> datetime | None:
    """`name` as a wall-clock time in the meeting's zone, in UTC."""
    raw = c.moment(name, required=f"Enter the {label}.",
                   message=f"Enter the {label} as a date and time, e.g. 2026-03-10 09:30.")
    if raw is None or times.zone(zone_name) is None:
        return None  # the zone's own error is reported
    moment = times.to_utc(raw, zone_name)
    if moment is None:
        c.fail(name, f"That time does not exist in {zone_name} (the clocks change then). Choose another.")
    return moment


def _https_url(c: Checker) -> str | None:
    url = c.text("online_url", limit=500)
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or any(ch.isspace() for ch in url):
        c.fail("online_url", "Enter a full https:// address, e.g. https://meet.example.org/echri-plenary.")
        return None
    return url


def validate(session: Session, payload: Mapping[str, Any]) -> CleanMeeting:
    """Check a meeting's fields; ValidationFailed names every field that needs attention."""
    c = Checker(dict(payload))
    kind = c.enum("kind", MeetingKind, message="Choose the kind of meeting.", default=MeetingKind.PLENARY)
    title = c.text("title", required=True, limit=MAX_TITLE, missing="Enter the meeting's title.")
    description = c.text("description", limit=MAX_DESCRIPTION, multiline=True)
    zone_name = c.text("timezone", limit=64)
    if times.zone(zone_name) is None:
        c.fail("timezone", "Choose the meeting's time zone, e.g. Europe/Copenhagen.")
    starts = _local(c, "starts_at", zone_name, "start")
    ends = _local(c, "ends_at", zone_name, "end")
    deadline = _local(c, "registration_deadline", zone_name, "registration deadline")
    if starts and ends and ends <= starts:
        c.fail("ends_at", "The meeting must end after it starts.")
    if starts and deadline and deadline > starts:
        c.fail("registration_deadline", "Registration must close before the meeting starts.")
    venue = c.text("venue", limit=300)
    online_url = _https_url(c)
    if not venue and not online_url and "online_url" not in c.errors:
        c.fail("venue", "Give a venue, an online link, or both.")
    all_subscribing = c.flag("invite_all_subscribing")
    observers = c.flag("invite_observers")
    states = sorted({code.upper() for code in c.strings("states", limit=10)})
    if states:
        known = {country.code: country for country in session.scalars(select(Country).where(Country.code.in_(states)))}
        unknown = [code for code in states if code not in known]
        observer_named = [code for code in states if code in known and known[code].status is CountryStatus.OBSERVER]
        if unknown:
            c.fail("states", f"Not in the register: {', '.join(unknown)}.")
        elif observer_named:
            c.fail("states", "Observer states are invited together, with “Invite observer states”.")
    if not all_subscribing and not states and not observers:
        c.fail("states", "Invite all subscribing states, name some, or invite observer states.")
    c.done()
    assert starts and ends and deadline
    return CleanMeeting(kind, title, description, zone_name, starts, ends, deadline, venue, online_url,
                        all_subscribing, observers, [] if all_subscribing else states)


def _apply(meeting: Meeting, clean: CleanMeeting) -> list[str]:
    """Copy the fields over; returns the names of those that changed."""
    changed = []
    for name in ("kind", "title", "description", "timezone", "starts_at", "ends_at", "registration_deadline", "venue",
                 "online_url", "invite_all_subscribing", "invite_observers"):
        value = getattr(clean, name)
        if getattr(meeting, name, None) != value:
            setattr(meeting, name, value)
            changed.append(name)
    if sorted(meeting.named_states) != clean.states:
        meeting.invited_states = [s for s in meeting.invited_states if s.country_code in clean.states] + [
            MeetingInvitedState(country_code=c) for c in clean.states if c not in meeting.named_states]
        changed.append("states")
    meeting.updated_at = utcnow()
    return changed


def _require_manager(actor: User) -> None:
    if not access.can_manage_meetings(actor):
        raise Forbidden("Only the secretariat organises meetings.")


def take_step(actor: User, meeting: Meeting, step: MeetingStep) -> None:
    """Move the meeting along its lifecycle table (flushes nothing; the operation commits)."""
    _require_manager(actor)
    now = utcnow()
    refusal = access.meeting_step_refusal(meeting, step, now)
    if refusal is not None:
        raise ValidationFailed(refusal)
    meeting.status = MEETING_TRANSITIONS[step][1]
    meeting.updated_at = now


def create_meeting(session: Session, actor: User, payload: Mapping[str, Any]) -> Meeting:
    """Create a meeting as a draft: only the secretariat sees it until it is announced."""
    _require_manager(actor)
    clean = validate(session, payload)
    meeting = Meeting(id=uuid.uuid4(), status=MeetingStatus.DRAFT, created_by_id=actor.id, sequence=0)
    _apply(meeting, clean)
    session.add(meeting)
    session.flush()
    audit.record(session, "meeting.created", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"kind": meeting.kind.value})
    session.commit()
    return meeting


def update_meeting(session: Session, actor: User, meeting: Meeting, payload: Mapping[str, Any]) -> list[str]:
    """Change a meeting's details until it is held; an announced meeting's invitees get an updated invitation."""
    _require_manager(actor)
    if not meeting.is_open_for_changes:
        raise Locked("This meeting has been held or cancelled: its details no longer change.")
    clean = validate(session, payload)
    changed = _apply(meeting, clean)
    if not changed:
        return []
    queued = 0
    if meeting.is_announced:
        meeting.sequence += 1
        session.flush()
        queued = notify.queue_invitations(session, meeting, "updated")
    audit.record(session, "meeting.updated", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"changed": changed, "sequence": meeting.sequence, "mails_queued": queued})
    session.commit()
    return changed


def announce(session: Session, actor: User, meeting: Meeting, fallback: Iterable[str] = ()) -> int:
    """Announce a draft: invited states see it, the agenda is published and their SPOCs are e-mailed
    an invitation; for the states in `fallback` that have no point of contact, all their active users."""
    take_step(actor, meeting, MeetingStep.ANNOUNCE)
    uncovered = {c.code for c in states_without_contact(session, meeting)}
    chosen = set(fallback)
    if chosen - uncovered:
        raise ValidationFailed("Choose a fallback only for invited states without a point of contact.",
                               {"fallback": "Choose a fallback only for invited states without a point of contact."})
    meeting.announced_at = meeting.updated_at
    # Remembered so the updates, the cancellation and the reminders reach the same people.
    meeting.fallback_states = sorted(chosen)
    session.flush()
    agenda.snapshot(session, actor, meeting)
    queued = notify.queue_invitations(session, meeting, "announced")
    audit.record(session, "meeting.announced", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"mails_queued": queued, "fallback_states": len(chosen),
                          "uncovered_states": len(uncovered - chosen)})
    session.commit()
    return queued


def close_registration(session: Session, actor: User, meeting: Meeting) -> None:
    """Close registration before (or at) the deadline."""
    take_step(actor, meeting, MeetingStep.CLOSE_REGISTRATION)
    audit.record(session, "meeting.registration_closed", actor=actor, target_type="meeting", target_id=meeting.id)
    session.commit()


def reopen_registration(session: Session, actor: User, meeting: Meeting) -> None:
    """Reopen registration (until the deadline, which may be moved first)."""
    take_step(actor, meeting, MeetingStep.REOPEN_REGISTRATION)
    audit.record(session, "meeting.registration_reopened", actor=actor, target_type="meeting", target_id=meeting.id)
    session.commit()


def mark_held(session: Session, actor: User, meeting: Meeting) -> None:
    """Record that the meeting took place: the agenda is frozen and minutes can be written."""
    take_step(actor, meeting, MeetingStep.MARK_HELD)
    audit.record(session, "meeting.held", actor=actor, target_type="meeting", target_id=meeting.id)
    session.commit()


def cancel(session: Session, actor: User, meeting: Meeting, reason: str) -> int:
    """Cancel a meeting before it is held; invited SPOCs (and chosen fallback states' users) of an
    announced meeting get a cancellation."""
    reason = reason.strip()
    _require_manager(actor)
    if (meeting.is_open_for_changes and not reason) or len(reason) > MAX_REASON:
        message = ("Give the reason for the cancellation." if not reason
                   else f"Use at most {MAX_REASON:,} characters.")
        raise ValidationFailed(message, {"reason": message})
    was_announced = meeting.is_announced
    take_step(actor, meeting, MeetingStep.CANCEL)
    meeting.cancelled_at = meeting.updated_at
    meeting.cancellation_reason = reason
    meeting.sequence += 1
    session.flush()
    queued = notify.queue_invitations(session, meeting, "cancelled", reason=reason) if was_announced else 0
    audit.record(session, "meeting.cancelled", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"mails_queued": queued})
    session.commit()
    return queued
