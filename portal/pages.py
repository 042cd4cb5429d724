"""Error pages, JSON errors for the API, and what every template can use."""
from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from flask import Flask, g, has_request_context, jsonify, make_response, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from portal.kinds import KINDS
from portal import access, formats
from portal.auth import sessions
from portal.errors import PortalError
from portal.extensions import db
from portal.http import is_api_path
from portal.models.base import utcnow

ERROR_TEXT = {
    400: ("The request could not be understood", "Something in the request was not valid. Go back and try again."),
    401: ("Sign in to continue", "You need to sign in to see this page."),
    403: ("You cannot do this",
          "Your account does not allow this action. If you think it should, contact your point of contact."),
    404: ("Page not found",
          "If you typed the address, check it is correct. If you followed a link, the item may have been removed "
          "or is not shared with your state."),
    405: ("That action is not available here", "Use the buttons on the page instead of typing the address."),
    409: ("This can no longer change", "It has been closed, adopted or held since you opened the page."),
    413: ("The file is too large", "Choose a smaller file and try again."),
    415: ("This type of file is not accepted", "Choose a file of one of the listed types."),
    422: ("Some of what you sent needs attention", "Go back, correct it and try again."),
    429: ("Too many requests", "Wait a moment and try again."),
    500: ("Sorry, there is a problem with the service",
          "Try again later. Nothing you entered was saved if you saw this page after submitting a form."),
}


# Stable codes for HTTP-level refusals in the JSON envelope (domain errors carry their own).
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "locked", 413: "too_large", 415: "unsupported_type",
              422: "validation_failed", 429: "rate_limited", 500: "server_error"}


def wants_json() -> bool:
    """API calls, and pages' scripts that ask for JSON (the upload progress bar), get the envelope."""
    return is_api_path(request.path) or request.accept_mimetypes.best == "application/json"


def _way_back() -> str | None:
    """The page the refused request came from, when it is one of ours (never another site)."""
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else None


def error_response(status: int, message: str | None = None, code: str | None = None,
                   fields: dict[str, str] | None = None, error: PortalError | None = None) -> Any:
    """The one shape of every refusal: the JSON envelope, or the error page (with a way back)."""
    title, text = ERROR_TEXT.get(status, ERROR_TEXT[500])
    if wants_json():
        body: dict[str, Any] = {"code": code or HTTP_CODES.get(status, "error"), "message": message or title}
        if fields:
            body["fields"] = fields
        headers = {"WWW-Authenticate": 'Bearer realm="echri-portal"'} if status == 401 else {}
        return jsonify(error=body), status, headers
    template = (error.template if error is not None else None) or "errors/error.html"
    return render_template(template, status=status, title=title, text=message or text, fields=fields or {},
                           back=_way_back(), error=error), status


def _same_site_path(url: str | None) -> str | None:
    """The path of one of our own pages (for `next` after signing in), else None."""
    if url and url.startswith(request.host_url):
        return "/" + url[len(request.host_url):]
    return None


def refuse_nul_in_path() -> Any:
    """A NUL in the path is 400: no link of ours has one, and PostgreSQL cannot compare text with
    it, so an id or code carrying one would fail in the query (query strings: portal.http)."""
    if "\x00" in request.path:
        return error_response(400, "The address contains a character that is not allowed (NUL).", "invalid_address")
    return None


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_in_path)
    app.add_template_filter(formats.format_date, "date")
    app.add_template_filter(formats.format_datetime, "datetime")
    app.add_template_filter(formats.format_country, "country")

    @app.errorhandler(PortalError)
    def portal_error(error: PortalError) -> Any:
        db.session.rollback()  # one operation, one commit: a refused one leaves nothing behind
        if error.status >= 500:
            app.logger.error("refused with %s", error.code)
        return error_response(error.status, error.message, error.code, error.fields, error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        if error.code in (301, 302, 303, 307, 308):
            return error
        response = make_response(error_response(error.code or 500))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110: a 405 names what is allowed
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        if not wants_json() and not current_user.is_authenticated and request.endpoint not in access.PUBLIC_ENDPOINTS:
            # A form of a signed-in page, sent without a session: signing out (in this tab or
            # another) ended the form's token with the session.
            return render_template("errors/signed_out.html", status=400,
                                   login=url_for("auth.login", next=_same_site_path(request.referrer))), 400
        return error_response(400, "The page had been open too long or was not sent by this site, so nothing was "
                                   "saved. Go back, reload the page and try again.", "csrf_failed")

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> Any:
        db.session.rollback()  # whatever was half-done is not saved
        app.logger.exception("unhandled error")
        return error_response(500)

    @app.context_processor
    def navigation() -> dict[str, Any]:
        return {"nav_items": _nav_items(), "access": access, "session_timing": _session_timing(app)}


def _session_timing(app: Flask) -> dict[str, Any] | None:
    """For the "stay signed in" dialog (static/session.js): seconds left, the warning before the
    end, and whether the end is the absolute limit (`final`: a warning without "stay signed in")."""
    if not has_request_context() or not current_user.is_authenticated or request.path.startswith("/api/"):
        return None
    warning = int(app.config.get("SESSION_WARNING_SECONDS") or 0)
    record = g.get("user_session")
    if warning <= 0 or record is None:
        return None
    # The server touches a session at most once a minute (auth.sessions.TOUCH_INTERVAL), so the
    # time left runs from its last touch, not from this page.
    left, final = sessions.time_left(record, utcnow(), app.config["SESSION_IDLE_TIMEOUT"],
                                     app.config["SESSION_ABSOLUTE_TIMEOUT"])
    # Rounded up: the page must not say "signed out" while the server would still take a request.
    return {"timeout": max(0, math.ceil(left.total_seconds())), "warning": warning, "final": final,
            "limit": _duration(app.config["SESSION_ABSOLUTE_TIMEOUT"])}


def _duration(delta: timedelta) -> str:
    """"12 hours", "1 hour", "45 minutes": a configured time limit, as a person says it."""
    seconds = int(delta.total_seconds())
    if seconds >= 3600 and seconds % 3600 == 0:
        count, unit = seconds // 3600, "hour"
    else:
        count, unit = max(1, round(seconds / 60)), "minute"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _nav_items() -> list[tuple[str, str]]:
    """(url, label) for the main navigation, by role."""
    if not has_request_context() or not current_user.is_authenticated:
        return []
    items = [(url_for("main.home"), "Home")]
    if not access.is_admin(current_user):  # administrators never read shared content
        items += [(url_for("sharing.index", kind=spec.kind), spec.plural) for spec in KINDS.values()]
        items += [(url_for("sharing.search"), "Search"),
                  (url_for("meetings.index"), "Meetings")]
    if access.can_screen(current_user):
        items.append((url_for("screening.screen"), "Screen parties"))
    if access.takes_part_in_consultations(current_user):
        items.append((url_for("consultations.index"), "Consultations"))
    if access.can_view_overview(current_user):
        items.append((url_for("overview.index"), "Overview"))
    items.append((url_for("countries.directory"), "Countries"))
    if access.can_view_contact_inbox(current_user):
        items.append((url_for("contact_inbox.index"), "Contact inbox"))
    if access.can_run_public_consultations(current_user):
        items.append((url_for("public_consultations.index"), "Calls for input"))
    if access.can_manage_users(current_user):
        items.append((url_for("users.index"), "Users"))
    if access.can_view_audit_log(current_user):
        items.append((url_for("admin.audit_log"), "Audit log"))
    if access.can_manage_identity_providers(current_user):
        items.append((url_for("sso.admin_index"), "Single sign-on"))
    if access.is_admin(current_user):  # the keys page (versions, fingerprints, rotation dates) is theirs to check
        items.append((url_for("keys.index"), "Keys"))
    items.append((url_for("account.profile"), "Your account"))
    return items
