"""A user's own in-portal notifications: listed, counted and marked as read."""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal import access
from portal.errors import NotFound
from portal.models.base import utcnow
from portal.kinds import KINDS
from portal.models.consultation import Consultation
from portal.models.item import Item, Tlp
from portal.models.notification import AlertTopic, Notification
from portal.models.user import User
from portal.pagination import Page, paginate


def page_for(session: Session, user: User, args: Mapping[str, Any]) -> Page[Notification]:
    """The user's notifications whose subject they still see, newest first."""
    query = select(Notification).where(access.notifications_filter(user)).order_by(Notification.created_at.desc())
    return paginate(session, query, args)


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        access.notifications_filter(user), Notification.read_at.is_(None))) or 0


def mark_read(session: Session, user: User, notification_id: uuid.UUID) -> Notification:
    """Mark one of the user's notifications as read (NotFound for anyone else's)."""
    note = session.scalar(select(Notification).where(Notification.id == notification_id,
                                                     access.notifications_filter(user)))
    if note is None:
        raise NotFound()
    if note.read_at is None:
        note.read_at = utcnow()
        session.commit()
    return note


def mark_all_read(session: Session, user: User) -> None:
    """Mark every unread notification of the user as read."""
    session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                    .values(read_at=utcnow()))
    session.commit()


def notify_in_portal(session: Session, users: Iterable[User], event_key: str, topic: AlertTopic, title: str,
                     url: str, *, subject_type: str, subject_id: str, item_id: uuid.UUID | None = None) -> int:
    """Put an entry in each user's bell, once per (user, event) (caller commits)."""
    now = utcnow()
    rows = [{"id": uuid.uuid4(), "user_id": u.id, "event_key": event_key[:200], "topic": topic, "item_id": item_id,
             "subject_type": subject_type, "subject_id": subject_id, "title": title[:400], "url": url[:300],
             "created_at": now} for u in users]
    if rows:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(Notification).on_conflict_do_nothing(index_elements=["user_id", "event_key"]), rows)
    return len(rows)


def mark_arrived(session: Session, user: User, path: str) -> int:
    """Arriving at the page an entry links to reads it: a bell entry is read once its page is."""
    result = session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None), Notification.url == path)
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        session.commit()
    return count


@dataclass(frozen=True)
class EntryLabel:
    kind: str
    tlp: Tlp | None  # None: the subject carries no marking (meetings)


SUBJECT_KINDS = {"meeting": "Meeting", "consultation": "Consultation"}


def labels_for(session: Session, notes: Iterable[Notification]) -> dict[uuid.UUID, EntryLabel]:
    """Each entry's kind and marking, read from its subject (the list shows only entries whose
    subject the user still sees, so this tells nothing new)."""
    notes = list(notes)
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({n.item_id for n in notes if n.item_id})))}
    consultation_ids = set()
    for n in notes:
        if n.subject_type == "consultation" and n.subject_id:
            with contextlib.suppress(ValueError):
                consultation_ids.add(uuid.UUID(n.subject_id))
    consultations = {str(c.id): c for c in session.scalars(select(Consultation).where(
        Consultation.id.in_(consultation_ids)))} if consultation_ids else {}
    labels: dict[uuid.UUID, EntryLabel] = {}
    for n in notes:
        item = items.get(n.item_id) if n.item_id else None
        consultation = consultations.get(n.subject_id or "")
        if item is not None:
            labels[n.id] = EntryLabel(KINDS[item.kind].label, item.tlp)
        elif consultation is not None:
            labels[n.id] = EntryLabel("Consultation", consultation.tlp)
        else:
            labels[n.id] = EntryLabel(SUBJECT_KINDS.get(n.subject_type or "", "Notice"), None)
    return labels
