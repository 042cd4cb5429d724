"""A user's own account: profile and password."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal import audit
from portal.auth import sessions
from portal.auth.passwords import PasswordPolicyError
from portal.auth.service import passwords
from portal.errors import ValidationFailed
from portal.models.base import utcnow
from portal.models.user import User
from portal.validation import Checker


def update_profile(session: Session, actor: User, *, name: str, position: str | None) -> None:
    """Change one's own name and position."""
    c = Checker({"name": name, "position": position})
    actor_name = c.text("name", required=True, limit=200, missing="Enter your name.")
    actor_position = c.text("position", limit=200) or None
    c.done()
    actor.name, actor.position = actor_name, actor_position
    audit.record(session, "account.profile_updated", actor=actor, target_type="user", target_id=actor.id)
    session.commit()


def password_change_problems(actor: User, *, current: str, new: str) -> dict[str, str]:
    """Everything wrong with a password change at once (an empty field is the form's to name)."""
    problems: dict[str, str] = {}
    if current and not passwords().verify(actor.password_hash, current):
        problems["current_password"] = "Your current password is not right."
    if new:
        try:
            passwords().check_policy(new, context=[actor.email, actor.name])
        except PasswordPolicyError as error:
            problems["new_password"] = str(error)
    return problems


def change_password(session: Session, actor: User, *, current: str, new: str, keep_token: str | None) -> sessions.Ended:
    """Change one's own password; every other session ends and every API token is revoked."""
    problems = password_change_problems(actor, current=current, new=new)
    if not current:
        problems.setdefault("current_password", "Enter your current password.")
    if not new:
        problems.setdefault("new_password", "Enter a new password.")
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)
    actor.password_hash = passwords().hash(new)
    actor.password_changed_at = utcnow()
    ended = sessions.end_access(session, actor.id, utcnow(), keep_token=keep_token)
    audit.record(session, "password.changed", actor=actor, target_type="user", target_id=actor.id,
                 details={"sessions_ended": ended.sessions, "api_tokens_revoked": ended.api_tokens})
    session.commit()
    return ended
