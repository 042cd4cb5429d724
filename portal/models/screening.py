"""Parties of published licence denials, as rows the screening matcher can index.

They mirror `items.details["parties"]` of published denials (portal.screening.parties keeps
them in step). Each name and alias is a row of denial_party_names with its normalised forms,
and each lookup key of a name (token, phonetic code, consonant frame, prefix …) is a row of
denial_party_keys, so candidates come from an indexed IN lookup rather than a scan.
`item_id` is repeated on names and keys so the visibility filter joins items directly.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, new_uuid, str_enum, utcnow
from portal.models.user import User


class DenialParty(Base):
    """One party (end-user, consignee, broker …) of a published denial."""

    __tablename__ = "denial_parties"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]  # its place in the denial's list of parties
    role: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(Text, default="")
    country: Mapped[str | None] = mapped_column(String(2))

    names: Mapped[list[DenialPartyName]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="DenialPartyName.id")


class DenialPartyName(Base):
    """A party's name or one of its aliases, normalised for matching."""

    __tablename__ = "denial_party_names"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("denial_parties.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    is_alias: Mapped[bool] = mapped_column(default=False)
    normalised: Mapped[str] = mapped_column(String(600))  # skeleton tokens in written order
    raw: Mapped[str] = mapped_column(String(600), default="")  # transliterated tokens unfolded, written order
    sorted_key: Mapped[str] = mapped_column(String(600), index=True)  # the same, sorted: word order ignored
    phonetic_key: Mapped[str] = mapped_column(String(600))
    consonant_key: Mapped[str] = mapped_column(String(600))
    abjad: Mapped[bool] = mapped_column(default=False)  # written in Arabic or Hebrew script

    keys: Mapped[list[DenialPartyKey]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class DenialPartyKey(Base):
    """A lookup key of a name: candidates are the names sharing keys with the screened name."""

    __tablename__ = "denial_party_keys"
    # Covering: the key lookup and the join to items read the index alone.
    __table_args__ = (Index("ix_denial_party_keys_name_id", "name_id"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    name_id: Mapped[int] = mapped_column(ForeignKey("denial_party_names.id", ondelete="CASCADE"), primary_key=True)




class ScreeningSource(enum.StrEnum):
    """Where a screening was asked from."""

    PAGE = "page"
    CSV = "csv"
    API = "api"
    CLI = "cli"


class Screening(Base):
    """One screening run, kept for the screener's state only (its parties are that state's data).

    `results` holds, per input party, what was screened and the matches as they were found;
    pages re-check each matched denial's visibility before showing it again.
    """

    __tablename__ = "screenings"
    __table_args__ = (Index("ix_screenings_country_code_created_at", "country_code", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    screener_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[ScreeningSource] = mapped_column(str_enum(ScreeningSource, "screening_source"))
    threshold: Mapped[float]
    include_inactive: Mapped[bool] = mapped_column(default=False)
    party_count: Mapped[int]
    flagged_count: Mapped[int]  # input parties with at least one match
    match_count: Mapped[int]
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    screener: Mapped[User] = relationship(lazy="joined")
