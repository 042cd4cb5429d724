"""Nothing typed is lost when a session ends: a form posted after the session had ended is
kept, encrypted, under its sender's account for a short while, and filled in again on the same
page once they have signed in again (portal.guard does the request side).

Kept server-side and never in a URL. Only the person whose (ended) session posted it gets it
back, and only on the page it came from; it is deleted when given back or when it expires.
Passwords and one-time codes are never kept. No Flask here: the caller passes the secret.
"""
from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.models.saved_form import SavedForm
from portal.models.user import User, UserSession, UserStatus
from portal.auth.sessions import token_digest

LIFETIME = timedelta(minutes=30)
MAX_BYTES = 512 * 1024  # a long denial fits many times over; a flood does not
# Never kept: secrets the person must type again anyway, and the form's own machinery.
NOT_KEPT = frozenset({"csrf_token", "password", "current_password", "new_password", "confirm", "code",
                      "add_row", "remove_row"})


def _box(secret: str) -> Fernet:
    """Authenticated encryption (Fernet) under a key derived from the app's secret for this use only."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"echri-portal saved forms v1").derive(secret.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def owner_of_ended_session(session: Session, token: str) -> User | None:
    """The active user whose session `token` was (it has ended: that is why we are asked)."""
    record = session.get(UserSession, token_digest(token))
    if record is None or record.user.status is not UserStatus.ACTIVE:
        return None
    return record.user


def keep(session: Session, user_id: uuid.UUID, path: str, fields: list[tuple[str, str]], secret: str,
         now: datetime) -> bool:
    """Keep what was posted to `path` (not committed); False when there is nothing worth keeping."""
    kept = [(name, value) for name, value in fields if name not in NOT_KEPT]
    if not any(value.strip() for _name, value in kept):
        return False
    plain = json.dumps(kept, ensure_ascii=False).encode("utf-8")
    if len(plain) > MAX_BYTES:
        return False
    session.execute(delete(SavedForm).where(SavedForm.expires_at < now))
    # One saved copy per page: the newest post replaces an older one.
    session.execute(delete(SavedForm).where(SavedForm.user_id == user_id, SavedForm.path == path))
    session.add(SavedForm(user_id=user_id, path=path[:500], sealed=_box(secret).encrypt(plain), created_at=now,
                          expires_at=now + LIFETIME))
    return True


def pending_paths(session: Session, user_id: uuid.UUID, now: datetime) -> list[str]:
    """The pages with a saved form waiting for the user."""
    return list(session.scalars(select(SavedForm.path).where(SavedForm.user_id == user_id,
                                                              SavedForm.expires_at >= now)))


def take(session: Session, user_id: uuid.UUID, path: str, secret: str, now: datetime) -> list[tuple[str, str]] | None:
    """The saved fields for `path`, deleted as they are given back (not committed); None if none."""
    saved = session.scalar(select(SavedForm).where(SavedForm.user_id == user_id, SavedForm.path == path,
                                                   SavedForm.expires_at >= now)
                           .order_by(SavedForm.created_at.desc()).limit(1))
    session.execute(delete(SavedForm).where(SavedForm.user_id == user_id, SavedForm.path == path))
    if saved is None:
        return None
    try:
        fields = json.loads(_box(secret).decrypt(saved.sealed))
    except (InvalidToken, ValueError):
        return None  # the secret key changed since: nothing to give back
    return [(str(name), str(value)) for name, value in fields]
