"""Minutes: drafted by the secretariat along the agenda, circulated for comment, adopted and locked.

Each circulated or adopted text is kept as a MinutesVersion. Invited states read the last
circulated (or the adopted) version, never the secretariat's working draft. A comment is
seen by the secretariat and the state that wrote it, nobody else.
"""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access, audit, versions
from portal.errors import Forbidden, Locked, NotFound, ValidationFailed
from portal.meetings import agenda, notify, service, times
from portal.models.base import utcnow
from portal.models.country import Country
from portal.models.meeting import (
    Meeting, MeetingStatus, MeetingStep, Minutes, MinutesComment, MinutesStatus, MinutesVersion,
)
from portal.models.user import User

MAX_BODY = 200_000
MAX_COMMENT = 10_000
LOCKED_MESSAGE = "These minutes were adopted and are locked: they can no longer be changed or commented on."


def get_minutes(session: Session, meeting: Meeting) -> Minutes | None:
    """The meeting's minutes, if the secretariat has started them."""
    return session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))


def outline(session: Session, actor: User, meeting: Meeting) -> str:
    """A first draft structured by the agenda: one section per agenda item."""
    lines = [f"# Minutes: {meeting.title}", "",
             f"{meeting.kind.label}, {times.format_span(meeting.starts_at, meeting.ends_at, meeting.timezone)}"
             + (f", {meeting.venue}" if meeting.venue else ""), ""]
    for row in agenda.rows_for(session, actor, meeting):
        lines += [f"## {row.position}. {row.title}", ""]
        lead = session.get(Country, row.lead_state) if row.lead_state else None
        if lead is not None:
            lines += [f"*Lead: {lead.name}*", ""]
        lines += ["", ""]
    lines += ["## Decisions and actions", "", ""]
    return "\n".join(lines)


def check_writable(actor: User, meeting: Meeting, minutes: Minutes | None) -> None:
    """Raise the refusal that explains why the actor may not write these minutes now."""
    if access.can_write_minutes(actor, meeting, minutes):
        return
    if not access.can_manage_meetings(actor):
        raise Forbidden("Only the secretariat writes the minutes.")
    if (minutes is not None and minutes.is_locked) or meeting.status is MeetingStatus.MINUTES_ADOPTED:
        raise Locked(LOCKED_MESSAGE)
    raise ValidationFailed("Minutes are written once the meeting has been held.")


def save_draft(session: Session, actor: User, meeting: Meeting, body: str) -> Minutes:
    """Save the secretariat's working text of the minutes."""
    minutes = get_minutes(session, meeting)
    check_writable(actor, meeting, minutes)
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ValidationFailed("Write the minutes first.", {"body": "Write the minutes first."})
    if len(body) > MAX_BODY:
        raise ValidationFailed("The minutes are too long.", {"body": f"Use at most {MAX_BODY:,} characters."})
    if minutes is None:
        minutes = Minutes(id=uuid.uuid4(), meeting_id=meeting.id, status=MinutesStatus.DRAFT, version=0)
        session.add(minutes)
    minutes.body = body
    minutes.updated_at = utcnow()
    session.flush()
    audit.record(session, "meeting.minutes_saved", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"status": minutes.status.value, "length": len(body)})
    session.commit()
    return minutes


def latest_version(session: Session, minutes: Minutes) -> MinutesVersion | None:
    """The last circulated or adopted text (None before circulation)."""
    return versions.latest(session, MinutesVersion, MinutesVersion.minutes_id == minutes.id)


def circulated_versions(session: Session, minutes: Minutes) -> list[MinutesVersion]:
    """Every circulated or adopted text, newest first."""
    return versions.newest_first(session, MinutesVersion, MinutesVersion.minutes_id == minutes.id)


def get_version(session: Session, minutes: Minutes, number: int) -> MinutesVersion:
    """One circulated or adopted text; NotFound otherwise."""
    found = versions.numbered(session, MinutesVersion, MinutesVersion.minutes_id == minutes.id, number)
    if found is None:
        raise NotFound()
    return found


def has_uncirculated_changes(session: Session, minutes: Minutes) -> bool:
    """Whether the working text differs from the last circulated version."""
    latest = latest_version(session, minutes)
    return latest is None or latest.body != minutes.body


def _new_version(session: Session, actor: User, minutes: Minutes, status: MinutesStatus) -> MinutesVersion:
    minutes.version += 1
    minutes.status = status
    minutes.updated_at = utcnow()
    version = MinutesVersion(minutes_id=minutes.id, version=minutes.version, status=status, body=minutes.body,
                             created_at=utcnow(), created_by_id=actor.id)
    session.add(version)
    session.flush()
    return version


def circulate(session: Session, actor: User, meeting: Meeting) -> MinutesVersion:
    """Send the current text to the invited states for comment, as a new version."""
    minutes = get_minutes(session, meeting)
    check_writable(actor, meeting, minutes)
    if minutes is None or not minutes.body:
        raise ValidationFailed("Save a draft of the minutes before circulating them.")
    if not has_uncirculated_changes(session, minutes):
        raise ValidationFailed("This text has already been circulated. Change it before circulating again.")
    version = _new_version(session, actor, minutes, MinutesStatus.CIRCULATED)
    queued = notify.queue_minutes(session, meeting, version.version, "circulated")
    audit.record(session, "meeting.minutes_circulated", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"version": version.version, "mails_queued": queued})
    session.commit()
    return version


def adopt(session: Session, actor: User, meeting: Meeting) -> MinutesVersion:
    """Adopt the current text: it becomes the final version and the minutes are locked."""
    minutes = get_minutes(session, meeting)
    check_writable(actor, meeting, minutes)
    if minutes is None or not access.can_adopt_minutes(actor, meeting, minutes):
        raise ValidationFailed("Circulate the minutes for comment before adopting them.")
    version = _new_version(session, actor, minutes, MinutesStatus.ADOPTED)
    minutes.adopted_at = utcnow()
    minutes.adopted_by_id = actor.id
    service.take_step(actor, meeting, MeetingStep.ADOPT_MINUTES)
    queued = notify.queue_minutes(session, meeting, version.version, "adopted")
    audit.record(session, "meeting.minutes_adopted", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"version": version.version, "mails_queued": queued})
    session.commit()
    return version


def readable_version(session: Session, viewer: User, minutes: Minutes | None) -> MinutesVersion | None:
    """What an invited state reads: the last circulated or adopted version (None before circulation)."""
    if minutes is None or not access.can_view_minutes(viewer, minutes):
        return None
    return latest_version(session, minutes)


def add_comment(session: Session, actor: User, meeting: Meeting, body: str) -> MinutesComment:
    """A state's comment on the circulated minutes."""
    minutes = get_minutes(session, meeting)
    if minutes is not None and minutes.is_locked:
        raise Locked(LOCKED_MESSAGE)
    if minutes is None or not access.can_comment_minutes(actor, meeting, minutes):
        raise Forbidden("Points of contact and officers of invited states comment on circulated minutes.")
    body = body.strip()
    if not body:
        raise ValidationFailed("Write your comment first.", {"body": "Write your comment first."})
    if len(body) > MAX_COMMENT:
        raise ValidationFailed("The comment is too long.", {"body": f"Use at most {MAX_COMMENT:,} characters."})
    assert actor.country_code is not None
    comment = MinutesComment(id=uuid.uuid4(), minutes_id=minutes.id, minutes_version=minutes.version,
                             country_code=actor.country_code, author_id=actor.id, body=body, created_at=utcnow())
    session.add(comment)
    session.flush()
    audit.record(session, "meeting.minutes_commented", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"comment": str(comment.id), "version": minutes.version})
    session.commit()
    return comment


def comments(session: Session, viewer: User, minutes: Minutes | None) -> list[MinutesComment]:
    """The comments `viewer` may read: all for the secretariat, its own state's for a state."""
    if minutes is None:
        return []
    return list(session.scalars(select(MinutesComment).where(
        MinutesComment.minutes_id == minutes.id, access.minutes_comments_filter(viewer),
    ).order_by(MinutesComment.created_at, MinutesComment.id)))
