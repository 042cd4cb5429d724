"""Authentication operations: password step, TOTP step and enrolment, resets, invitations.

Every failure a visitor can trigger raises AuthError with one generic message, so the
answers never tell whether an account exists, is locked, or which factor was wrong.
"""
from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.orm import Session

from portal import access, audit, mail
from portal.auth import sessions, totp
from portal.auth.passwords import Passwords
from portal.models.base import UTCDateTime, rowcount, utcnow
from portal.urls import external_url
from portal.models.user import AccountToken, TokenPurpose, User, UserStatus
from portal.models.webauthn import WebAuthnCredential

# One message for every refusal of a step, so it tells nothing about which account exists;
# the password step's says nothing of a code (people looked for one they had not been asked for).
GENERIC_LOGIN_ERROR = (
    "The e-mail address or password is not right. After several failed attempts, "
    "sign-in is paused for a while."
)
CODE_LOGIN_ERROR = (
    "That code is not right, or it has been used already. Enter the code your app shows now. "
    "After several failed attempts, sign-in is paused for a while."
)
KEY_LOGIN_ERROR = (
    "That security key or passkey was not accepted. Try again, or use a code from your authenticator app. "
    "After several failed attempts, sign-in is paused for a while."
)


# Shown only after a right password: that the state wants a key is no secret to its own user.
KEY_REQUIRED = "Your state requires you to sign in with your security key or passkey. Lost it? Ask an administrator."

RESET_MAILS_PER_WINDOW = 3
RESET_MAIL_WINDOW = timedelta(hours=1)


class AuthError(Exception):
    """A refused authentication step; str(error) is safe to show."""


def passwords() -> Passwords:
    config = current_app.config
    return Passwords(
        config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"],
        config["ARGON2_PARALLELISM"], config["PASSWORD_MIN_LENGTH"],
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt reserved in the database: it counts as a failure until it is right."""

    user_id: uuid.UUID
    number: int  # 1 .. LOGIN_MAX_FAILURES since the last success or lock-out
    lock: datetime | None  # the lock-out this attempt started, being the last one allowed
    code_claim: datetime | None  # the code step's claim on the account, released after the check


def reserve_attempt(session: Session, user: User, now: datetime, *, code_step: bool = False) -> Attempt | None:
    """Count one attempt in SQL before the factor is checked; None when the account may not try now.

    One atomic UPDATE does the counting (no read-modify-write on a loaded object), so whatever
    the concurrency at most LOGIN_MAX_FAILURES attempts are reserved between two lock-outs: the
    one taking the last slot sets the lock in the same statement and later ones find it. The
    code step also claims `mfa_attempt_until`, so one code check per account runs at a time.
    Committed at once: parallel requests must see the reservation, and no row lock is held
    during the slow check.
    """
    config = current_app.config
    lock_end = now + config["LOGIN_LOCKOUT"]
    last = User.failed_logins + 1 >= config["LOGIN_MAX_FAILURES"]
    values: dict[Any, Any] = {
        User.failed_logins: case((last, 0), else_=User.failed_logins + 1),
        User.locked_until: case((last, literal(lock_end, UTCDateTime())), else_=None),
    }
    statement = update(User).where(
        User.id == user.id, User.status == UserStatus.ACTIVE,
        or_(User.locked_until.is_(None), User.locked_until <= now),
    )
    claim = None
    if code_step:
        claim = now + config["LOGIN_CODE_CHECK_CLAIM"]
        statement = statement.where(or_(User.mfa_attempt_until.is_(None), User.mfa_attempt_until <= now))
        values[User.mfa_attempt_until] = claim
    row = session.execute(
        statement.values(values).returning(User.failed_logins, User.locked_until)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    session.commit()
    session.expire(user, ["failed_logins", "locked_until", "mfa_attempt_until"])
    if row is None:
        return None
    failures, locked_until = row
    if locked_until is not None:
        return Attempt(user.id, config["LOGIN_MAX_FAILURES"], locked_until, claim)
    return Attempt(user.id, failures, None, claim)


def _release_code_claim(session: Session, attempt: Attempt) -> None:
    if attempt.code_claim is not None:
        session.execute(
            update(User).where(User.id == attempt.user_id, User.mfa_attempt_until == attempt.code_claim)
            .values(mfa_attempt_until=None).execution_options(synchronize_session=False)
        )


def refuse_unchecked(session: Session, user: User, step: str) -> None:
    """Audit an attempt refused without a check (locked, not active, or a code check under way).

    Its details carry no `failures` count: that is how the log tells checked attempts apart.
    """
    audit.record(session, "login.failure", target_type="user", target_id=user.id, actor_label=user.email,
                 details={"step": step})
    session.commit()


def register_failure(session: Session, user: User, attempt: Attempt, step: str) -> None:
    """Audit a checked, wrong attempt (already counted when it was reserved)."""
    details: dict[str, Any] = {"step": step, "failures": attempt.number}
    _release_code_claim(session, attempt)
    if attempt.lock is not None:
        details["locked_until"] = attempt.lock.isoformat()
        audit.record(session, "login.locked", target_type="user", target_id=user.id,
                     actor_label=user.email, details=details)
    else:
        audit.record(session, "login.failure", target_type="user", target_id=user.id,
                     actor_label=user.email, details=details)
    session.commit()


def give_back_attempt(session: Session, attempt: Attempt) -> None:
    """A right password is not a failure: return its reserved attempt (not committed)."""
    if attempt.lock is not None:
        # It took the last slot and locked the account: lift exactly that lock, leaving one
        # attempt (the code) before the next, as if the password had never been counted.
        statement = update(User).where(User.id == attempt.user_id, User.locked_until == attempt.lock).values(
            locked_until=None, failed_logins=current_app.config["LOGIN_MAX_FAILURES"] - 1)
    else:
        statement = update(User).where(User.id == attempt.user_id, User.failed_logins > 0).values(
            failed_logins=User.failed_logins - 1)
    session.execute(statement.execution_options(synchronize_session=False))


def check_password(session: Session, email: str, password: str, now: datetime | None = None) -> User:
    """First factor. Returns the user whose second factor is still to be checked."""
    now = now or utcnow()
    user = find_user_by_email(session, email)
    if user is None:
        passwords().verify(None, password)  # the same time as a real check
        # Not what was typed: it may be any text (even a password), and admins read this log.
        audit.record(session, "login.failure", details={"step": "password", "reason": "unknown account"})
        session.commit()
        raise AuthError(GENERIC_LOGIN_ERROR)
    attempt = reserve_attempt(session, user, now)
    if attempt is None:
        passwords().verify(None, password)
        refuse_unchecked(session, user, "password")
        raise AuthError(GENERIC_LOGIN_ERROR)
    if not passwords().verify(user.password_hash, password):
        register_failure(session, user, attempt, "password")
        raise AuthError(GENERIC_LOGIN_ERROR)
    give_back_attempt(session, attempt)
    assert user.password_hash is not None
    if passwords().needs_rehash(user.password_hash):
        user.password_hash = passwords().hash(password)
    session.commit()
    return user


def complete_login(session: Session, user: User, now: datetime, ip: str | None, agent: str | None) -> str:
    # Both factors were right: the attempt budget starts again and the code claim ends.
    session.execute(
        update(User).where(User.id == user.id)
        .values(failed_logins=0, locked_until=None, mfa_attempt_until=None, last_login_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["failed_logins", "locked_until", "mfa_attempt_until", "last_login_at"])
    token = sessions.start(session, user, now, ip, agent)
    audit.record(session, "login.success", actor=user, target_type="user", target_id=user.id)
    session.commit()
    return token


def verify_totp_login(
    session: Session, user: User, code: str, *, ip: str | None = None, agent: str | None = None,
    now: datetime | None = None,
) -> str:
    """Second factor for an enrolled user; returns the new session token."""
    now = now or utcnow()
    if user.totp_secret is None or user.totp_enrolled_at is None:
        raise AuthError(CODE_LOGIN_ERROR)
    has_key = session.scalar(select(WebAuthnCredential.id).where(WebAuthnCredential.user_id == user.id).limit(1))
    if not access.may_sign_in_with_totp(user, has_key=has_key is not None):
        refuse_unchecked(session, user, "totp")
        raise AuthError(KEY_REQUIRED)
    attempt = reserve_attempt(session, user, now, code_step=True)
    if attempt is None:
        refuse_unchecked(session, user, "totp")
        raise AuthError(CODE_LOGIN_ERROR)
    session.refresh(user)  # the secret and last counter as they are now, not as first loaded
    step = None
    if user.totp_secret is not None and user.totp_enrolled_at is not None:
        step = totp.matching_step(user.totp_secret, code, now, user.totp_last_counter)
    if step is None:
        register_failure(session, user, attempt, "totp")
        raise AuthError(CODE_LOGIN_ERROR)
    # Compare-and-set so two requests racing with the same code cannot both succeed.
    claimed = rowcount(session.execute(
        update(User)
        .where(User.id == user.id)
        .where((User.totp_last_counter.is_(None)) | (User.totp_last_counter < step))
        .values(totp_last_counter=step)
        .execution_options(synchronize_session=False)
    ))
    if not claimed:
        session.rollback()
        register_failure(session, user, attempt, "totp")
        raise AuthError(CODE_LOGIN_ERROR)
    session.expire(user, ["totp_last_counter"])
    audit.record(session, "mfa.verified", actor=user, target_type="user", target_id=user.id)
    return complete_login(session, user, now, ip, agent)


def pending_enrolment_secret(session: Session, user: User) -> str:
    """The secret to enrol (created once and kept until confirmed)."""
    if user.totp_enrolled_at is not None:
        raise AuthError(CODE_LOGIN_ERROR)
    if user.totp_secret is None:
        user.totp_secret = totp.new_secret()
        audit.record(session, "mfa.enrolment_started", actor=user, target_type="user", target_id=user.id)
        session.commit()
    return user.totp_secret


def confirm_enrolment(
    session: Session, user: User, code: str, *, ip: str | None = None, agent: str | None = None,
    now: datetime | None = None,
) -> str:
    """Confirm TOTP enrolment with a first code; completes the login."""
    now = now or utcnow()
    if user.totp_enrolled_at is not None or user.totp_secret is None:
        raise AuthError(CODE_LOGIN_ERROR)
    attempt = reserve_attempt(session, user, now, code_step=True)
    if attempt is None:
        refuse_unchecked(session, user, "totp_enrolment")
        raise AuthError(CODE_LOGIN_ERROR)
    session.refresh(user)
    step = None
    if user.totp_enrolled_at is None and user.totp_secret is not None:
        step = totp.matching_step(user.totp_secret, code, now, user.totp_last_counter)
    if step is None:
        register_failure(session, user, attempt, "totp_enrolment")
        raise AuthError("That code is not right. Check the time on your device and try the next code.")
    claimed = rowcount(session.execute(
        update(User).where(User.id == user.id, User.totp_enrolled_at.is_(None))
        .values(totp_last_counter=step, totp_enrolled_at=now)
        .execution_options(synchronize_session=False)
    ))
    if not claimed:
        session.rollback()
        register_failure(session, user, attempt, "totp_enrolment")
        raise AuthError(CODE_LOGIN_ERROR)
    session.expire(user, ["totp_last_counter", "totp_enrolled_at"])
    audit.record(session, "mfa.enrolled", actor=user, target_type="user", target_id=user.id)
    return complete_login(session, user, now, ip, agent)


def logout(session: Session, user: User, token: str) -> None:
    """End this session server-side."""
    sessions.revoke(session, token, utcnow())
    audit.record(session, "logout", actor=user, target_type="user", target_id=user.id)
    session.commit()


# --- single-use e-mail links ----------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def issue_account_token(session: Session, user: User, purpose: TokenPurpose, now: datetime) -> str:
    """Create a single-use link token (older unused ones of the same purpose die)."""
    session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose,
               AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    lifetime = current_app.config[
        "INVITATION_LIFETIME" if purpose is TokenPurpose.INVITATION else "PASSWORD_RESET_LIFETIME"
    ]
    token = secrets.token_urlsafe(32)
    session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=_token_hash(token),
                             created_at=now, expires_at=now + lifetime))
    return token


def find_account_token(
    session: Session, token: str, purpose: TokenPurpose, now: datetime | None = None,
) -> AccountToken | None:
    """The live token record, or None when unknown, used, expired or for a disabled user."""
    now = now or utcnow()
    record = session.scalar(select(AccountToken).where(AccountToken.token_hash == _token_hash(token)))
    if record is None or record.purpose is not purpose or record.used_at is not None or record.expires_at <= now:
        return None
    if record.user.status is UserStatus.DISABLED:
        return None
    return record


class MailNotSent(Exception):
    """The change is saved but its e-mail could not be handed to the mail server."""


def send_link_mail(user: User, subject: str, template: str, link: str) -> None:
    """Send a single-use link now. Sent directly, not through the outbox, so that the link's
    secret is never stored in the database (only its hash is)."""
    config = current_app.config
    text = render_template(f"mail/{template}.txt", user=user, link=link, config=config)
    html = render_template(f"mail/{template}.html", user=user, link=link, config=config)
    try:
        mail.send(config, current_app.instance_path,
                  mail.build_message(config["MAIL_SENDER"], user.email, subject, text, html))
    except OSError as error:  # smtplib's errors are OSErrors
        current_app.logger.error("could not send %s mail to %s: %s", template, user.email, error)
        raise MailNotSent(str(error)) from error


def request_password_reset(session: Session, email: str) -> None:
    """E-mail a reset link when the address belongs to an active account; silent otherwise."""
    now = utcnow()
    user = find_user_by_email(session, email)
    if user is None or user.status is not UserStatus.ACTIVE:
        audit.record(session, "password.reset_requested", actor_label=user.email if user else None,
                     details={"sent": False})  # an unknown address is not recorded: it may be any text
        session.commit()
        return
    recent = session.scalar(select(func.count()).select_from(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.purpose == TokenPurpose.PASSWORD_RESET,
        AccountToken.created_at > now - RESET_MAIL_WINDOW))
    if (recent or 0) >= RESET_MAILS_PER_WINDOW:
        # Nobody can flood a colleague's mailbox through this form; the answer looks the same.
        audit.record(session, "password.reset_throttled", actor_label=user.email, target_type="user",
                     target_id=user.id)
        session.commit()
        return
    token = issue_account_token(session, user, TokenPurpose.PASSWORD_RESET, now)
    audit.record(session, "password.reset_requested", actor_label=user.email, target_type="user",
                 target_id=user.id, details={"sent": True})
    session.commit()
    # MailNotSent is logged; the visitor sees the same answer either way and can ask again.
    with contextlib.suppress(MailNotSent):
        send_link_mail(user, "Reset your ECHRI Portal password", "password_reset",
                       external_url("auth.reset_password", token=token))


def set_password_with_token(
    session: Session, token: str, purpose: TokenPurpose, new_password: str,
) -> tuple[User, sessions.Ended]:
    """Use a reset or invitation link once: set the password; a reset ends every session and
    revokes every API token. Returns the account and what was ended."""
    now = utcnow()
    record = find_account_token(session, token, purpose, now)
    if record is None:
        raise AuthError("This link has expired or has already been used. Ask for a new one.")
    user = record.user
    passwords().check_policy(new_password, context=[user.email, user.name])
    # Claim the token atomically: a double submit cannot use it twice.
    claimed = rowcount(session.execute(
        update(AccountToken).where(AccountToken.id == record.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    ))
    if not claimed:
        session.rollback()
        raise AuthError("This link has expired or has already been used. Ask for a new one.")
    user.password_hash = passwords().hash(new_password)
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None
    ended = sessions.Ended(0, 0)
    if purpose is TokenPurpose.INVITATION:
        user.status = UserStatus.ACTIVE
        audit.record(session, "invitation.accepted", actor=user, target_type="user", target_id=user.id)
    else:
        ended = sessions.end_access(session, user.id, now)
        audit.record(session, "password.reset", actor=user, target_type="user", target_id=user.id,
                     details={"sessions_ended": ended.sessions, "api_tokens_revoked": ended.api_tokens})
    session.commit()
    return user, ended
