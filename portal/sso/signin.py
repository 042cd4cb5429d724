"""Signing in with a state's identity provider, once Authlib has validated the ID token.

The provider proves who; the portal decides what. The account must exist, be active and
belong to the provider's state; it is matched by the verified e-mail claim and bound to the
provider's subject at first use. The sign-in counts against the account's attempt budget and
lock-out like a password, and the portal's second step follows unless the ID token carries an
`amr`/`acr` value the state accepts as multi-factor.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import access, audit
from portal.auth.service import (
    GENERIC_LOGIN_ERROR, AuthError, complete_login, give_back_attempt, refuse_unchecked, register_failure,
    reserve_attempt, find_user_by_email,
)
from portal.models.base import utcnow
from portal.models.identity import IdentityBinding, StateIdentityProvider
from portal.models.user import User

STEP = "oidc"


@dataclass(frozen=True)
class SsoSignIn:
    """The account the provider signed in, and its session token when no second step is needed."""

    user: User
    token: str | None


def _refuse(session: Session, provider: StateIdentityProvider, reason: str, user: User | None = None) -> AuthError:
    audit.record(session, "login.failure", target_type="user" if user else None, target_id=user.id if user else None,
                 actor_label=user.email if user else None,
                 details={"step": STEP, "reason": reason, "country": provider.country_code})
    session.commit()
    return AuthError(GENERIC_LOGIN_ERROR)


def refuse_token(session: Session, provider: StateIdentityProvider) -> AuthError:
    """Audit an answer from the provider that did not validate (no account is named by it)."""
    return _refuse(session, provider, "token refused")


def accepts_as_mfa(provider: StateIdentityProvider, claims: dict[str, Any]) -> bool:
    """Whether the ID token's `amr` or `acr` is one the state chose to accept as multi-factor."""
    amr = claims.get("amr")
    amr_values = {v for v in amr if isinstance(v, str)} if isinstance(amr, list) else set()
    acr = claims.get("acr")
    return bool(amr_values & provider.amr_values) or (isinstance(acr, str) and acr in provider.acr_values)


def sign_in(session: Session, provider: StateIdentityProvider, claims: dict[str, Any], *, ip: str | None = None,
            agent: str | None = None, now: datetime | None = None) -> SsoSignIn:
    """Match validated ID token claims to an account of the provider's state and bind or check its subject."""
    now = now or utcnow()
    email = claims.get(provider.email_claim)
    subject = claims.get("sub")
    if not isinstance(email, str) or not email or not isinstance(subject, str) or not subject:
        raise _refuse(session, provider, "unknown account")
    user = find_user_by_email(session, email)
    if user is None:
        raise _refuse(session, provider, "unknown account")  # the address is not recorded: it may be any text
    if user.country_code != provider.country_code or not user.role.belongs_to_state:
        raise _refuse(session, provider, "other state", user)
    # An address the provider has not verified proves nothing (absent: the provider vouches for it).
    if "email_verified" in claims and claims["email_verified"] is not True:
        raise _refuse(session, provider, "email not verified", user)
    attempt = reserve_attempt(session, user, now) if access.can_sign_in_through(user, provider) else None
    if attempt is None:
        refuse_unchecked(session, user, STEP)  # locked, disabled, invited, or the provider turned off
        raise AuthError(GENERIC_LOGIN_ERROR)
    binding = session.get(IdentityBinding, user.id)
    if binding is None:
        taken = session.scalar(select(IdentityBinding.user_id).where(
            IdentityBinding.issuer == provider.issuer, IdentityBinding.subject == subject))
        if taken is None:
            try:
                with session.begin_nested():
                    session.add(IdentityBinding(user_id=user.id, issuer=provider.issuer, subject=subject, bound_at=now))
            except IntegrityError:
                taken = user.id  # a parallel first sign-in bound the account or the subject first
            else:
                binding = session.get(IdentityBinding, user.id)
                audit.record(session, "sso.bound", actor=user, target_type="user", target_id=user.id,
                             details={"country": provider.country_code})
    if binding is None or binding.issuer != provider.issuer or binding.subject != subject:
        # Someone else at the provider now holds this address (or the subject is another
        # account's): never follow the e-mail to an account bound to someone else.
        audit.record(session, "sso.subject_mismatch", target_type="user", target_id=user.id, actor_label=user.email,
                     details={"country": provider.country_code})
        register_failure(session, user, attempt, STEP)
        raise AuthError(GENERIC_LOGIN_ERROR)
    give_back_attempt(session, attempt)
    by_idp = accepts_as_mfa(provider, claims)
    audit.record(session, "sso.verified", actor=user, target_type="user", target_id=user.id,
                 details={"country": provider.country_code, "mfa_by_idp": by_idp})
    if by_idp:
        return SsoSignIn(user, complete_login(session, user, now, ip, agent))
    session.commit()
    return SsoSignIn(user, None)
