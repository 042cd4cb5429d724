"""WebAuthn (security keys and passkeys): registration, the second sign-in step, removal, and a
state's requirement to use them.

The ceremonies are the `webauthn` library's: we generate its options and hand its verifiers the
challenge we kept, our relying party id and origin, and the stored public key and counter.
Challenges live in the database (the cookie only names one) and are deleted on their one use,
so a captured response cannot be replayed against any app process.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import webauthn
from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidJSONStructure, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AttestationConveyancePreference, AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor,
    ResidentKeyRequirement, UserVerificationRequirement,
)

from portal import access, audit
from portal.auth import service
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.models.base import rowcount, utcnow
from portal.models.country import Country
from portal.models.user import User
from portal.models.webauthn import ChallengePurpose, WebAuthnChallenge, WebAuthnCredential
from portal.validation import Checker

CHALLENGE_LIFETIME = timedelta(minutes=5)  # as long as a pending login lasts
CEREMONY_TIMEOUT_MS = 120_000
MAX_KEYS = 10
NAME_MAX = 100


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str


def relying_party(config: Any) -> RelyingParty:
    """The RP id and origin: configured (production requires both), or BASE_URL's."""
    base = urlsplit(config["BASE_URL"])
    origin = config.get("WEBAUTHN_ORIGIN") or f"{base.scheme}://{base.netloc}"
    rp_id = config.get("WEBAUTHN_RP_ID") or (urlsplit(origin).hostname or "")
    return RelyingParty(rp_id, origin.rstrip("/"), config.get("WEBAUTHN_RP_NAME") or "ECHRI Portal")


def _rp() -> RelyingParty:
    return relying_party(current_app.config)


def user_keys(session: Session, user: User) -> list[WebAuthnCredential]:
    """The user's registered authenticators, oldest first."""
    return list(session.scalars(select(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id)
                                .order_by(WebAuthnCredential.created_at, WebAuthnCredential.id)))


def has_key(session: Session, user: User) -> bool:
    return session.scalar(select(func.count()).select_from(WebAuthnCredential)
                          .where(WebAuthnCredential.user_id == user.id)) != 0


def _descriptors(keys: list[WebAuthnCredential]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=key.credential_id) for key in keys]


def _new_challenge(session: Session, user: User, purpose: ChallengePurpose, now: datetime) -> WebAuthnChallenge:
    # One live challenge per user and purpose: an older page's challenge dies with the new one,
    # and the table cannot grow with page views.
    session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.user_id == user.id,
                                                    WebAuthnChallenge.purpose == purpose))
    challenge = WebAuthnChallenge(id=uuid.uuid4(), user_id=user.id, purpose=purpose,
                                  challenge=webauthn.helpers.generate_challenge(),
                                  created_at=now, expires_at=now + CHALLENGE_LIFETIME)
    session.add(challenge)
    return challenge


def _take_challenge(session: Session, user: User, purpose: ChallengePurpose, challenge_id: str | None,
                    now: datetime) -> bytes | None:
    """Delete the named challenge and return its bytes when it is this user's, for this purpose and
    live; None otherwise. The DELETE is what makes it single-use, whatever the concurrency."""
    try:
        key = uuid.UUID(str(challenge_id))
    except ValueError:
        return None
    row = session.execute(
        delete(WebAuthnChallenge)
        .where(WebAuthnChallenge.id == key, WebAuthnChallenge.user_id == user.id,
               WebAuthnChallenge.purpose == purpose)
        .returning(WebAuthnChallenge.challenge, WebAuthnChallenge.expires_at)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None or row.expires_at <= now:
        return None
    return bytes(row.challenge)


# --- registration ---------------------------------------------------------------------------

def begin_registration(session: Session, actor: User) -> tuple[str, str]:
    """Options for navigator.credentials.create() and the id of the challenge kept for them."""
    rp = _rp()
    challenge = _new_challenge(session, actor, ChallengePurpose.REGISTER, utcnow())
    options = webauthn.generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_name=actor.email, user_display_name=actor.name,
        user_id=actor.id.bytes,  # the account's random id: nothing personal inside the authenticator
        challenge=challenge.challenge, timeout=CEREMONY_TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user_keys(session, actor)),
    )
    session.commit()
    return webauthn.options_to_json(options), str(challenge.id)


def _check_name(name: str) -> str:
    checker = Checker({"name": name})
    value = checker.text("name", required=True, limit=NAME_MAX)
    if checker.errors:
        raise ValidationFailed("The key could not be registered.", checker.errors)
    return value


def finish_registration(session: Session, actor: User, *, challenge_id: str | None, credential: str,
                        name: str) -> WebAuthnCredential:
    """Verify the authenticator's answer to our challenge and keep its public key."""
    now = utcnow()
    rp = _rp()
    name = _check_name(name)
    expected = _take_challenge(session, actor, ChallengePurpose.REGISTER, challenge_id, now)
    session.commit()  # the challenge is spent whatever happens next
    refusal = ValidationFailed("The key could not be registered. Try again.",
                               {"name": "The key did not answer the portal's request. Try again."})
    if expected is None:
        raise refusal
    try:
        verified = webauthn.verify_registration_response(
            credential=parse_registration_credential_json(credential), expected_challenge=expected,
            expected_rp_id=rp.id, expected_origin=rp.origin, require_user_verification=False,
        )
    except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError, TypeError, KeyError) as error:
        current_app.logger.info("webauthn registration refused: %s", error)
        raise refusal from None
    if len(verified.credential_id) > 1023:
        raise refusal
    if len(user_keys(session, actor)) >= MAX_KEYS:
        raise ValidationFailed(f"You can register up to {MAX_KEYS} keys. Remove one first.",
                               {"name": f"You can register up to {MAX_KEYS} keys."})
    if session.scalar(select(WebAuthnCredential.id).where(
            WebAuthnCredential.credential_id == verified.credential_id)) is not None:
        raise ValidationFailed("This key is already registered.", {"name": "This key is already registered."})
    key = WebAuthnCredential(user_id=actor.id, credential_id=verified.credential_id,
                             public_key=verified.credential_public_key, sign_count=verified.sign_count,
                             aaguid=verified.aaguid, name=name, created_at=now)
    session.add(key)
    try:
        session.flush()
    except IntegrityError:  # the same key registered at this very moment by another request
        session.rollback()
        raise ValidationFailed("This key is already registered.", {"name": "This key is already registered."}) from None
    audit.record(session, "mfa.key_registered", actor=actor, target_type="user", target_id=actor.id,
                 details={"key_id": str(key.id), "user_verified": verified.user_verified})
    session.commit()
    return key


def remove_key(session: Session, actor: User, key_id: uuid.UUID) -> None:
    """Remove one of one's own keys (another user's key is reported missing)."""
    key = session.scalar(select(WebAuthnCredential).where(WebAuthnCredential.id == key_id,
                                                          WebAuthnCredential.user_id == actor.id))
    if key is None:
        raise NotFound()
    if len(user_keys(session, actor)) == 1 and not access.may_remove_last_key(actor):
        raise Forbidden("Your state requires a security key or passkey: register another one before you remove "
                        "this one, or ask an administrator to reset your two-step verification.")
    session.delete(key)
    audit.record(session, "mfa.key_removed", actor=actor, target_type="user", target_id=actor.id,
                 details={"key_id": str(key_id)})
    session.commit()


def clear_keys(session: Session, user_id: uuid.UUID) -> int:
    """Forget every key and pending challenge of the account (not committed); returns how many keys."""
    session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.user_id == user_id))
    return rowcount(session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id)))


# --- the second sign-in step ------------------------------------------------------------------

def begin_login(session: Session, user: User) -> tuple[str, str] | None:
    """Options for navigator.credentials.get() and their challenge's id; None without keys."""
    keys = user_keys(session, user)
    if not keys:
        return None
    challenge = _new_challenge(session, user, ChallengePurpose.AUTHENTICATE, utcnow())
    options = webauthn.generate_authentication_options(
        rp_id=_rp().id, challenge=challenge.challenge, timeout=CEREMONY_TIMEOUT_MS,
        allow_credentials=_descriptors(keys), user_verification=UserVerificationRequirement.PREFERRED,
    )
    session.commit()
    return webauthn.options_to_json(options), str(challenge.id)


def verify_login(
    session: Session, user: User, *, challenge_id: str | None, credential: str,
    ip: str | None = None, agent: str | None = None, now: datetime | None = None,
) -> str:
    """Second factor with a registered key; returns the new session token.

    Counted and locked out like a TOTP code (one check per account at a time). Refused: an
    unknown or spent challenge, a credential that is not this user's, a user handle of another
    account, another origin or RP id, a bad signature, and a counter not above the stored one
    (a cloned authenticator)."""
    now = now or utcnow()
    rp = _rp()
    attempt = service.reserve_attempt(session, user, now, code_step=True)
    if attempt is None:
        service.refuse_unchecked(session, user, "webauthn")
        raise service.AuthError(service.KEY_LOGIN_ERROR)
    expected = _take_challenge(session, user, ChallengePurpose.AUTHENTICATE, challenge_id, now)
    session.commit()  # spent, whatever the outcome
    session.refresh(user)
    try:
        parsed = parse_authentication_credential_json(credential)
    except (InvalidJSONStructure, ValueError, TypeError, KeyError):
        parsed = None
    key = None
    if parsed is not None:
        # Only among this user's keys: another account's credential is unknown here.
        key = session.scalar(select(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id,
                                                              WebAuthnCredential.credential_id == parsed.raw_id))
    handle = parsed.response.user_handle if parsed is not None else None
    verified = None
    handle_matches = not handle or bytes(handle) == user.id.bytes
    if parsed is not None and expected is not None and key is not None and handle_matches:
        try:
            verified = webauthn.verify_authentication_response(
                credential=parsed, expected_challenge=expected, expected_rp_id=rp.id, expected_origin=rp.origin,
                credential_public_key=key.public_key, credential_current_sign_count=key.sign_count,
                require_user_verification=False,
            )
        except (InvalidAuthenticationResponse, ValueError, TypeError, KeyError) as error:
            current_app.logger.info("webauthn assertion refused: %s", error)
    if verified is None or key is None:
        service.register_failure(session, user, attempt, "webauthn")
        raise service.AuthError(service.KEY_LOGIN_ERROR)
    # Compare-and-set on the counter: two racing uses of one response (or of two clones) cannot
    # both pass. Authenticators without a counter always say 0, which the library allows.
    counter = WebAuthnCredential.sign_count
    newer = counter < verified.new_sign_count if verified.new_sign_count else counter == 0
    claimed = rowcount(session.execute(
        update(WebAuthnCredential)
        .where(WebAuthnCredential.id == key.id, newer)
        .values(sign_count=verified.new_sign_count, last_used_at=now)
        .execution_options(synchronize_session=False)
    ))
    if not claimed:
        session.rollback()
        service.register_failure(session, user, attempt, "webauthn")
        raise service.AuthError(service.KEY_LOGIN_ERROR)
    audit.record(session, "mfa.verified", actor=user, target_type="user", target_id=user.id,
                 details={"step": "webauthn", "key_id": str(key.id)})
    return service.complete_login(session, user, now, ip, agent)


# --- a state's requirement ----------------------------------------------------------------

def set_requirement(session: Session, actor: User, country: Country, required: bool) -> bool:
    """Require (or stop requiring) WebAuthn for the state's users who have a key; True if changed."""
    if not access.can_set_webauthn_requirement(actor, country):
        raise Forbidden("Only the state's point of contact or an administrator changes this setting.")
    if country.webauthn_required is required:
        return False
    country.webauthn_required = required
    audit.record(session, "country.webauthn_requirement_changed", actor=actor, target_type="country",
                 target_id=country.code, details={"required": required})
    session.commit()
    return True
