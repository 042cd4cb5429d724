"""The OpenID Connect relying party, built per state from its settings with Authlib's Flask client.

Authlib does the protocol: discovery, the authorisation request with `state`, `nonce` and PKCE
(S256), the code exchange, and the ID token's validation (signature by the provider's JWKS,
issuer, audience, expiry, nonce). We write no JWT handling of our own; we only pin the issuer
to the one the administrator configured, not whatever the discovery document says.
"""
from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App, OAuthError
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from portal.models.identity import StateIdentityProvider
from portal.sso.settings import SsoUnavailable

SCOPE = "openid email"
HTTP_TIMEOUT = 10  # seconds for discovery, JWKS and the token request
ID_TOKEN_LEEWAY = 60  # seconds of clock difference tolerated on exp/iat


class TokenRefused(Exception):
    """The provider's answer did not validate (state, nonce, signature, issuer, audience, expiry)."""


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _client(provider: StateIdentityProvider, secret: str | None) -> FlaskOAuth2App:
    name = f"sso_{provider.country_code}"  # state data in the session is kept per state
    client = FlaskOAuth2App(
        FlaskIntegration(name), name=name, client_id=provider.client_id, client_secret=secret,
        server_metadata_url=discovery_url(provider.issuer),
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": HTTP_TIMEOUT},
    )
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise SsoUnavailable(f"discovery failed: {error}") from error
    # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer we asked.
    if metadata.get("issuer") != provider.issuer:
        raise SsoUnavailable("the discovery document names another issuer")
    return client


def authorization_redirect(provider: StateIdentityProvider, redirect_uri: str) -> Response:
    """Send the browser to the provider (state, nonce and PKCE verifier kept in the session)."""
    response: Response = _client(provider, None).authorize_redirect(redirect_uri)
    return response


def validated_claims(provider: StateIdentityProvider, secret: str) -> dict[str, Any]:
    """Exchange the code on this request and return the ID token's claims, validated by Authlib."""
    client = _client(provider, secret)
    try:
        token = client.authorize_access_token(
            # Authlib checks `aud` only through `azp`; name our client id as the audience too.
            claims_options={"iss": {"essential": True, "value": provider.issuer},
                            "aud": {"essential": True, "value": provider.client_id},
                            "sub": {"essential": True}},
            leeway=ID_TOKEN_LEEWAY)
    except (OAuthError, JoseError, requests.RequestException, ValueError, KeyError) as error:
        raise TokenRefused(f"{type(error).__name__}: {error}") from error
    claims = token.get("userinfo")
    if not claims:  # no ID token, or no nonce in our state data: nothing was validated
        raise TokenRefused("the provider sent no ID token")
    return dict(claims)
