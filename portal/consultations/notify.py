"""Consultation alerts: in-portal notifications and e-mails (through the outbox), reminders
before the deadline, and grant notices to the denial's audience.

Consultation alerts go to the other state's points of contact and officers only; the outbox
re-checks at send time (`can_still_see`) that the recipient still takes part. A consultation
carries its denial's TLP: e-mails carry words of it only under CLEAR and GREEN, otherwise a
link. Every message is keyed per (recipient, event), so reminders run twice send nothing new.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import render_template
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal import access, audit
from portal.models.base import utcnow
from portal.models.consultation import (
    AWAITING_ANSWER, Consultation, ConsultationMessage, GrantNotice,
)
from portal.models.item import Item
from portal.models.notification import AlertTopic, DeliveryMode, Notification
from portal.models.user import Role, User, UserStatus
from portal.notifications import outbox, prefs
from portal.notifications.alerts import audience_users
from portal.urls import external_url

SUBJECT_TYPE = access.CONSULTATION_SUBJECT
REMINDER_DAYS = (2, 7)  # before the deadline, nearest first

# event -> (what happened, for titles and subjects)
EVENTS = {
    "opened": "opened",
    "message": "new message",
    "answered": "answered",
    "closed": "closed",
    "reminder": "deadline approaching",
}


def can_still_see(session: Session, user: User, subject_id: str) -> bool:
    """The outbox's send-time check: the recipient still sees the consultation."""
    return outbox.subject_visible(session, Consultation.id, subject_id, access.consultations_filter(user))


def party_users(session: Session, code: str) -> list[User]:
    """The active points of contact and officers of state `code`."""
    return list(session.scalars(select(User).where(
        User.country_code == code, User.status == UserStatus.ACTIVE,
        User.role.in_((Role.SPOC, Role.OFFICER))).order_by(User.email)))


def _not_off(session: Session, users: Sequence[User], topic: AlertTopic) -> list[User]:
    """Consultations are not in the daily digest (it covers shared items), so anyone who has
    not turned the topic off gets the e-mail at once."""
    chosen = prefs.preferences_for_users(session, list(users))
    return [u for u in users if chosen[u.id][topic].mode is not DeliveryMode.OFF]


def _notify_in_portal(session: Session, users: Iterable[User], event_key: str, topic: AlertTopic, title: str,
                      url: str, *, item_id: uuid.UUID | None, subject_type: str, subject_id: str) -> None:
    now = utcnow()
    rows = [{"id": uuid.uuid4(), "user_id": u.id, "event_key": event_key[:200], "topic": topic, "item_id": item_id,
             "subject_type": subject_type, "subject_id": subject_id, "title": title[:400], "url": url,
             "created_at": now} for u in users]
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Notification).on_conflict_do_nothing(index_elements=["user_id", "event_key"]), rows)


def _title(consultation: Consultation, event: str) -> str:
    return f"Consultation {EVENTS[event]}: {consultation.denial.title}"


def notify_parties(session: Session, consultation: Consultation, event: str, to_code: str, *,
                   actor: User | None = None, message: ConsultationMessage | None = None,
                   suffix: str = "") -> int:
    """Tell state `to_code`'s points of contact and officers about `event` (caller commits)."""
    recipients = [u for u in party_users(session, to_code) if actor is None or u.id != actor.id]
    if not recipients:
        return 0
    key = f"consultation:{consultation.id}:{event}" + (f":{message.id}" if message is not None else "") + suffix
    _notify_in_portal(session, recipients, key, AlertTopic.CONSULTATIONS, _title(consultation, event),
                      f"/consultations/{consultation.id}", item_id=None, subject_type=SUBJECT_TYPE,
                      subject_id=str(consultation.id))
    context = {"consultation_id": str(consultation.id), "event": event,
               "message_id": str(message.id) if message is not None else None}
    return outbox.enqueue_rendered(session, _not_off(session, recipients, AlertTopic.CONSULTATIONS), key,
                                   "consultation_alert", context, subject_type=SUBJECT_TYPE,
                                   subject_id=str(consultation.id))


def render_consultation_alert(session: Session, user: User, context: dict[str, Any]) -> tuple[str, str, str] | None:
    consultation = session.get(Consultation, uuid.UUID(context["consultation_id"]))
    if consultation is None:
        return None
    message = session.get(ConsultationMessage, uuid.UUID(context["message_id"])) if context.get("message_id") else None
    event = str(context["event"])
    show_content = access.may_email_consultation_content(consultation)
    values = {"user": user, "consultation": consultation, "event": EVENTS[event], "event_key": event,
              "message": message, "show_content": show_content,
              "url": external_url("consultations.detail", consultation_id=consultation.id),
              "unsubscribe_url": external_url("notifications.unsubscribe", topic=AlertTopic.CONSULTATIONS.value)}
    subject = f"[TLP:{consultation.tlp.value}] {_title(consultation, event)}"
    return (subject, render_template("mail/consultation_alert.txt", **values),
            render_template("mail/consultation_alert.html", **values))


# --- reminders ------------------------------------------------------------------------

@dataclass
class ReminderRun:
    consultations: int = 0
    mails: int = 0


def queue_reminders(session: Session, today: date | None = None) -> ReminderRun:
    """Remind the denying state 7 and 2 days before the deadline (for cron; each goes out once,
    however often this runs: only the nearest threshold reached is queued, keyed by it)."""
    today = today or utcnow().date()
    run = ReminderRun()
    waiting = session.scalars(select(Consultation).where(
        Consultation.status.in_(AWAITING_ANSWER), Consultation.deadline >= today).order_by(Consultation.deadline))
    for consultation in waiting:
        days_left = (consultation.deadline - today).days
        due = [d for d in REMINDER_DAYS if days_left <= d]
        if not due:
            continue
        threshold = min(due)
        count = notify_parties(session, consultation, "reminder", consultation.denying_code,
                               suffix=f":{threshold}d:{consultation.deadline.isoformat()}")
        if count:
            run.consultations += 1
            run.mails += count
            audit.record(session, "consultation.reminders_queued", actor_label="system", target_type="consultation",
                         target_id=consultation.id, details={"mails_queued": count, "days_before": threshold})
    session.commit()
    return run


# --- grant notices --------------------------------------------------------------------

def notify_grant(session: Session, notice: GrantNotice, denial: Item, actor: User) -> int:
    """Tell everyone who sees the denial that B granted an essentially identical transaction."""
    recipients = [u for u in audience_users(session, denial) if u.id != actor.id]
    key = f"grant-notice:{notice.id}"
    title = f"Licence granted after consultation: {denial.title}"
    _notify_in_portal(session, recipients, key, AlertTopic.DENIALS, title, f"/denials/{denial.id}",
                      item_id=denial.id, subject_type="item", subject_id=str(denial.id))
    # The send-time check is the denial's own: whoever no longer sees it gets nothing.
    return outbox.enqueue_rendered(session, _not_off(session, recipients, AlertTopic.DENIALS), key, "grant_notice",
                                   {"notice_id": str(notice.id)}, subject_type="item", subject_id=str(denial.id))


def render_grant_notice(session: Session, user: User, context: dict[str, Any]) -> tuple[str, str, str] | None:
    notice = session.get(GrantNotice, uuid.UUID(context["notice_id"]))
    if notice is None:
        return None
    denial = session.get(Item, notice.denial_id)
    if denial is None:
        return None
    values = {"user": user, "notice": notice, "denial": denial,
              "show_reasons": access.may_email_content(denial),
              "url": external_url("sharing.detail", kind=denial.kind, item_id=denial.id),
              "unsubscribe_url": external_url("notifications.unsubscribe", topic=AlertTopic.DENIALS.value)}
    subject = f"[TLP:{denial.tlp.value}] Licence granted after consultation: {denial.title}"
    return (subject, render_template("mail/grant_notice.txt", **values),
            render_template("mail/grant_notice.html", **values))

