"""The public side: guidance published publicly, and messages sent through "Contact the Initiative"."""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, new_uuid, str_enum, utcnow
from portal.models.country import Country


class PublicItem(Base):
    """An item its originating state chose to publish on the public side (one explicit act).

    The row only says "this item may be shown publicly"; what is shown is checked at every
    request by portal.access.public_items_filter (published, TLP:CLEAR, a public kind). The row
    is deleted when the item is unpublished, withdrawn or amended to another marking, so it
    never comes back by itself.
    """

    __tablename__ = "public_items"

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class OrganisationType(enum.StrEnum):
    COMPANY = "company"
    UNIVERSITY = "university"
    CIVIL_SOCIETY = "civil_society"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"company": "Company", "university": "University or research institute",
                "civil_society": "Civil society organisation", "other": "Other"}[self.value]


class ContactStatus(enum.StrEnum):
    UNCONFIRMED = "unconfirmed"  # the sender has not confirmed the address yet: in no inbox
    OPEN = "open"
    HANDLED = "handled"

    @property
    def label(self) -> str:
        return {"unconfirmed": "Address not confirmed", "open": "Open", "handled": "Handled"}[self.value]


class ContactStep(enum.StrEnum):
    CONFIRM = "confirm"
    HANDLE = "handle"
    REOPEN = "reopen"
    FORWARD = "forward"


# The lifecycle of a contact message: each step, where it may be taken from, where it leads.
CONTACT_TRANSITIONS: dict[ContactStep, tuple[frozenset[ContactStatus], ContactStatus]] = {
    ContactStep.CONFIRM: (frozenset({ContactStatus.UNCONFIRMED}), ContactStatus.OPEN),
    ContactStep.HANDLE: (frozenset({ContactStatus.OPEN}), ContactStatus.HANDLED),
    ContactStep.REOPEN: (frozenset({ContactStatus.HANDLED}), ContactStatus.OPEN),
    ContactStep.FORWARD: (frozenset({ContactStatus.OPEN, ContactStatus.HANDLED}), ContactStatus.OPEN),
}


class ContactMail(enum.StrEnum):
    """The e-mail a message still owes its sender (sent by the outbox worker)."""

    CONFIRM = "confirm"
    ACKNOWLEDGE = "acknowledge"


class PublicConsultation(Base):
    """A state's public call for input (TLP:CLEAR by nature): shown on the public side with its
    closing date; responses are contact messages tied to it, in that state's inbox (and the
    secretariat's if chosen). After closing, the state may publish a summary of the responses."""

    __tablename__ = "public_consultations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    originator_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    closes_on: Mapped[date] = mapped_column(Date)
    to_secretariat: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    closed_at: Mapped[datetime | None]  # closed early by the state (else: after closes_on)
    summary: Mapped[str | None] = mapped_column(Text)
    summary_published_at: Mapped[datetime | None]

    originator: Mapped[Country] = relationship(lazy="joined")


class ContactMessage(Base):
    """A message from outside (company, university, civil society …) to the Initiative.

    Plain text only, never rendered as HTML. Deleted after the retention period
    (CONTACT_RETENTION_DAYS) by `flask contact purge` / the outbox worker.
    """

    __tablename__ = "contact_messages"
    __table_args__ = (Index("ix_contact_messages_status_created", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    organisation_type: Mapped[OrganisationType] = mapped_column(str_enum(OrganisationType, "organisation_type"))
    organisation: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    country: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[ContactStatus] = mapped_column(str_enum(ContactStatus, "contact_status"),
                                                  default=ContactStatus.UNCONFIRMED)
    mail_due: Mapped[ContactMail | None] = mapped_column(str_enum(ContactMail, "contact_mail"))
    mail_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    # A state's point of contact to whom the secretariat forwarded it (it then shows in their inbox).
    forwarded_to_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"), index=True)
    forwarded_at: Mapped[datetime | None]
    # A response to a public consultation: in the consulting state's inbox (and the secretariat's if chosen).
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("public_consultations.id", ondelete="CASCADE"), index=True)

    consultation: Mapped[PublicConsultation | None] = relationship(lazy="selectin")
