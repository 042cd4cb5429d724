"""Default deny, server-side sessions, and security headers for every request."""
from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue
from flask import Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from portal import access, audit
from portal.api import tokens
from portal.auth import recovery, sessions
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
    app.before_request(restore_saved_form)
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
    g.user_session = record  # the "stay signed in" dialog counts from its last touch and its start
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
    token = session.get("sid")  # read before current_user: an ended session clears it
    if current_user.is_authenticated:
        return None
    if is_api_request():
        abort(401)
    if request.method == "POST" and token and _keep_posted_form(token):
        flash("Your session had ended, so what you sent was not saved yet. Sign in again and you will return "
              "to the form with what you typed.", "info")
        return redirect(url_for("auth.login", next=request.path))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))


def _has_page(path: str) -> bool:
    """Whether `path` also answers GET: only then is there a form to come back to."""
    try:
        current_app.url_map.bind("").match(path, method="GET")
    except RequestRedirect:
        return False
    except HTTPException:
        return False
    return True


def _keep_posted_form(token: str) -> bool:
    """A form posted by someone whose session has just ended (CSRFProtect has already checked
    it came from our page in their browser): keep it under their account (portal.auth.recovery)."""
    if request.files or not _has_page(request.path):
        return False
    user = recovery.owner_of_ended_session(db.session, token)
    if user is None:
        return False
    kept = recovery.keep(db.session, user.id, request.path, list(request.form.items(multi=True)),
                         str(current_app.secret_key or ""), utcnow())
    if kept:
        audit.record(db.session, "session.form_kept", actor=user, target_type="user", target_id=user.id)
    db.session.commit()
    return kept


def restore_saved_form() -> None:
    """After signing in again, the page whose form was kept gets what was typed back (once)."""
    if request.method != "GET" or is_api_request() or request.endpoint in access.PUBLIC_ENDPOINTS:
        return
    if request.endpoint is None or request.endpoint == "static" or not current_user.is_authenticated:
        return
    user = current_user._get_current_object()
    if not isinstance(user, User):
        return
    if "saved_forms" not in session:  # looked up once per sign-in
        session["saved_forms"] = recovery.pending_paths(db.session, user.id, utcnow())
    if request.path not in session["saved_forms"]:
        return
    session["saved_forms"] = [path for path in session["saved_forms"] if path != request.path]
    fields = recovery.take(db.session, user.id, request.path, str(current_app.secret_key or ""), utcnow())
    db.session.commit()
    if fields:
        g.restored_form = MultiDict(fields)  # portal.forms.PortalForm fills itself from it
        flash("You were signed out before your changes were saved. What you typed is filled in again below: "
              "check it and save.", "info")


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
