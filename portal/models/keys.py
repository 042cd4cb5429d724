"""Key pairs of the states and the secretariat; private halves stored only wrapped by the master key."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, str_enum, utcnow

# Key owner of the secretariat (states are owners by their ISO code).
SECRETARIAT_OWNER = "SECRETARIAT"


class KeyPurpose(enum.StrEnum):
    HPKE = "hpke"  # X25519: receives HPKE-wrapped attachment data keys
    SIGNING = "signing"  # Ed25519: signs attachment manifests

    @property
    def algorithm(self) -> str:
        return "X25519 (HPKE RFC 9180)" if self is KeyPurpose.HPKE else "Ed25519"


class StateKey(Base):
    """One version of an owner's key pair for one purpose. Retired versions are kept, listed as retired."""

    __tablename__ = "state_keys"
    __table_args__ = (
        UniqueConstraint("owner", "purpose", "version", name="uq_state_keys_owner_purpose_version"),
        # At most one active version per owner and purpose, even with concurrent lazy creation.
        Index("uq_state_keys_active", "owner", "purpose", unique=True,
              sqlite_where=text("retired_at IS NULL"), postgresql_where=text("retired_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(16))  # a country code, or SECRETARIAT_OWNER
    purpose: Mapped[KeyPurpose] = mapped_column(str_enum(KeyPurpose, "key_purpose"))
    version: Mapped[int]
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary(64))
    master_key_id: Mapped[str] = mapped_column(String(40))  # which master key wrapped it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return self.retired_at is None

    def __repr__(self) -> str:
        return f"<StateKey {self.owner} {self.purpose.value} v{self.version}>"
