"""Default deny, server-side sessions, and security headers for every request."""
from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue
from flask import Flask, Response, abort, current_app, redirect, request, session, url_for
from flask_login import current_user

from portal import access, audit
from portal.api import tokens
from portal.auth import sessions
from portal.errors import InsufficientScope
from portal.oauth import server as oauth
from portal.extensions import db, login_manager
from portal.http import is_api_path
from portal.models.base import utcnow
from portal.models.user import User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # our server-side session table does this job
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_api_user)
    app.before_request(remember_ip)
    app.before_request(require_login)
    app.before_request(require_client_scope)
    app.after_request(audit_client_call)
    app.after_request(security_headers)


# Bearer tokens only (never the session cookie): the JSON API (portal.http.is_api_path) and the TAXII server.
TAXII_PATH = "/taxii2/"


def is_api_request() -> bool:
    return is_api_path(request.path) or request.path.startswith(TAXII_PATH)


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: only a live server-side session yields a user."""
    if is_api_request():
        return None  # the API takes bearer tokens only, so cookies cannot ride along (no CSRF)
    token = session.get("sid")
    if not token:
        return None
    config = current_app.config
    record = sessions.resolve(db.session, token, utcnow(),
                              config["SESSION_IDLE_TIMEOUT"], config["SESSION_ABSOLUTE_TIMEOUT"])
    if record is None or str(record.user_id) != user_id:
        session.clear()
        return None
    return record.user


def load_api_user(req: Any) -> User | access.MachineActor | None:
    """`Authorization: Bearer <token>` on /api/ and /taxii2/ requests, the one bearer path for both kinds:
    a personal token acts as its owner, with their rights; a machine client's access token
    (OAuth2, its own prefix) as an officer of the client's state within its scopes. Each kind
    is looked up only in its own table, so neither is ever accepted as the other."""
    if not is_api_request():
        return None
    scheme, _, token = (req.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token = token.strip()
    if token.startswith(oauth.TOKEN_PREFIX):
        return oauth.authenticate_bearer(token)
    return tokens.authenticate(db.session, token)


def remember_ip() -> None:
    audit.current_ip.set(request.remote_addr)


def require_login() -> ResponseReturnValue | None:
    """Refuse every endpoint that is not explicitly public to anyone not signed in."""
    if request.endpoint in access.PUBLIC_ENDPOINTS:
        return None
    if request.endpoint is None:
        return None  # unknown URL: let Flask answer 404 (the error page needs no user)
    if current_user.is_authenticated:
        return None
    if is_api_request():
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))


def require_client_scope() -> None:
    """A machine client calls only the routes its scopes cover (access.required_scope)."""
    if not is_api_request() or not access.is_machine(current_user._get_current_object()):
        return
    if not access.machine_may_call(current_user._get_current_object(), request.endpoint, request.method,
                                   request.view_args):
        raise InsufficientScope()


def audit_client_call(response: Response) -> Response:
    """Every call by a machine client is in the audit log, naming the client and the route."""
    if not is_api_request() or request.endpoint is None:
        return response
    actor = current_user._get_current_object()
    if not isinstance(actor, access.MachineActor):
        return response
    db.session.rollback()  # whatever the route left open is not ours to commit
    audit.record(db.session, "oauth_client.call", actor=actor, target_type="oauth_client", target_id=actor.client_pk,
                 details={"endpoint": request.endpoint, "method": request.method, "http_status": response.status_code})
    db.session.commit()
    return response


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    if current_app.config["HSTS"]:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return response
