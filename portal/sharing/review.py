"""Review of denials every three years: what is due, and reminders to the denying state's SPOC.

A denial's review date is three years after its decision date (portal.sharing.service). The
originating state's points of contact are reminded 90, 30 and 7 days before it, through the
outbox, each reminder once per review date (renewing sets a new date, and a new round). There
is no opting out: the SPOC must act (renew, amend or revoke), or the denial lapses
(`denials lapse`).
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.errors import Forbidden
from portal.meetings.notify import spocs_of
from portal.models.base import utcnow
from portal.models.item import DenialStatus, Item, ItemKind, ItemStatus
from portal.models.user import User
from portal.notifications import outbox
from portal.urls import external_url

REMINDER_DAYS = (90, 30, 7)
RENDERER = "denial_review_reminder"
IN_FORCE = (DenialStatus.ACTIVE, DenialStatus.AMENDED)


def due_for_review(session: Session, actor: User, today: date | None = None) -> list[Item]:
    """The actor's state's in-force denials whose review date is within 90 days or passed, soonest first."""
    if not access.can_see_reviews(actor):
        raise Forbidden("Only a state's point of contact and officers review its denials.")
    today = today or utcnow().date()
    return list(session.scalars(select(Item).where(access.review_due_filter(actor, today))
                                .order_by(Item.review_date, Item.id)))


def _stage(days_left: int) -> int | None:
    """The reminder due `days_left` days before the review date: the nearest of 90, 30, 7 not yet passed."""
    due = [d for d in REMINDER_DAYS if days_left <= d]
    return min(due) if due and days_left >= 0 else None


def queue_review_reminders(session: Session, today: date | None = None) -> int:
    """Queue the review reminders that are due (for cron); each goes out once, however often this runs."""
    today = today or utcnow().date()
    window = today + timedelta(days=max(REMINDER_DAYS))
    denials = session.scalars(select(Item).where(
        Item.kind == ItemKind.DENIAL, Item.status == ItemStatus.PUBLISHED, Item.denial_status.in_(IN_FORCE),
        Item.review_date >= today, Item.review_date <= window).order_by(Item.review_date, Item.id)).all()
    queued = 0
    for item in denials:
        assert item.review_date is not None and item.originator_code is not None
        stage = _stage((item.review_date - today).days)
        if stage is None:
            continue
        key = f"denial:{item.id}:review:{item.review_date.isoformat()}:{stage}"
        count = outbox.enqueue_rendered(
            session, spocs_of(session, [item.originator_code]), key, RENDERER,
            {"item_id": str(item.id), "review_date": item.review_date.isoformat(), "days": stage},
            subject_type="item", subject_id=str(item.id))
        if count:
            audit.record(session, "denial.review_reminders_queued", actor_label="system", target_type="denial",
                         target_id=item.id, details={"mails_queued": count, "days_before": stage,
                                                     "review_date": item.review_date.isoformat()})
        queued += count
    session.commit()
    return queued


def render_review_reminder(session: Session, user: User, context: dict[str, Any]) -> tuple[str, str, str] | None:
    """Written at send time: nothing if the denial was renewed, revoked or lapsed meanwhile,
    or the recipient no longer acts for its state."""
    item = session.get(Item, uuid.UUID(context["item_id"]))
    if (item is None or item.status is not ItemStatus.PUBLISHED or item.denial_status not in IN_FORCE
            or item.review_date is None or item.review_date.isoformat() != context["review_date"]
            or not access.can_release(user, item)):
        return None
    values = {"user": user, "item": item, "days": context["days"],
              "review_date": item.review_date.strftime("%d %B %Y"),
              "url": external_url("sharing.detail", kind=ItemKind.DENIAL, item_id=item.id),
              "due_url": external_url("sharing.review_due")}
    subject = f"[TLP:{item.tlp.value}] Denial due for review on {values['review_date']}: {item.title}"
    return (subject, render_template("mail/denial_review_reminder.txt", **values),
            render_template("mail/denial_review_reminder.html", **values))
