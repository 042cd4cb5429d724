"""A user's own in-portal notifications: listed, counted and marked as read."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal import access
from portal.errors import NotFound
from portal.models.base import utcnow
from portal.models.notification import Notification
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
