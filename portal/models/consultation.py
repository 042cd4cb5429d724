"""Consultations ("no undercut"): state B asks state A about A's licence denial before
granting an essentially identical transaction.

A consultation is seen by A's and B's points of contact and officers only (portal.access).
It carries the denial's TLP marking at the time it was opened. A grant notice records that B
granted such a transaction after consulting; it is shown with the denial to the denial's
audience, under the denial's marking.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, new_uuid, str_enum, utcnow
from portal.models.country import Country
from portal.models.item import Item, Tlp
from portal.models.user import User


class ConsultationStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the denying state's position
    ANSWERED = "answered"  # the denying state gave a position (it may give another)
    CLOSED = "closed"  # the consulting state recorded the outcome

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ConsultationStep(enum.StrEnum):
    """What the two states do to a consultation."""

    MESSAGE = "message"  # either side writes in the thread
    ANSWER = "answer"  # the denying state (A) gives its position
    CLOSE = "close"  # the consulting state (B) records the outcome


# The lifecycle, one table read by the service (to move), access.py (to allow) and the pages
# (to offer): each step, the statuses it may be taken from, and the status it leads to
# (None: the status does not change).
CONSULTATION_TRANSITIONS: dict[ConsultationStep, tuple[frozenset[ConsultationStatus], ConsultationStatus | None]] = {
    ConsultationStep.MESSAGE: (frozenset({ConsultationStatus.OPEN, ConsultationStatus.ANSWERED}), None),
    ConsultationStep.ANSWER: (frozenset({ConsultationStatus.OPEN, ConsultationStatus.ANSWERED}),
                              ConsultationStatus.ANSWERED),
    ConsultationStep.CLOSE: (frozenset({ConsultationStatus.OPEN, ConsultationStatus.ANSWERED}),
                             ConsultationStatus.CLOSED),
}
# The deadline concerns the denying state's answer: it runs only while none was given.
AWAITING_ANSWER = frozenset({ConsultationStatus.OPEN})


class ConsultationPosition(enum.StrEnum):
    NO_OBJECTION = "no_objection"
    OBJECTION = "objection"
    MORE_INFORMATION_NEEDED = "more_information_needed"

    @property
    def label(self) -> str:
        return {"no_objection": "No objection", "objection": "Objection",
                "more_information_needed": "More information needed"}[self.value]


class ConsultationOutcome(enum.StrEnum):
    DENIED = "denied"
    GRANTED = "granted"
    APPLICATION_WITHDRAWN = "application_withdrawn"

    @property
    def label(self) -> str:
        return {"denied": "Licence denied", "granted": "Licence granted",
                "application_withdrawn": "Application withdrawn"}[self.value]

    @property
    def needs_reasons(self) -> bool:
        """Granting despite the denial is explained to every state in the denial's audience."""
        return self is ConsultationOutcome.GRANTED


class MessageKind(enum.StrEnum):
    MESSAGE = "message"
    ANSWER = "answer"  # carries a position
    CLOSING = "closing"  # carries the outcome's reasons


class Consultation(Base):
    __tablename__ = "consultations"
    __table_args__ = (
        Index("ix_consultations_denying_status", "denying_code", "status"),
        Index("ix_consultations_consulting_status", "consulting_code", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    denial_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    denying_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))  # A
    consulting_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))  # B
    tlp: Mapped[Tlp] = mapped_column(str_enum(Tlp, "tlp"))  # the denial's marking when opened
    status: Mapped[ConsultationStatus] = mapped_column(str_enum(ConsultationStatus, "consultation_status"),
                                                       default=ConsultationStatus.OPEN)
    # B's transaction
    applicant: Mapped[str] = mapped_column(String(300))
    consignee: Mapped[str] = mapped_column(String(300), default="")
    end_user: Mapped[str] = mapped_column(String(300))
    item_description: Mapped[str] = mapped_column(Text)
    control_entries: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    destination: Mapped[str] = mapped_column(String(2))
    end_use: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    # A's latest position, and B's outcome
    position: Mapped[ConsultationPosition | None] = mapped_column(
        str_enum(ConsultationPosition, "consultation_position"))
    outcome: Mapped[ConsultationOutcome | None] = mapped_column(str_enum(ConsultationOutcome, "consultation_outcome"))
    opened_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    denial: Mapped[Item] = relationship(lazy="joined")
    denying_state: Mapped[Country] = relationship(foreign_keys=[denying_code], lazy="joined")
    consulting_state: Mapped[Country] = relationship(foreign_keys=[consulting_code], lazy="joined")
    messages: Mapped[list[ConsultationMessage]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ConsultationMessage.created_at")

    def is_overdue(self, today: date) -> bool:
        """The deadline passed and the denying state has not answered yet."""
        return self.status in AWAITING_ANSWER and today > self.deadline

    @property
    def is_closed(self) -> bool:
        return self.status is ConsultationStatus.CLOSED

    def party_codes(self) -> tuple[str, str]:
        return self.denying_code, self.consulting_code


class ConsultationMessage(Base):
    """One entry of the thread between the two states."""

    __tablename__ = "consultation_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind, "consultation_message_kind"))
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    position: Mapped[ConsultationPosition | None] = mapped_column(
        str_enum(ConsultationPosition, "consultation_position"))
    outcome: Mapped[ConsultationOutcome | None] = mapped_column(str_enum(ConsultationOutcome, "consultation_outcome"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class GrantNotice(Base):
    """State B granted a transaction essentially identical to A's denial, after consulting A.
    Seen with the denial by whoever sees the denial (portal.access.items_filter)."""

    __tablename__ = "grant_notices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    denial_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                       unique=True)
    granting_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    reasons: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    granting_state: Mapped[Country] = relationship(lazy="joined")

    def as_record(self) -> dict[str, Any]:
        return {"id": str(self.id), "denial_id": str(self.denial_id), "granting_state": self.granting_code,
                "reasons": self.reasons, "created_at": self.created_at.isoformat()}
