"""Meeting e-mails, all through the outbox: invitations (with .ics), updates, cancellations, reminders.

Every message is keyed per (recipient, event) so it is queued at most once: running the
reminders twice sends nothing new. At send time the outbox re-checks, through the check
registered below, that the recipient may still see the meeting.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.meetings import calendar, times
from portal.models.base import utcnow
from portal.models.country import Country
from portal.models.meeting import Delegate, Meeting, MeetingStatus
from portal.models.notification import AlertTopic, DeliveryMode
from portal.models.user import Role, User, UserStatus
from portal.notifications import outbox, prefs
from portal.notifications.service import notify_in_portal
from portal.urls import external_url

SUBJECT_TYPE = "meeting"
BELL_TITLES = {
    "announced": "Meeting invitation: {title}",
    "updated": "Meeting updated: {title}",
    "cancelled": "Meeting cancelled: {title}",
    "circulated": "Minutes out for comment: {title}",
    "adopted": "Minutes adopted: {title}",
}
INVITATION_SUBJECTS = {
    "announced": "Invitation: {title}",
    "updated": "Updated: {title}",
    "cancelled": "Cancelled: {title}",
}


def can_still_see(session: Session, user: User, subject_id: str) -> bool:
    """The outbox's send-time check: the recipient still sees the meeting."""
    return outbox.subject_visible(session, Meeting.id, subject_id, access.meetings_filter(user))



def _invited(session: Session, meeting: Meeting) -> list[str]:
    return [c.code for c in session.scalars(select(Country)) if access.meeting_invites(meeting, c)]


def spocs_of(session: Session, codes: Iterable[str]) -> list[User]:
    """The active points of contact of the states `codes`."""
    codes = list(codes)
    if not codes:
        return []
    return list(session.scalars(select(User).where(User.role == Role.SPOC, User.status == UserStatus.ACTIVE,
                                                   User.country_code.in_(codes)).order_by(User.email)))


def _context(meeting: Meeting, **extra: Any) -> dict[str, Any]:
    return {"meeting": meeting, "url": calendar.meeting_url(meeting),
            "registration_open": access.registration_is_open(meeting, utcnow()),
            "when": times.format_span(meeting.starts_at, meeting.ends_at, meeting.timezone),
            "deadline": times.format_moment(meeting.registration_deadline, meeting.timezone), **extra}


def _queue(session: Session, recipients: Iterable[User], meeting: Meeting, event_key: str, template: str,
           subject: str, attachments: list[tuple[str, str, bytes]] | None = None, **extra: Any) -> int:
    queued = 0
    for user in recipients:
        context = _context(meeting, user=user, **extra)
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
        if outbox.enqueue(session, recipient=user, event_key=event_key, subject=subject, text=text, html=html,
                          attachments=attachments or (), subject_type=SUBJECT_TYPE, subject_id=str(meeting.id)):
            queued += 1
    return queued


def _bell(session: Session, recipients: list[User], meeting: Meeting, key: str, kind: str, path: str) -> None:
    """The same event in the recipients' bells, linking to the page they act on."""
    notify_in_portal(session, recipients, key, AlertTopic.MEETINGS, BELL_TITLES[kind].format(title=meeting.title),
                     path, subject_type=SUBJECT_TYPE, subject_id=str(meeting.id))


def active_users_of(session: Session, codes: Iterable[str]) -> list[User]:
    """Every active user of the states `codes` (the fallback where a state has no point of contact)."""
    codes = list(codes)
    if not codes:
        return []
    return list(session.scalars(select(User).where(User.status == UserStatus.ACTIVE, User.role != Role.ADMIN,
                                                   User.country_code.in_(codes)).order_by(User.email)))


def contacts_of(session: Session, meeting: Meeting, codes: Iterable[str]) -> list[User]:
    """Whoever answers for the states `codes` about this meeting: the active SPOCs, and for a state
    the secretariat chose as a fallback (`meeting.fallback_states`) that still has no active SPOC,
    its active users. Once a SPOC appears, the SPOC alone is reached, as for every other state."""
    codes = set(codes)
    spocs = spocs_of(session, codes)
    covered = {u.country_code for u in spocs}
    stand_ins = active_users_of(session, sorted((codes & set(meeting.fallback_states or ())) - covered))
    return spocs + stand_ins


def queue_invitations(session: Session, meeting: Meeting, kind: str, reason: str | None = None,
                      fallback: Iterable[str] = ()) -> int:
    """E-mail the SPOCs of the invited states: the invitation, an update or the cancellation, with an .ics
    (and every active user of the `fallback` states, and of the meeting's stored fallback states,
    while they have no point of contact)."""
    method = "CANCEL" if kind == "cancelled" else "REQUEST"
    ics = calendar.meeting_ics(meeting, method)
    key = f"meeting:{meeting.id}:{kind}" + (f":{meeting.sequence}" if kind == "updated" else "")
    invited = _invited(session, meeting)
    recipients = contacts_of(session, meeting, invited)
    known = {u.id for u in recipients}
    recipients += [u for u in active_users_of(session, fallback) if u.id not in known]
    _bell(session, recipients, meeting, key, kind, f"/meetings/{meeting.id}")
    return _queue(session, recipients, meeting, key, "meeting_invitation",
                  INVITATION_SUBJECTS[kind].format(title=meeting.title),
                  [("invitation.ics", f"text/calendar; method={method}", ics)], kind=kind, reason=reason)


def queue_minutes(session: Session, meeting: Meeting, version: int, kind: str) -> int:
    """Tell the SPOCs of the invited states that minutes were circulated for comment, or adopted."""
    subject = ("Draft minutes for comment: " if kind == "circulated" else "Minutes adopted: ") + meeting.title
    recipients = spocs_of(session, _invited(session, meeting))
    key = f"meeting:{meeting.id}:minutes-{kind}:{version}"
    _bell(session, recipients, meeting, key, kind, f"/meetings/{meeting.id}/minutes")
    return _queue(session, recipients, meeting, key, "meeting_minutes", subject, kind=kind,
                  version=version, minutes_url=external_url("meetings.minutes_page", meeting_id=meeting.id))


@dataclass
class ReminderRun:
    registration: int = 0
    meeting: int = 0


def _registered_states(session: Session, meeting: Meeting) -> set[str]:
    return set(session.scalars(select(Delegate.country_code).where(Delegate.meeting_id == meeting.id).distinct()))


def _delegate_accounts(session: Session, meeting: Meeting) -> list[User]:
    """Accounts of registered delegates (a delegate without an account is reached through the SPOC)."""
    rows = session.execute(select(Delegate.email, Delegate.country_code).where(Delegate.meeting_id == meeting.id)).all()
    if not rows:
        return []
    # Pairs, not a dict by address: one person may sit in two states' delegations.
    registered = {(email, code) for email, code in rows}
    users = session.scalars(select(User).where(func.lower(User.email).in_({email for email, _ in registered}),
                                               User.status == UserStatus.ACTIVE))
    return [u for u in users if (u.email.lower(), u.country_code) in registered]


def _wanting_reminders(session: Session, users: Iterable[User]) -> list[User]:
    """Reminders are nudges: whoever set "Meetings: not by e-mail" does not get them (invitations,
    updates and cancellations still go to points of contact, who must act on them)."""
    people = list(users)
    chosen = prefs.preferences_for_users(session, people)
    return [u for u in people if chosen[u.id][AlertTopic.MEETINGS].mode is not DeliveryMode.OFF]


def queue_reminders(session: Session, now: datetime | None = None, registration_days: int = 7,
                    meeting_days: int = 2) -> ReminderRun:
    """Queue the reminders that are due (for cron); each goes out once, however often this runs."""
    now = now or utcnow()
    run = ReminderRun()
    closing = session.scalars(select(Meeting).where(
        Meeting.status == MeetingStatus.ANNOUNCED, Meeting.registration_deadline > now,
        Meeting.registration_deadline <= now + timedelta(days=registration_days)).order_by(Meeting.starts_at))
    for meeting in closing:
        missing = set(_invited(session, meeting)) - _registered_states(session, meeting)
        key = f"meeting:{meeting.id}:registration-reminder:{meeting.registration_deadline:%Y%m%dT%H%M}"
        count = _queue(session, _wanting_reminders(session, contacts_of(session, meeting, missing)), meeting, key,
                       "meeting_registration_reminder",
                       f"Reminder: register your delegation for {meeting.title}")
        if count:
            audit.record(session, "meeting.registration_reminders_queued", actor_label="system",
                         target_type="meeting", target_id=meeting.id, details={"mails_queued": count})
        run.registration += count
    soon = session.scalars(select(Meeting).where(
        Meeting.status.in_((MeetingStatus.ANNOUNCED, MeetingStatus.REGISTRATION_CLOSED)), Meeting.starts_at > now,
        Meeting.starts_at <= now + timedelta(days=meeting_days)).order_by(Meeting.starts_at))
    for meeting in soon:
        people = {u.id: u for u in contacts_of(session, meeting, _registered_states(session, meeting))}
        people.update({u.id: u for u in _delegate_accounts(session, meeting)})
        key = f"meeting:{meeting.id}:reminder:{meeting.starts_at:%Y%m%dT%H%M}"
        count = _queue(session, _wanting_reminders(session, sorted(people.values(), key=lambda u: u.email)), meeting,
                       key, "meeting_reminder",
                       f"Reminder: {meeting.title} starts soon")
        if count:
            audit.record(session, "meeting.reminders_queued", actor_label="system", target_type="meeting",
                         target_id=meeting.id, details={"mails_queued": count})
        run.meeting += count
    session.commit()
    return run
