"""Alert subscriptions, the e-mail outbox, and in-portal notifications."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, new_uuid, str_enum, utcnow
from portal.models.user import User


class AlertTopic(enum.StrEnum):
    THREAT_NOTICES = "threat_notices"
    DENIALS = "denials"
    DOCUMENTS = "documents"
    MEETINGS = "meetings"
    CONSULTATIONS = "consultations"

    @property
    def label(self) -> str:
        return {"threat_notices": "Threat notices", "denials": "Licence-denial notifications",
                "documents": "Best-practice documents", "meetings": "Meetings",
                "consultations": "Consultations"}[self.value]


class DeliveryMode(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"


class Subscription(Base):
    """A user's choice for one topic. No row means the role's default (portal.notifications.prefs)."""

    __tablename__ = "subscriptions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[AlertTopic] = mapped_column(str_enum(AlertTopic, "alert_topic"), primary_key=True)
    mode: Mapped[DeliveryMode] = mapped_column(str_enum(DeliveryMode, "delivery_mode"))
    min_severity: Mapped[str | None] = mapped_column(String(16))  # threat notices only
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # threat notices; empty: all


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"  # the recipient may no longer see the subject, or was disabled
    FAILED = "failed"  # gave up after the last retry


class OutboxMessage(Base):
    """One e-mail to one person, written in the same transaction as the event that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # Idempotent per recipient and event: the same event never queues a second message.
        UniqueConstraint("recipient_id", "event_key", name="uq_outbox_recipient_event"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event_key: Mapped[str] = mapped_column(String(200))
    # Either a renderer fills the message at send time from `context` (item alerts, so the
    # content and the recipient's right to it are current), or subject/text/html are given.
    renderer: Mapped[str | None] = mapped_column(String(40))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject: Mapped[str | None] = mapped_column(String(300))
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # base64 content
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    recipient: Mapped[User] = relationship()


class Notification(Base):
    """An in-portal notification; shown only while the user may still see its subject."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "event_key", name="uq_notifications_user_event"),
                      Index("ix_notifications_user_unread", "user_id", "read_at"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_key: Mapped[str] = mapped_column(String(200))
    topic: Mapped[AlertTopic] = mapped_column(str_enum(AlertTopic, "alert_topic"))
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(400))
    url: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class DigestCursor(Base):
    """When each user's last digest was sent: the next covers what became visible since."""

    __tablename__ = "digest_cursors"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_sent_at: Mapped[datetime]
