"""Administrators attach, change and remove a state's OpenID Connect provider."""
from __future__ import annotations

import ipaddress
import os
import re
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.audit import CLAIM_VALUE_PATTERN
from portal.crypto.sealed import MAX_SETTING_SIZE
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.keys import sealed
from portal.keys import service as keys
from portal.models.base import rowcount, utcnow
from portal.models.country import Country
from portal.models.identity import IdentityBinding, StateIdentityProvider
from portal.models.user import User
from portal.validation import Checker

ENV_NAME_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,99}$")
CLAIM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")
SECRET_SOURCES = ("environment", "sealed")


class SsoUnavailable(Exception):
    """The state's provider cannot be used now (no secret in the environment, discovery failed)."""


def providers(session: Session) -> dict[str, StateIdentityProvider]:
    """Every attached provider by state code."""
    return {p.country_code: p for p in session.scalars(select(StateIdentityProvider))}


def enabled_providers(session: Session) -> list[StateIdentityProvider]:
    """The providers people may sign in through, by state name."""
    return list(session.scalars(select(StateIdentityProvider).join(Country)
                                .where(StateIdentityProvider.enabled.is_(True)).order_by(Country.name)))


def provider_for(session: Session, code: str) -> StateIdentityProvider:
    """A state's enabled provider, for signing in; NotFound when there is none."""
    provider = session.get(StateIdentityProvider, code.upper()) if len(code) == 2 else None
    if provider is None or not provider.enabled:
        raise NotFound("This state has no single sign-on.")
    return provider


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _issuer_problem(issuer: str) -> str | None:
    try:
        parts = urlsplit(issuer)
    except ValueError:
        return "Enter the issuer's URL, for example https://login.ministry.example."
    if not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
        return "Enter the issuer's URL, for example https://login.ministry.example (no query, fragment or login)."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _loopback(parts.hostname) and current_app.config.get("SSO_ALLOW_HTTP_LOOPBACK"):
        return None  # a provider on this machine, for development and the tests only
    return "The issuer must use https."


def _values(checker: Checker, name: str) -> list[str]:
    raw = checker.data.get(name, [])
    if isinstance(raw, str):  # the form sends one space- or comma-separated line
        raw = raw.replace(",", " ").split()
    checker.data[name] = raw
    return sorted(set(checker.strings(name, pattern=CLAIM_VALUE_PATTERN, limit=200)))


def validate(payload: dict[str, Any], existing: StateIdentityProvider | None) -> dict[str, Any]:
    """The provider settings from a form or API payload, or ValidationFailed naming every problem."""
    checker = Checker(dict(payload))
    issuer = checker.text("issuer", required=True, limit=300)
    if issuer and (problem := _issuer_problem(issuer)):
        checker.fail("issuer", problem)
    client_id = checker.text("client_id", required=True, limit=200)
    source = checker.choice("secret_source", SECRET_SOURCES)
    secret_env = checker.text("secret_env", limit=100)
    client_secret = checker.data.get("client_secret") or ""
    if not isinstance(client_secret, str):
        checker.fail("client_secret", "Must be text.")
        client_secret = ""
    if source == "environment" and not ENV_NAME_PATTERN.match(secret_env):
        checker.fail("secret_env", "Name the environment variable: capitals, digits and _, e.g. SSO_DK_SECRET.")
    if source == "sealed":
        if client_secret and (len(client_secret.encode("utf-8")) > MAX_SETTING_SIZE
                              or any(not c.isprintable() for c in client_secret)):
            checker.fail("client_secret", "This is not a client secret.")
        if not client_secret and (existing is None or existing.secret_sealed is None):
            checker.fail("client_secret", "Enter the client secret the provider gave the portal.")
    email_claim = checker.text("email_claim", limit=64) or "email"
    if not CLAIM_NAME_PATTERN.match(email_claim):
        checker.fail("email_claim", "Name one claim, for example email.")
    amr = _values(checker, "mfa_amr")
    acr = _values(checker, "mfa_acr")
    enabled = checker.data.get("enabled", True)
    if not isinstance(enabled, bool):
        checker.fail("enabled", "Must be true or false.")
    if checker.errors:
        raise ValidationFailed("The identity provider could not be saved.", checker.errors)
    return {"issuer": issuer, "client_id": client_id, "secret_source": source, "secret_env": secret_env,
            "client_secret": client_secret, "email_claim": email_claim, "mfa_amr": " ".join(amr),
            "mfa_acr": " ".join(acr), "enabled": enabled}


def _remove_bindings(session: Session, code: str, issuer: str) -> int:
    """Forget the subjects the state's users had at `issuer` (a new provider has new subjects)."""
    return rowcount(session.execute(delete(IdentityBinding).where(
        IdentityBinding.issuer == issuer,
        IdentityBinding.user_id.in_(select(User.id).where(User.country_code == code)))))


def save_provider(session: Session, actor: User, code: str, payload: dict[str, Any]) -> StateIdentityProvider:
    """Attach or change a state's identity provider, and the multi-factor values it accepts (audited)."""
    if not access.can_manage_identity_providers(actor):
        raise Forbidden("Only administrators attach identity providers.")
    country = session.get(Country, code)
    if country is None:
        raise NotFound()
    existing = session.get(StateIdentityProvider, code)
    values = validate(payload, existing)
    provider = existing or StateIdentityProvider(country_code=code, created_at=utcnow())
    changed: list[str] = []
    removed = 0
    old_issuer = existing.issuer if existing is not None else None
    for field in ("issuer", "client_id", "email_claim", "mfa_amr", "mfa_acr", "enabled"):
        if existing is None or getattr(provider, field) != values[field]:
            changed.append(field)
            setattr(provider, field, values[field])
    if old_issuer is not None and "issuer" in changed:
        removed = _remove_bindings(session, code, old_issuer)
    if values["secret_source"] == "environment":
        if provider.secret_env != values["secret_env"]:
            changed.append("client_secret")
        provider.secret_env, provider.secret_sealed, provider.secret_master_key_id = values["secret_env"], None, None
    elif values["client_secret"]:
        sealed.seal_client_secret(provider, values["client_secret"], keys.provider())
        changed.append("client_secret")
    if existing is not None and not changed:
        return provider
    provider.updated_at = utcnow()
    session.add(provider)
    # The multi-factor choice is recorded in full each time: which values count is the decision.
    audit.record(session, "sso.provider_attached" if existing is None else "sso.provider_changed", actor=actor,
                 target_type="country", target_id=code,
                 details={"country": code, "changed": sorted(changed), "enabled": provider.enabled,
                          "mfa_amr": sorted(provider.amr_values), "mfa_acr": sorted(provider.acr_values),
                          "secret_source": values["secret_source"], "bindings_removed": removed})
    session.commit()
    return provider


def remove_provider(session: Session, actor: User, code: str) -> None:
    """Detach a state's identity provider; its users sign in with their passwords again."""
    if not access.can_manage_identity_providers(actor):
        raise Forbidden("Only administrators attach identity providers.")
    provider = session.get(StateIdentityProvider, code)
    if provider is None:
        raise NotFound()
    removed = _remove_bindings(session, code, provider.issuer)
    session.delete(provider)
    audit.record(session, "sso.provider_removed", actor=actor, target_type="country", target_id=code,
                 details={"country": code, "bindings_removed": removed})
    session.commit()


def client_secret(provider: StateIdentityProvider) -> str:
    """The client secret in clear, for the token request (from the environment or unsealed)."""
    if provider.secret_env is not None:
        value = os.environ.get(provider.secret_env)
        if not value:
            raise SsoUnavailable(f"environment variable {provider.secret_env} is not set")
        return value
    return sealed.open_client_secret(provider, keys.provider())
