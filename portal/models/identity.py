"""Single sign-on: a state's OpenID Connect provider, and each account's binding to its subject."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.country import Country


class StateIdentityProvider(Base):
    """One OpenID Connect provider per state, attached by an administrator.

    The client secret comes from an environment variable (`secret_env`, only its name is
    stored) or is stored sealed under the master key (`secret_sealed`), never in clear.
    """

    __tablename__ = "state_identity_providers"
    __table_args__ = (
        CheckConstraint("(secret_env IS NULL) <> (secret_sealed IS NULL)", name="one_secret_source"),
        CheckConstraint("(secret_sealed IS NULL) = (secret_master_key_id IS NULL)", name="sealed_names_its_key"),
    )

    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[str] = mapped_column(String(200))
    secret_env: Mapped[str | None] = mapped_column(String(100))
    secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    secret_master_key_id: Mapped[str | None] = mapped_column(String(40))
    email_claim: Mapped[str] = mapped_column(String(64), default="email")
    # The `amr` and `acr` values that count as the portal's second factor, space-separated.
    # Empty (the default): the portal's own second step is always asked for.
    mfa_amr: Mapped[str] = mapped_column(Text, default="")
    mfa_acr: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    country: Mapped[Country] = relationship(lazy="joined")

    @property
    def amr_values(self) -> frozenset[str]:
        return frozenset(self.mfa_amr.split())

    @property
    def acr_values(self) -> frozenset[str]:
        return frozenset(self.mfa_acr.split())

    def __repr__(self) -> str:
        return f"<StateIdentityProvider {self.country_code}>"


class IdentityBinding(Base):
    """An account bound to the subject (`sub`) its state's provider gave it at first sign-in."""

    __tablename__ = "identity_bindings"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)
