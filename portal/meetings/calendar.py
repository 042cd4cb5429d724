"""iCalendar (RFC 5545) for meetings: per-meeting .ics, e-mail invitations, private feeds.

A feed address carries a random token; only its SHA-256 is stored. The feed is computed
through access.meetings_filter for the token's owner, so it never lists more than that user
sees in the portal, and it stops working when the token is revoked or the user disabled.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.errors import Forbidden
from portal.meetings import times
from portal.models.base import utcnow
from portal.models.meeting import CalendarToken, Meeting, MeetingStatus
from portal.models.user import User, UserStatus
from portal.urls import external_url

PRODID = "-//ECHRI Portal//Meetings//EN"
TOKEN_PREFIX = "cal_"
FEED_HISTORY = timedelta(days=400)
FEED_LIMIT = 500
TOUCH_SECONDS = 3600


def meeting_uid(meeting: Meeting) -> str:
    """Stable for the meeting's life, so updates and cancellations replace the same event."""
    return f"meeting-{meeting.id}@echri-portal"


def meeting_url(meeting: Meeting) -> str:
    """The meeting's page, as an absolute address for e-mails and calendars."""
    return external_url("meetings.detail", meeting_id=meeting.id)


def _event(meeting: Meeting, now: datetime, organizer: bool) -> Event:
    tz = ZoneInfo(meeting.timezone)
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", now)
    event.add("dtstart", meeting.starts_at.astimezone(tz))
    event.add("dtend", meeting.ends_at.astimezone(tz))
    event.add("summary", f"{meeting.kind.label}: {meeting.title}")
    location = meeting.venue or ("Online" if meeting.online_url else "")
    if location:
        event.add("location", location)
    event.add("url", meeting_url(meeting))
    description = [meeting.description] if meeting.description else []
    if meeting.online_url:
        description.append(f"Join online: {meeting.online_url}")
    description.append(f"Meeting page: {meeting_url(meeting)}")
    event.add("description", "\n\n".join(description))
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if meeting.status is MeetingStatus.CANCELLED
              else "TENTATIVE" if meeting.status is MeetingStatus.DRAFT else "CONFIRMED")
    event.add("last-modified", meeting.updated_at)
    if organizer:
        address = vCalAddress("mailto:" + (parseaddr(current_app.config["MAIL_SENDER"])[1] or "no-reply@invalid"))
        address.params["cn"] = vText("ECHRI Secretariat")
        event.add("organizer", address)
    return event


def _calendar(method: str, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _finish(calendar: Calendar) -> bytes:
    calendar.add_missing_timezones()  # VTIMEZONE for every TZID used, as RFC 5545 requires
    return bytes(calendar.to_ical())


def meeting_ics(meeting: Meeting, method: str = "PUBLISH") -> bytes:
    """One meeting as an iCalendar object. REQUEST and CANCEL are for e-mail (iTIP, RFC 5546)."""
    calendar = _calendar(method)
    calendar.add_component(_event(meeting, utcnow(), organizer=method != "PUBLISH"))
    return _finish(calendar)


def feed_ics(session: Session, user: User) -> bytes:
    """The user's feed: meetings of their state (all meetings for the secretariat), drafts left out."""
    now = utcnow()
    meetings = session.scalars(select(Meeting).where(
        access.meetings_filter(user), Meeting.status != MeetingStatus.DRAFT, Meeting.ends_at >= now - FEED_HISTORY,
    ).order_by(Meeting.starts_at).limit(FEED_LIMIT))
    calendar = _calendar("PUBLISH", "ECHRI meetings")
    for meeting in meetings:
        calendar.add_component(_event(meeting, now, organizer=False))
    return _finish(calendar)


def ics_filename(meeting: Meeting) -> str:
    """A download name such as echri-plenary-2026-03-10.ics."""
    local = times.to_local(meeting.starts_at, meeting.timezone)
    return f"echri-{meeting.kind.value.replace('_', '-')}-{local:%Y-%m-%d}.ics"


# --- private feed tokens --------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def active_token(session: Session, user: User) -> CalendarToken | None:
    """The user's live feed token record, if any."""
    return session.scalar(select(CalendarToken).where(CalendarToken.user_id == user.id,
                                                      CalendarToken.revoked_at.is_(None)))


def _revoke_all(session: Session, user: User) -> int:
    tokens = list(session.scalars(select(CalendarToken).where(CalendarToken.user_id == user.id,
                                                              CalendarToken.revoked_at.is_(None))))
    for token in tokens:
        token.revoked_at = utcnow()
    return len(tokens)


def create_feed_token(session: Session, user: User) -> str:
    """A new private feed address for `user` (any previous one stops working). Shown once."""
    if not access.can_use_calendar_feed(user):
        raise Forbidden("Calendar feeds are for the secretariat and the states' users.")
    replaced = _revoke_all(session, user)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = CalendarToken(user_id=user.id, token_hash=_digest(token))
    session.add(record)
    session.flush()
    audit.record(session, "calendar_feed.created", actor=user, target_type="calendar_token", target_id=record.id,
                 details={"replaced": replaced})
    session.commit()
    return token


def revoke_feed_token(session: Session, user: User) -> int:
    """Stop the user's feed address; returns how many addresses were revoked."""
    revoked = _revoke_all(session, user)
    if revoked:
        audit.record(session, "calendar_feed.revoked", actor=user, target_type="user", target_id=user.id)
        session.commit()
    return revoked


def user_for_feed_token(session: Session, token: str) -> User | None:
    """The active owner of a live feed token; None for unknown, revoked or disabled."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    record = session.scalar(select(CalendarToken).where(CalendarToken.token_hash == _digest(token)))
    if record is None or record.revoked_at is not None or record.user.status is not UserStatus.ACTIVE:
        return None
    if not access.can_use_calendar_feed(record.user):
        return None
    now = utcnow()
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > TOUCH_SECONDS:
        record.last_used_at = now
        session.commit()
    return record.user
