"""Registering, listing and revoking machine clients (the SPOC's and the admins' operations)."""
from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import access, audit
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.models.base import utcnow
from portal.models.oauth import ClientAuthMethod, OAuthClient, OAuthToken
from portal.models.user import User
from portal.oauth.server import digest
from portal.validation import Checker

SECRET_PREFIX = "echrics_"
MAX_DAYS = 365
MAX_JWKS = 20_000


def _public_jwks(text: str, c: Checker) -> dict[str, Any] | None:
    """A public JWK or JWKS pasted by the SPOC, as a key set; field errors otherwise."""
    if not text:
        c.fail("jwks", "Paste the client's public key as a JWK or a JWK Set.")
        return None
    if len(text) > MAX_JWKS:
        c.fail("jwks", "The key set is too long.")
        return None
    try:
        data = json.loads(text)
    except ValueError:
        c.fail("jwks", "Not valid JSON.")
        return None
    if isinstance(data, dict) and "keys" not in data:
        data = {"keys": [data]}
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"] \
            or not all(isinstance(k, dict) for k in data["keys"]):
        c.fail("jwks", "Must be a JWK or a JWK Set ({\"keys\": [...]}).")
        return None
    for key in data["keys"]:
        # Nothing secret is stored: no private parts, no shared (symmetric) keys.
        if key.get("kty") not in ("RSA", "EC", "OKP") or any(p in key for p in ("d", "p", "q", "dp", "dq", "qi", "k")):
            c.fail("jwks", "Paste public keys only (RSA, EC or OKP), without private parts.")
            return None
    try:
        KeySet.import_key_set(data)  # type: ignore[arg-type]  # what we check is its answer
    except (JoseError, ValueError, TypeError, KeyError):
        c.fail("jwks", "These keys could not be read.")
        return None
    return {"keys": data["keys"]}


def register_client(session: Session, actor: User, payload: dict[str, Any]) -> tuple[OAuthClient, str | None]:
    """Register a client for the SPOC's state; returns it and its secret (shown once) if it has one."""
    if not access.can_manage_clients(actor):
        raise Forbidden("Only a point of contact registers API clients for their state.")
    c = Checker(payload)
    name = c.text("name", required=True, limit=100)
    scopes = c.choices("scopes", access.CLIENT_SCOPES, minimum=1)
    method_raw = c.choice("auth_method", [m.value for m in ClientAuthMethod])
    days = payload.get("days", 90)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        c.fail("days", f"Choose 1 to {MAX_DAYS} days.")
        days = 90
    jwks = None
    if method_raw == ClientAuthMethod.PRIVATE_KEY_JWT.value:
        jwks = _public_jwks(c.text("jwks", limit=MAX_JWKS, multiline=True), c)
    if c.errors:
        raise ValidationFailed("Some fields need attention.", c.errors)
    assert method_raw is not None and actor.country_code is not None
    method = ClientAuthMethod(method_raw)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32) if method is ClientAuthMethod.CLIENT_SECRET_BASIC else None
    client = OAuthClient(client_id="ecc_" + secrets.token_hex(12), country_code=actor.country_code, name=name,
                         scopes=" ".join(s for s in access.CLIENT_SCOPES if s in scopes), auth_method=method,
                         secret_hash=digest(secret) if secret else None, jwks=jwks, created_by_id=actor.id,
                         expires_at=utcnow() + timedelta(days=days))
    session.add(client)
    session.flush()
    audit.record(session, "oauth_client.created", actor=actor, target_type="oauth_client", target_id=client.id,
                 details={"client_id": client.client_id, "scopes": scopes, "auth_method": method.value,
                          "expires_at": client.expires_at.isoformat()})
    session.commit()
    return client, secret


def visible_clients(session: Session, actor: User) -> list[OAuthClient]:
    """Admins see every client; a SPOC its own state's."""
    query = select(OAuthClient).order_by(OAuthClient.created_at.desc())
    if access.can_oversee_clients(actor):
        return list(session.scalars(query))
    if access.can_manage_clients(actor):
        return list(session.scalars(query.where(OAuthClient.country_code == actor.country_code)))
    return []


def visible_clients_for(actor: User, client: OAuthClient) -> list[OAuthClient]:
    """[client] when the actor oversees it (admins) or manages it (its state's SPOC), else []."""
    if access.can_oversee_clients(actor) or (access.can_manage_clients(actor)
                                             and client.country_code == actor.country_code):
        return [client]
    return []


def revoke_client(session: Session, actor: User | None, client_id: str) -> OAuthClient:
    """Revoke a client and every token it holds (a SPOC its state's, admins any; None: the CLI)."""
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None or (actor is not None and not visible_clients_for(actor, client)):
        raise NotFound()
    if client.revoked_at is None:
        now = utcnow()
        client.revoked_at = now
        session.execute(update(OAuthToken).where(OAuthToken.client_pk == client.id, OAuthToken.revoked_at.is_(None))
                        .values(revoked_at=now).execution_options(synchronize_session=False))
        audit.record(session, "oauth_client.revoked", actor=actor, actor_label=None if actor else "cli",
                     target_type="oauth_client", target_id=client.id, details={"client_id": client.client_id})
        session.commit()
    return client

