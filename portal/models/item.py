"""Shared items: threat notices, licence-denial notifications, best-practice documents.

One table holds what the three kinds share (lifecycle, audience, TLP, current content and
the columns lists filter on); kind-specific fields live in `details` (JSON), validated by
portal.sharing.schema. Published content is never edited in place: each publication or
amendment is a row in item_versions.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, VersionRow, new_uuid, str_enum, utcnow
from portal.models.country import Country


class ItemKind(enum.StrEnum):
    THREAT_NOTICE = "threat_notice"
    DENIAL = "denial"
    DOCUMENT = "document"


class ItemStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # an officer asks its SPOC to release it
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {"draft": "Draft", "submitted": "Draft submitted for release", "published": "Published",
                "withdrawn": "Withdrawn"}[self.value]


class Tlp(enum.StrEnum):
    """FIRST Traffic Light Protocol 2.0."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @property
    def css(self) -> str:
        return self.value.lower().replace("+", "-")

    @property
    def may_reach_observers(self) -> bool:
        return self in (Tlp.CLEAR, Tlp.GREEN)


class DenialStatus(enum.StrEnum):
    ACTIVE = "active"
    AMENDED = "amended"
    REVOKED = "revoked"
    LAPSED = "lapsed"


class ItemStep(enum.StrEnum):
    """What the originating state does to move an item (and a denial) along its lifecycle."""

    SUBMIT = "submit"
    PUBLISH = "publish"
    AMEND = "amend"
    WITHDRAW = "withdraw"
    REVOKE = "revoke"
    RENEW = "renew"


# The lifecycle, one table read by the service (to move), access.py (to allow) and the pages
# (to offer): each step, the item statuses it may be taken from, and the status it leads to.
ITEM_TRANSITIONS: dict[ItemStep, tuple[frozenset[ItemStatus], ItemStatus]] = {
    ItemStep.SUBMIT: (frozenset({ItemStatus.DRAFT}), ItemStatus.SUBMITTED),
    ItemStep.PUBLISH: (frozenset({ItemStatus.DRAFT, ItemStatus.SUBMITTED}), ItemStatus.PUBLISHED),
    ItemStep.AMEND: (frozenset({ItemStatus.PUBLISHED}), ItemStatus.PUBLISHED),
    ItemStep.WITHDRAW: (frozenset({ItemStatus.PUBLISHED}), ItemStatus.WITHDRAWN),
    ItemStep.REVOKE: (frozenset({ItemStatus.PUBLISHED}), ItemStatus.PUBLISHED),
    ItemStep.RENEW: (frozenset({ItemStatus.PUBLISHED}), ItemStatus.PUBLISHED),
}
# A published denial's own status: the steps that change it (from, to). Amending an active
# denial marks it amended; lapsing is the cron's, for denials not renewed by their review date.
DENIAL_TRANSITIONS: dict[str, tuple[frozenset[DenialStatus], DenialStatus]] = {
    ItemStep.AMEND: (frozenset({DenialStatus.ACTIVE}), DenialStatus.AMENDED),
    ItemStep.REVOKE: (frozenset({DenialStatus.ACTIVE, DenialStatus.AMENDED, DenialStatus.LAPSED}),
                      DenialStatus.REVOKED),
    ItemStep.RENEW: (frozenset({DenialStatus.ACTIVE, DenialStatus.AMENDED, DenialStatus.LAPSED}), DenialStatus.ACTIVE),
    "lapse": (frozenset({DenialStatus.ACTIVE, DenialStatus.AMENDED}), DenialStatus.LAPSED),
}


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        # A national reference is unique per denying state (NULL for other kinds).
        UniqueConstraint("originator_code", "national_ref", name="uq_items_originator_national_ref"),
        CheckConstraint("tlp <> 'RED' OR NOT all_subscribing", name="red_not_to_all"),
        CheckConstraint("NOT to_observers OR tlp IN ('CLEAR', 'GREEN')", name="observers_clear_green"),
        Index("ix_items_kind_status_published", "kind", "status", "published_at"),
        # A state's own drafts and submissions, newest first (the home page's "waiting" lists).
        Index("ix_items_originator_status_updated", "originator_code", "status", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind, "item_kind"))
    status: Mapped[ItemStatus] = mapped_column(str_enum(ItemStatus, "item_status"), default=ItemStatus.DRAFT)
    # NULL originator: the secretariat (best-practice documents only).
    originator_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    tlp: Mapped[Tlp] = mapped_column(str_enum(Tlp, "tlp"))
    all_subscribing: Mapped[bool] = mapped_column(default=False)
    to_secretariat: Mapped[bool] = mapped_column(default=False)
    to_observers: Mapped[bool] = mapped_column(default=False)

    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    search_text: Mapped[str] = mapped_column(Text, default="")  # what full-text search indexes
    version: Mapped[int] = mapped_column(default=0)  # 0 until first published

    # Filter columns (copied from details so lists can filter and sort in SQL).
    severity: Mapped[str | None] = mapped_column(String(16), index=True)
    category: Mapped[str | None] = mapped_column(String(40), index=True)  # document category
    national_ref: Mapped[str | None] = mapped_column(String(80))
    denial_status: Mapped[DenialStatus | None] = mapped_column(str_enum(DenialStatus, "denial_status"))
    review_date: Mapped[date | None] = mapped_column(Date)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    originator: Mapped[Country | None] = relationship(lazy="joined")
    audience_countries: Mapped[list[ItemAudienceCountry]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ItemAudienceCountry.country_code")
    categories: Mapped[list[ItemCategory]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ItemCategory.slug")

    @property
    def named_countries(self) -> list[str]:
        return [a.country_code for a in self.audience_countries]

    @property
    def category_slugs(self) -> list[str]:
        return [c.slug for c in self.categories]

    @property
    def originator_name(self) -> str:
        return self.originator.name if self.originator else "ECHRI Secretariat"

    @property
    def is_live(self) -> bool:
        return self.status in (ItemStatus.PUBLISHED, ItemStatus.WITHDRAWN)

    @property
    def is_draft(self) -> bool:
        """Not yet released (a draft, or one submitted for release)."""
        return self.status in (ItemStatus.DRAFT, ItemStatus.SUBMITTED)

    @property
    def is_withdrawn(self) -> bool:
        return self.status is ItemStatus.WITHDRAWN


class ItemAudienceCountry(Base):
    """A state named in an item's audience."""

    __tablename__ = "item_audience_countries"
    # The access filter asks for every item naming one state (access._item_names): answered from
    # this index alone, without reading the table (on 1,000,000 items a list page's two queries
    # went from 19 and 16 ms to 10 and 6 ms, bench/listing.py).
    __table_args__ = (Index("ix_item_audience_countries_country_item", "country_code", "item_id"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), primary_key=True)


class ItemCategory(Base):
    """A technology category of a threat notice (many per notice, filterable)."""

    __tablename__ = "item_categories"
    __table_args__ = (Index("ix_item_categories_slug_item", "slug", "item_id"),)  # the category filter, index only

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)


class ItemVersion(Base, VersionRow):
    """One published version, kept for ever, with the marking and audience it was released under.

    A version is shown only to whom it was released (portal.access.versions_filter): lowering
    or widening an item later never opens its earlier, stricter versions.
    """

    __tablename__ = "item_versions"
    __table_args__ = (
        UniqueConstraint("item_id", "version", name="uq_item_versions_item_version"),
        CheckConstraint("tlp <> 'RED' OR NOT all_subscribing", name="version_red_not_to_all"),
        CheckConstraint("NOT to_observers OR tlp IN ('CLEAR', 'GREEN')", name="version_observers_clear_green"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    tlp: Mapped[Tlp] = mapped_column(str_enum(Tlp, "tlp"))
    change_note: Mapped[str | None] = mapped_column(Text)
    published_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The audience at release (the originating state is the item's and never changes).
    all_subscribing: Mapped[bool] = mapped_column(default=False)
    to_secretariat: Mapped[bool] = mapped_column(default=False)
    to_observers: Mapped[bool] = mapped_column(default=False)

    audience_countries: Mapped[list[ItemVersionAudienceCountry]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ItemVersionAudienceCountry.country_code")

    @property
    def named_countries(self) -> list[str]:
        return [a.country_code for a in self.audience_countries]


class ItemVersionAudienceCountry(Base):
    """A state named in the audience of one published version."""

    __tablename__ = "item_version_audience_countries"
    __table_args__ = (Index("ix_item_version_audience_countries_country_version", "country_code", "version_id"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id", ondelete="CASCADE"), primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), primary_key=True)


class ItemEventKind(enum.StrEnum):
    CREATED = "created"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    AMENDED = "amended"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    RENEWED = "renewed"
    LAPSED = "lapsed"


class ItemEvent(Base):
    """The recorded history of an item's lifecycle, shown on its page."""

    __tablename__ = "item_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ItemEventKind] = mapped_column(str_enum(ItemEventKind, "item_event_kind"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int]
    note: Mapped[str | None] = mapped_column(Text)
