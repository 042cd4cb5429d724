"""The country register: subscribing and observer states."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, String, false
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, str_enum, utcnow


class CountryStatus(enum.StrEnum):
    SUBSCRIBING = "subscribing"
    OBSERVER = "observer"


class Country(Base):
    __tablename__ = "countries"
    __table_args__ = (CheckConstraint("length(code) = 2", name="code_two_letters"),)

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # ISO 3166 alpha-2 (XK: Kosovo)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[CountryStatus] = mapped_column(str_enum(CountryStatus, "country_status"))
    endorsed_on: Mapped[date | None] = mapped_column(Date)
    # Set when the state's status changes: its attachment wraps are re-synced by batch work
    # (the outbox worker or `keys sync-wraps`), never inside the web request that changed it.
    wraps_stale_since: Mapped[datetime | None]
    # Set by the state's point of contact or an administrator: its users who have a security
    # key or passkey must use it at the second sign-in step (TOTP codes stop working for them).
    webauthn_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_observer(self) -> bool:
        return self.status is CountryStatus.OBSERVER

    def __repr__(self) -> str:
        return f"<Country {self.code}>"
