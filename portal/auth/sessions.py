"""Server-side login sessions: the cookie holds a random token, the database decides.

Keeping the session on the server is what lets us end every session of a user at once
(disabled account, changed password, MFA reset) instead of waiting for cookies to expire.
"""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.api import tokens
from portal.models.base import rowcount
from portal.models.user import User, UserSession, UserStatus

TOUCH_INTERVAL = timedelta(seconds=60)  # write last_seen at most once a minute per session


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start(session: Session, user: User, now: datetime, ip: str | None, user_agent: str | None) -> str:
    """Open a new session for `user` and return the token for the cookie (not committed)."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(
        id=token_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
        ip_address=ip, user_agent=(user_agent or "")[:300] or None,
    ))
    return token


def resolve(
    session: Session, token: str, now: datetime, idle: timedelta, absolute: timedelta
) -> UserSession | None:
    """The live session for `token`, touched; None when unknown, revoked, idle or too old."""
    record = session.get(UserSession, token_digest(token))
    if record is None or record.revoked_at is not None:
        return None
    if now - record.last_seen_at > idle or now - record.created_at > absolute:
        record.revoked_at = now
        session.commit()
        return None
    if record.user.status is not UserStatus.ACTIVE:
        return None
    if now - record.last_seen_at > TOUCH_INTERVAL:
        record.last_seen_at = now
        session.commit()
    return record


def time_left(record: UserSession, now: datetime, idle: timedelta, absolute: timedelta) -> tuple[timedelta, bool]:
    """How long the session has from `now` unless something happens, and whether that is the
    absolute limit (final: no activity extends it) rather than the idle timeout."""
    idle_left = idle - (now - record.last_seen_at)
    absolute_left = absolute - (now - record.created_at)
    return (absolute_left, True) if absolute_left <= idle_left else (idle_left, False)


def extend(session: Session, token: str, now: datetime, idle: timedelta,
           absolute: timedelta) -> tuple[timedelta, bool]:
    """Touch a live session now (the person asked to stay signed in) and commit; the time it
    has left and whether that is final (see time_left)."""
    record = session.get(UserSession, token_digest(token))
    if record is None or record.revoked_at is not None:
        return timedelta(0), True
    record.last_seen_at = now
    session.commit()
    return time_left(record, now, idle, absolute)


def revoke(session: Session, token: str, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == token_digest(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_all(session: Session, user_id: uuid.UUID, now: datetime, keep_token: str | None = None) -> int:
    """End every session of the user (but `keep_token`'s); returns how many were live."""
    statement = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_token is not None:
        statement = statement.where(UserSession.id != token_digest(keep_token))
    return rowcount(session.execute(statement.values(revoked_at=now)))


@dataclass(frozen=True)
class Ended:
    """What `end_access` ended: live web sessions and live personal API tokens."""

    sessions: int
    api_tokens: int

    def tokens_note(self, whose: str = "Your") -> str:
        """The sentence telling the API tokens were revoked, for the page (empty if none were)."""
        return f" {whose} API tokens were revoked." if self.api_tokens else ""


def end_access(session: Session, user_id: uuid.UUID, now: datetime, keep_token: str | None = None) -> Ended:
    """End every web session (but `keep_token`'s) AND revoke every personal API token of the
    user (not committed). For account recovery and loss of trust: password reset or change,
    MFA reset, disabling. A token acts with its owner's rights, so it must die with the
    credentials it was issued under; enabling the account again brings none back."""
    return Ended(revoke_all(session, user_id, now, keep_token=keep_token), tokens.revoke_all(session, user_id, now))


def live_sessions(session: Session, user_id: uuid.UUID) -> list[UserSession]:
    return list(session.scalars(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    ))
