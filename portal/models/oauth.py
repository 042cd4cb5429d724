"""OAuth2 machine clients (client credentials) of a state, their access tokens, and the
client-assertion ids already used (RFC 7523 replay protection)."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, new_uuid, str_enum, utcnow
from portal.models.country import Country


class ClientAuthMethod(enum.StrEnum):
    CLIENT_SECRET_BASIC = "client_secret_basic"  # a secret shown once; only its SHA-256 is kept
    PRIVATE_KEY_JWT = "private_key_jwt"  # RFC 7523: the client signs; we keep its public JWKS

    @property
    def label(self) -> str:
        return {"client_secret_basic": "Client secret (HTTP Basic)",
                "private_key_jwt": "Signed assertion (private_key_jwt)"}[self.value]


class OAuthClient(Base):
    """A national system registered by a SPOC: acts as an officer of its state, within its scopes."""

    __tablename__ = "oauth_clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(Text)  # space-separated, as OAuth2 writes them
    auth_method: Mapped[ClientAuthMethod] = mapped_column(str_enum(ClientAuthMethod, "client_auth_method"))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The SPOC answerable for the client: its drafts and events are recorded under this account,
    # and the audit names the client besides.
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    country: Mapped[Country] = relationship(lazy="joined")

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class OAuthToken(Base):
    """An access token issued to a client. Only its SHA-256 is stored."""

    __tablename__ = "oauth_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    client: Mapped[OAuthClient] = relationship(lazy="joined")


class OAuthAssertionJti(Base):
    """A client assertion's `jti`, kept until the assertion expires so it works once."""

    __tablename__ = "oauth_assertion_jtis"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of client_id + jti
    expires_at: Mapped[datetime] = mapped_column(index=True)
