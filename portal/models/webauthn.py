"""WebAuthn authenticators (security keys and passkeys) and their pending ceremony challenges."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, new_uuid, str_enum, utcnow


class WebAuthnCredential(Base):
    """One authenticator a user registered. Only public material is stored."""

    __tablename__ = "webauthn_credentials"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Unique across all users: an authenticator's credential belongs to exactly one account,
    # so a key registered by one user can never be presented as another's.
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))  # COSE_Key, as the authenticator gave it
    sign_count: Mapped[int] = mapped_column(default=0)  # the highest counter seen: a lower one means a clone
    aaguid: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class ChallengePurpose(enum.StrEnum):
    REGISTER = "register"
    AUTHENTICATE = "authenticate"


class WebAuthnChallenge(Base):
    """A challenge handed to the browser, kept on the server until its one use (or expiry).

    The cookie only names the row; deleting it on use makes it single-use for every app process.
    """

    __tablename__ = "webauthn_challenges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[ChallengePurpose] = mapped_column(str_enum(ChallengePurpose, "webauthn_challenge_purpose"))
    challenge: Mapped[bytes] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
