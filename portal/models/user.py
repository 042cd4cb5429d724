"""Accounts, their server-side sessions, and single-use e-mail tokens."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, new_uuid, str_enum, utcnow
from portal.models.country import Country


class Role(enum.StrEnum):
    SPOC = "spoc"
    OFFICER = "officer"
    READER = "reader"
    SECRETARIAT = "secretariat"
    ADMIN = "admin"

    @property
    def belongs_to_state(self) -> bool:
        return self in STATE_ROLES

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


STATE_ROLES = frozenset({Role.SPOC, Role.OFFICER, Role.READER})
ROLE_LABELS = {
    Role.SPOC: "Point of contact",
    Role.OFFICER: "Officer",
    Role.READER: "Reader",
    Role.SECRETARIAT: "Secretariat",
    Role.ADMIN: "Administrator",
}


class UserStatus(enum.StrEnum):
    INVITED = "invited"  # has not set a password yet
    ACTIVE = "active"
    DISABLED = "disabled"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # A state role needs a state; secretariat and admin have none.
        CheckConstraint(
            "(role IN ('spoc', 'officer', 'reader')) = (country_code IS NOT NULL)",
            name="state_role_has_country",
        ),
        CheckConstraint("NOT is_designated_poc OR role = 'spoc'", name="designated_is_spoc"),
        # Exactly one designated point of contact per state (alternates are plain SPOCs).
        Index(
            "uq_users_designated_poc_per_country",
            "country_code",
            unique=True,
            sqlite_where=text("is_designated_poc"),
            postgresql_where=text("is_designated_poc"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    country_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"), index=True)
    is_designated_poc: Mapped[bool] = mapped_column(default=False)
    status: Mapped[UserStatus] = mapped_column(str_enum(UserStatus, "user_status"), default=UserStatus.INVITED)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None]  # None while enrolment is unconfirmed
    totp_last_counter: Mapped[int | None]  # the last accepted time step: a code works once
    # Sign-in attempts reserved since the last success (portal.auth.service counts them in SQL
    # before each check, so parallel guesses cannot outrun the lock-out).
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # While set and in the future, one code (TOTP) check for this account is under way.
    mfa_attempt_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    country: Mapped[Country | None] = relationship(lazy="joined")

    # Flask-Login protocol. Sessions are validated server-side in portal.auth.sessions.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_observer(self) -> bool:
        """A user of an observer (non-subscribing) state."""
        return self.country is not None and self.country.is_observer

    @property
    def display_role(self) -> str:
        label = self.role.label
        if self.is_designated_poc:
            label = "Designated point of contact"
        return f"{label}, {self.country.name}" if self.country else label

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(Base):
    """A login. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)  # every request needs both: one query


class TokenPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


class AccountToken(Base):
    """A single-use, expiring link sent by e-mail. Only the SHA-256 of the token is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
