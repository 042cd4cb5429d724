"""Account administration: invitations, status, roles, MFA reset, designated contacts."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import access, audit
from portal.auth import sessions, webauthn
from portal.auth.service import issue_account_token, normalise_email, passwords, send_link_mail
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.models.base import utcnow
from portal.urls import external_url
from portal.models.country import Country
from portal.models.user import Role, TokenPurpose, User, UserStatus
from portal.pagination import Page, paginate
from portal.validation import Checker


def get_visible_user(session: Session, actor: User, user_id: uuid.UUID) -> User:
    """The account if `actor` may see it; NotFound otherwise."""
    user = session.scalar(select(User).where(User.id == user_id, access.users_filter(actor)))
    if user is None:
        raise NotFound()
    return user



def list_users(session: Session, actor: User, search: str, status: str | None,
               args: Mapping[str, Any]) -> Page[User]:
    """The accounts `actor` manages, optionally narrowed by a name/e-mail search and a status."""
    query = select(User).where(access.users_filter(actor))
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    if status in {s.value for s in UserStatus}:
        query = query.where(User.status == UserStatus(status))
    return paginate(session, query.order_by(User.country_code, User.name), args)


def _check_new_account(session: Session, email: str, name: str, role: Role, country_code: str | None,
                       position: str | None) -> tuple[str, str | None]:
    """The account's name and position, cleaned; ValidationFailed names every field with a problem."""
    c = Checker({"name": name, "position": position})
    name = c.text("name", required=True, limit=200, missing="Enter the person's name.")
    position = c.text("position", limit=200) or None
    if role.belongs_to_state:
        if not country_code:
            c.fail("country", "Choose the state this person works for.")
        elif session.get(Country, country_code) is None:
            c.fail("country", f"There is no state with the code {country_code!r} in the register.")
    elif country_code:
        c.fail("country", f"The {role.label.lower()} role does not belong to a state.")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        c.fail("email", "An account with this e-mail address already exists.")
    c.done("The account could not be created.")
    return name, position


def create_user(
    session: Session, *, email: str, name: str, role: Role, country_code: str | None,
    position: str | None = None, password: str | None = None, invited_by: User | None = None,
) -> User:
    """Add an account (not committed). With a password it is active at once (operator CLI)."""
    email = normalise_email(email)
    country_code = country_code.upper() if country_code else None
    name, position = _check_new_account(session, email, name, role, country_code, position)
    user = User(email=email, name=name, role=role, country_code=country_code, position=position,
                invited_by_id=invited_by.id if invited_by else None)
    if password is not None:
        passwords().check_policy(password, context=[email, name])
        user.password_hash = passwords().hash(password)
        user.password_changed_at = utcnow()
        user.status = UserStatus.ACTIVE
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ValidationFailed("The account could not be created.",
                               {"email": "An account with this e-mail address already exists."}) from None
    return user


def invite(
    session: Session, actor: User, *, email: str, name: str, role: Role,
    country_code: str | None, position: str | None = None,
) -> User:
    """Create an invited account and e-mail its single-use link."""
    if role.belongs_to_state and actor.role is Role.SPOC:
        country_code = actor.country_code  # a SPOC only ever invites into its own state
    if not access.can_invite(actor, role, country_code.upper() if country_code else None):
        raise Forbidden("You may not invite this kind of account.")
    user = create_user(session, email=email, name=name, role=role, country_code=country_code,
                       position=position, invited_by=actor)
    token = issue_account_token(session, user, TokenPurpose.INVITATION, utcnow())
    audit.record(session, "user.invited", actor=actor, target_type="user", target_id=user.id,
                 details={"role": role.value, "country": user.country_code})
    session.commit()
    send_link_mail(user, "You are invited to the ECHRI Portal", "invitation",
                   external_url("auth.accept_invitation", token=token))
    return user


def set_status(session: Session, actor: User, target: User, status: UserStatus) -> sessions.Ended:
    """Disable (ending all sessions and revoking all API tokens at once) or re-enable an account."""
    if status is UserStatus.INVITED or not access.can_change_status(actor, target):
        raise Forbidden("You may not change this account's status.")
    ended = sessions.Ended(0, 0)
    if target.status is status:
        return ended
    if status is UserStatus.ACTIVE and target.password_hash is None:
        raise ValidationFailed("This person has not accepted the invitation yet; send a new one instead.")
    previous = target.status
    target.status = status
    details: dict[str, object] = {"from": previous.value, "to": status.value}
    if status is UserStatus.DISABLED:
        target.is_designated_poc = False
        # Revoked, not merely refused while disabled: enabling the account again revives nothing.
        ended = sessions.end_access(session, target.id, utcnow())
        details.update(sessions_ended=ended.sessions, api_tokens_revoked=ended.api_tokens)
    audit.record(session, "user.disabled" if status is UserStatus.DISABLED else "user.enabled",
                 actor=actor, target_type="user", target_id=target.id, details=details)
    session.commit()
    return ended


def change_role(session: Session, actor: User, target: User, role: Role) -> None:
    """Give an account another role within its kind (state roles, or secretariat/admin)."""
    if role not in access.assignable_roles(actor, target):
        raise Forbidden("You may not give this account that role.")
    if target.role is role:
        return
    previous = target.role
    target.role = role
    if role is not Role.SPOC:
        target.is_designated_poc = False
    sessions.revoke_all(session, target.id, utcnow())  # new rights start with a fresh login
    audit.record(session, "user.role_changed", actor=actor, target_type="user", target_id=target.id,
                 details={"from": previous.value, "to": role.value})
    session.commit()


def reset_mfa(session: Session, actor: User, target: User) -> sessions.Ended:
    """Forget the account's authenticator app and its security keys (it enrols again at the next
    login); every session ends and every API token is revoked."""
    if not access.can_reset_mfa(actor, target):
        raise Forbidden("You may not reset this account's two-step verification.")
    target.totp_secret = None
    target.totp_enrolled_at = None
    target.totp_last_counter = None
    keys_removed = webauthn.clear_keys(session, target.id)
    ended = sessions.end_access(session, target.id, utcnow())
    audit.record(session, "mfa.reset", actor=actor, target_type="user", target_id=target.id,
                 details={"sessions_ended": ended.sessions, "api_tokens_revoked": ended.api_tokens,
                          "keys_removed": keys_removed})
    session.commit()
    return ended


def designate_poc(session: Session, actor: User, target: User) -> None:
    """Make `target` its state's designated point of contact (the previous one stays a SPOC)."""
    if not access.can_designate_poc(actor):
        raise Forbidden("Only administrators designate points of contact.")
    if target.role is not Role.SPOC or target.status is not UserStatus.ACTIVE:
        raise ValidationFailed("Only an active point-of-contact account can be designated.")
    previous = session.scalar(select(User).where(
        User.country_code == target.country_code, User.is_designated_poc.is_(True), User.id != target.id))
    if previous is not None:
        previous.is_designated_poc = False
        session.flush()  # release the one-per-state index before taking it
    target.is_designated_poc = True
    audit.record(session, "user.designated_poc", actor=actor, target_type="user", target_id=target.id,
                 details={"country": target.country_code,
                          "previous": str(previous.id) if previous else None})
    session.commit()


def resend_invitation(session: Session, actor: User, target: User) -> None:
    """Send a fresh invitation link (the old one stops working)."""
    if target.status is not UserStatus.INVITED or not access.can_invite(actor, target.role, target.country_code):
        raise Forbidden("You may not invite this account.")
    token = issue_account_token(session, target, TokenPurpose.INVITATION, utcnow())
    audit.record(session, "user.invitation_resent", actor=actor, target_type="user", target_id=target.id)
    session.commit()
    send_link_mail(target, "You are invited to the ECHRI Portal", "invitation",
                   external_url("auth.accept_invitation", token=token))
