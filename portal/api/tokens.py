"""Personal API tokens: shown once, stored as SHA-256, expiring, revocable."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.errors import NotFound, ValidationFailed
from portal.models.api_token import ApiToken
from portal.models.base import rowcount, utcnow
from portal.models.user import User, UserStatus

PREFIX = "echri_"  # recognisable in logs and by secret scanners
MAX_DAYS = 365
TOUCH_SECONDS = 300


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create_token(session: Session, user: User, name: str, days: int = 90) -> str:
    """Issue a token for `user`; the plain value is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("Name the token (up to 100 characters).",
                               {"name": "Name the token, e.g. the system that will use it."})
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"A token lives 1 to {MAX_DAYS} days.", {"days": f"Choose 1 to {MAX_DAYS} days."})
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, name=name, token_hash=_digest(token), expires_at=utcnow() + timedelta(days=days))
    session.add(record)
    session.flush()
    audit.record(session, "api_token.created", actor=user, target_type="api_token", target_id=record.id,
                 details={"expires_at": record.expires_at.isoformat()})
    session.commit()
    return token


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc())))


def revoke_token(session: Session, user: User, token_id: uuid.UUID) -> None:
    """Revoke one of the user's own tokens."""
    record = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if record is None:
        raise NotFound()
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record(session, "api_token.revoked", actor=user, target_type="api_token", target_id=record.id)
        session.commit()


def revoke_all(session: Session, user_id: uuid.UUID, now: datetime) -> int:
    """Revoke every token of the user (not committed); returns how many were still live."""
    live = rowcount(session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .values(revoked_at=now).execution_options(synchronize_session=False)))
    # Expired ones too, so that nothing unrevoked is left behind to reason about later.
    session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)
    )
    return live


def authenticate(session: Session, token: str) -> User | None:
    """The active user a live token belongs to; None for unknown, expired or revoked tokens."""
    if not token.startswith(PREFIX):
        return None
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    if record.user.status is not UserStatus.ACTIVE:
        return None
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > TOUCH_SECONDS:
        record.last_used_at = now
        session.commit()
    return record.user
