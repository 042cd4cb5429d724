"""Authlib's authorization server and resource protector, wired to our tables.

Authlib does the protocol: client authentication (client_secret_basic, and private_key_jwt
per RFC 7523 with its JWT checks), the client-credentials grant, token generation, RFC 7009
revocation, RFC 7662 introspection and bearer-token validation. This module only tells it
where clients and tokens live. Access tokens are random (Authlib's generator) behind a prefix
of their own, stored as SHA-256, so a personal token is never taken for a client's or back.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError, TokenMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, current_app, url_for
from joserfc.jwk import KeySet
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.access import CLIENT_SCOPES, MachineActor
from portal.extensions import db
from portal.models.base import utcnow
from portal.models.oauth import OAuthAssertionJti, OAuthClient, OAuthToken

TOKEN_PREFIX = "echrimc_"  # a client's access token; personal tokens start "echri_"
AUTH_METHODS = ["client_secret_basic", "private_key_jwt"]
MAX_TOKEN_SECONDS = 3600


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


class Client(ClientMixin):  # type: ignore[misc]
    """A registered client, as Authlib asks about it."""

    def __init__(self, record: OAuthClient) -> None:
        self.record = record

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.record.scope_list
        if not scope:
            return " ".join(allowed)  # no `scope`: everything the SPOC registered
        wanted = scope.split()
        if not set(wanted) <= set(allowed):
            raise InvalidScopeError(description="The client is not registered for some of these scopes.")
        return " ".join(s for s in allowed if s in wanted)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.record.secret_hash
        return stored is not None and hmac.compare_digest(stored, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.record.auth_method.value

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class Token(TokenMixin):  # type: ignore[misc]
    """An issued access token, as Authlib asks about it."""

    def __init__(self, record: OAuthToken) -> None:
        self.record = record

    def check_client(self, client: Client) -> bool:
        return self.record.client_pk == client.record.id

    def get_scope(self) -> str:
        return self.record.scopes

    def get_expires_in(self) -> int:
        return int((self.record.expires_at - self.record.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.record.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        # A revoked or expired client takes its tokens with it.
        client = self.record.client
        return self.record.revoked_at is not None or client.revoked_at is not None or client.expires_at <= utcnow()


def live_client(client_id: str) -> OAuthClient | None:
    record = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
        return None
    return record


def _query_client(client_id: str) -> Client | None:
    record = live_client(client_id) if isinstance(client_id, str) else None
    return Client(record) if record is not None else None


def query_token(token_string: str) -> Token | None:
    if not isinstance(token_string, str) or not token_string.startswith(TOKEN_PREFIX):
        return None
    record = db.session.scalar(select(OAuthToken).where(OAuthToken.token_hash == digest(token_string)))
    return Token(record) if record is not None else None


def _save_token(token: dict[str, Any], request: Any) -> None:
    client: Client = request.client
    now = utcnow()
    record = OAuthToken(client_pk=client.record.id, token_hash=digest(token["access_token"]),
                        scopes=token.get("scope") or "", issued_at=now,
                        expires_at=now + timedelta(seconds=int(token["expires_in"])))
    db.session.add(record)
    client.record.last_used_at = now
    db.session.flush()
    audit.record(db.session, "oauth_client.token_issued", actor_label=f"client:{client.record.client_id}",
                 target_type="oauth_client", target_id=client.record.id,
                 details={"client_id": client.record.client_id, "country": client.record.country_code,
                          "expires_at": record.expires_at.isoformat()})
    db.session.commit()


def _generate_access_token(client: Client, grant_type: str, user: Any, scope: str) -> str:
    return TOKEN_PREFIX + str(generate_token(42))


def _expires_in(client: Client, grant_type: str) -> int:
    return min(int(current_app.config.get("OAUTH2_TOKEN_SECONDS", 900)), MAX_TOKEN_SECONDS)


class PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]
    """RFC 7523 client authentication: the client signs an assertion with its private key;
    we hold only the public JWK(S) its SPOC registered."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self) -> list[str]:
        return [issuer(), url_for("oauth.token", _external=True), url_for("oauth.revoke", _external=True),
                url_for("oauth.introspect", _external=True)]

    def validate_jti(self, claims: Any, jti: Any) -> bool:
        """A signed assertion works once: its id is kept until it expires."""
        key = digest(f"{claims['sub']}\x00{jti}")
        now = utcnow()
        db.session.execute(delete(OAuthAssertionJti).where(OAuthAssertionJti.expires_at < now - timedelta(hours=1)))
        expires = claims.get("exp")
        until = now + timedelta(hours=1)
        if isinstance(expires, int):
            until = max(until, now.fromtimestamp(expires, now.tzinfo) + timedelta(minutes=5))
        try:
            with db.session.begin_nested():
                db.session.add(OAuthAssertionJti(jti_hash=key, expires_at=until))
        except IntegrityError:
            return False
        return True

    def resolve_client_public_key(self, client: Client) -> KeySet:
        jwks = client.record.jwks or {}
        return KeySet.import_key_set(jwks)  # type: ignore[arg-type]  # checked at registration


class ClientCredentials(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return query_token(token_string)

    def revoke_token(self, token: Token, request: Any) -> None:
        if token.record.revoked_at is None:
            token.record.revoked_at = utcnow()
            client_id = token.record.client.client_id
            audit.record(db.session, "oauth_client.token_revoked", actor_label=f"client:{client_id}",
                         target_type="oauth_client", target_id=token.record.client_pk,
                         details={"client_id": client_id})
        db.session.commit()


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return query_token(token_string)

    def check_permission(self, token: Token, client: Client, request: Any) -> bool:
        return bool(token.check_client(client))  # a client introspects its own tokens only

    def introspect_token(self, token: Token) -> dict[str, Any]:
        record = token.record
        return {"active": True, "client_id": record.client.client_id, "scope": record.scopes,
                "token_type": "Bearer", "exp": int(record.expires_at.timestamp()),
                "iat": int(record.issued_at.timestamp()), "sub": record.client.client_id, "iss": issuer()}


class ClientTokenValidator(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> Token | None:
        return query_token(token_string)


authorization = AuthorizationServer()
protector = ResourceProtector()


def issuer() -> str:
    return str(current_app.config.get("OAUTH2_ISSUER") or url_for("main.home", _external=True).rstrip("/"))


def init_app(app: Flask) -> None:
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(CLIENT_SCOPES))
    authorization.init_app(app, query_client=_query_client, save_token=_save_token)
    authorization.register_token_generator(
        "default", BearerTokenGenerator(_generate_access_token, None, _expires_in))
    authorization.register_grant(ClientCredentials)
    authorization.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    authorization.register_endpoint(Revocation)
    authorization.register_endpoint(Introspection)
    if not protector._token_validators:
        protector.register_token_validator(ClientTokenValidator())


def authenticate_bearer(token_string: str) -> MachineActor | None:
    """The machine client behind a live access token (Authlib checks expiry, revocation and
    the client's own state); None otherwise."""
    try:
        token: Token = protector.acquire_token()
    except OAuth2Error:
        return None
    if token is None or token.record.token_hash != digest(token_string):
        return None
    client = token.record.client
    if client.revoked_at is not None or client.expires_at <= utcnow():
        return None
    return MachineActor(id=client.created_by_id, client_pk=client.id, client_id=client.client_id,
                        country=client.country, scopes=frozenset(token.get_scope().split()))
