"""Default deny over the whole URL map, security headers, cookies and error pages."""
from __future__ import annotations

import base64
import itertools
import os
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter, UUIDConverter

from portal import access, create_app
from portal.http import is_api_path
from tests.conftest import PASSWORD, csrf_token, post_form, sign_in

IGNORED_METHODS = {"HEAD", "OPTIONS"}
# OAuth2 endpoints where the machine client authenticates itself (RFC 6749 section 2.3).
OAUTH_CLIENT_AUTHENTICATED = {"oauth.token", "oauth.revoke", "oauth.introspect"}
# Sample path segments for converters the test cannot enumerate; the first that routes to the rule wins.
SAMPLE_SEGMENTS = ["DK", "x", "csv", "threat-notices", "denials", "documents"]


def _candidates(rule: Rule, argument: str) -> list[str]:
    converter = rule._converters[argument]
    if isinstance(converter, UUIDConverter):
        return [str(uuid.uuid4())]
    if isinstance(converter, IntegerConverter):
        return ["1"]
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)
    return SAMPLE_SEGMENTS


def build_path(app: Flask, rule: Rule, method: str) -> str:
    """A concrete URL that the router sends to `rule` (arguments filled with plausible values)."""
    adapter = app.url_map.bind("localhost")
    names = list(rule.arguments)
    for values in itertools.product(*(_candidates(rule, name) for name in names)):
        chosen = dict(zip(names, values))
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: chosen[m.group(1)], rule.rule)
        try:
            matched, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if matched is rule:
            return path
    raise AssertionError(f"cannot build a URL for {rule.rule} ({rule.endpoint}); add a sample value to this test")


def walk(app: Flask) -> list[tuple[Rule, str, str]]:
    """(rule, method, path) for every rule: GET where allowed, else its first other method."""
    result = []
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - IGNORED_METHODS)  # type: ignore[operator]
        method = "GET" if "GET" in methods else methods[0]
        result.append((rule, method, build_path(app, rule, method)))
    return result


def request(client: FlaskClient, method: str, path: str, token: str) -> Any:
    if method == "GET":
        return client.get(path)
    # A valid CSRF token, so that what answers is the login guard and not the CSRF check.
    return client.open(path, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})


def guard_redirect(method: str, path: str) -> str:
    return f"/login?next={path}" if method == "GET" else "/login"


@pytest.mark.parametrize("visitor", ["anonymous", "password_only"])
def test_every_endpoint_is_protected_unless_allow_listed(app: Flask, make_user: Any, visitor: str) -> None:
    """Anonymous visitors, and those who gave the password but not the code, reach only the allow-list."""
    client = app.test_client()
    if visitor == "password_only":
        account = make_user("spoc", "DK")
        assert sign_in(client, account.email, PASSWORD).headers["Location"] == "/login/code"
    token = csrf_token(client, "/login/code" if visitor == "password_only" else "/login")

    problems = []
    walked = walk(app)
    for rule, method, path in walked:
        response = request(client, method, path, token)
        location = response.headers.get("Location", "")
        if rule.endpoint in OAUTH_CLIENT_AUTHENTICATED:
            # Public to the guard, but the client authenticates itself: OAuth2's own refusal
            # (invalid_client, or unsupported_grant_type when no grant is named), never data.
            body = response.get_json(silent=True) or {}
            if response.status_code not in (400, 401) or body.get("error") not in ("invalid_client", "unsupported_grant_type"):
                problems.append(f"{rule.endpoint} {method} {path} answered {response.status_code}, not an OAuth2 refusal")
        elif rule.endpoint in access.PUBLIC_ENDPOINTS:
            if response.status_code == 401 or location == guard_redirect(method, path):
                problems.append(f"public {rule.endpoint} {method} {path} was refused ({response.status_code} {location})")
        elif is_api_path(path):  # API calls (bearer tokens); /api/docs is a page for people
            if response.status_code != 401:
                problems.append(f"{rule.endpoint} {method} {path} answered {response.status_code}, not 401")
            elif response.get_json()["error"]["code"] != "unauthorized":
                problems.append(f"{rule.endpoint} {method} {path} gave the wrong JSON error")
        elif path.startswith("/taxii2/"):  # bearer only, refusals as TAXII error messages
            if response.status_code != 401:
                problems.append(f"{rule.endpoint} {method} {path} answered {response.status_code}, not 401")
            elif response.get_json()["http_status"] != "401":
                problems.append(f"{rule.endpoint} {method} {path} gave the wrong TAXII error")
        elif (response.status_code, location) != (302, guard_redirect(method, path)):
            problems.append(f"{rule.endpoint} {method} {path} answered {response.status_code} {location!r}")
    assert problems == []
    # The walk saw every endpoint, and the allow-list names only endpoints that exist.
    assert {rule.endpoint for rule, _, _ in walked} == set(app.view_functions)
    assert access.PUBLIC_ENDPOINTS <= set(app.view_functions)


def test_signed_in_users_pass_the_guard_on_every_page(app: Flask, make_user: Any, login_as: Any) -> None:
    """The control for the walk above: a full session is not sent to sign in, and nothing crashes."""
    client = login_as(app.test_client(), make_user("officer", "DK"))
    problems = []
    for rule, method, path in walk(app):
        if method != "GET" or rule.endpoint == "static":
            continue
        response = client.get(path)
        location = response.headers.get("Location", "")
        if is_api_path(path) and rule.endpoint not in access.PUBLIC_ENDPOINTS:
            if response.status_code != 401:  # the API takes bearer tokens only, never the cookie
                problems.append(f"{path} answered {response.status_code} to a cookie")
        elif response.status_code >= 500 or location.startswith("/login?next="):
            problems.append(f"{rule.endpoint} {path} answered {response.status_code} {location!r}")
    assert problems == []


def test_allow_list_holds_sign_in_pages_and_never_account_or_admin_pages() -> None:
    assert {
        "static", "main.health", "auth.login", "auth.login_mfa", "auth.login_enrol",
        "auth.forgot_password", "auth.reset_password", "auth.accept_invitation",
    } <= access.PUBLIC_ENDPOINTS
    assert "auth.logout" not in access.PUBLIC_ENDPOINTS
    assert not {e for e in access.PUBLIC_ENDPOINTS if e.split(".")[0] in {"users", "admin", "account", "countries", "api"}}


def test_public_side_is_exactly_the_public_blueprint(app: Flask) -> None:
    """Every route under /public/ is allow-listed and every allow-listed public.* route is under
    /public/; publishing publicly and the contact inbox stay behind sign-in."""
    under_public = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/public/")}
    assert under_public == {e for e in access.PUBLIC_ENDPOINTS if e.startswith("public.")}
    assert under_public == {e for e in app.view_functions if e.startswith("public.")}
    assert not {e for e in access.PUBLIC_ENDPOINTS if e.split(".")[0] in {"public_publishing", "contact_inbox"}}


def test_health_reveals_nothing(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


# --- headers and cookies ----------------------------------------------------------------

def csp_directives(response: Any) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("path", ["/login", "/", "/account/", "/countries/", "/no/such/page"])
def test_security_headers(app: Flask, make_user: Any, login_as: Any, path: str) -> None:
    client = app.test_client() if path == "/login" else login_as(app.test_client(), make_user("spoc", "DK"))
    response = client.get(path)
    assert response.status_code in (200, 404)
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in testing


@pytest.mark.parametrize("path", ["/login", "/", "/account/", "/users/", "/countries/", "/countries/DK", "/users/invite"])
def test_pages_have_no_inline_script_or_handlers(app: Flask, make_user: Any, login_as: Any, path: str) -> None:
    """The CSP forbids inline script; a page relying on it would break in browsers."""
    client = app.test_client() if path == "/login" else login_as(app.test_client(), make_user("spoc", "DK"))
    html = client.get(path).get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"\son[a-z]+\s*=", html) == []
    assert "javascript:" not in html


def test_static_files_are_cacheable_and_typed(client: FlaskClient) -> None:
    response = client.get("/static/portal.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.mimetype in ("text/javascript", "application/javascript")


def set_cookie_header(response: Any, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def test_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient, make_user: Any) -> None:
    account = make_user("officer", "DK")
    response = sign_in(client, account.email, code=account.code())
    assert response.headers["Location"] == "/"
    attributes = [part.strip() for part in set_cookie_header(response, "echri_session").split(";")[1:]]
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Path=/" in attributes
    assert not any(a.lower().startswith(("expires=", "max-age=")) for a in attributes)  # a browser-session cookie


def test_production_sends_hsts_and_secure_host_only_cookies(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                                           redis_server: Any) -> None:
    for key in ("PORTAL_MASTER_KEY_FILE", "PORTAL_CONFIG", "PORTAL_SECRET_KEY", "PORTAL_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", redis_server.url)
    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    monkeypatch.setenv("WEBAUTHN_RP_ID", "portal.example")
    monkeypatch.setenv("WEBAUTHN_ORIGIN", "https://portal.example")
    monkeypatch.setenv("BASE_URL", "https://portal.example")
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("PORTAL_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    production = create_app("production")
    try:
        response = production.test_client().get("/login", base_url="https://portal.example")
        assert response.status_code == 200
        assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
        cookie = set_cookie_header(response, "__Host-echri_session")
        attributes = [part.strip() for part in cookie.split(";")[1:]]
        assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} <= set(attributes)
        assert not any(a.startswith("Domain=") for a in attributes)  # __Host- cookies are host-only
    finally:
        production.extensions["portal.db"].dispose()


# --- error pages --------------------------------------------------------------------------

def test_404_renders_the_html_error_page(app: Flask, client: FlaskClient, make_user: Any, login_as: Any) -> None:
    anonymous = client.get("/no/such/page")
    assert anonymous.status_code == 404
    assert anonymous.mimetype == "text/html"
    html = anonymous.get_data(as_text=True)
    assert "<h1>Page not found</h1>" in html and "Error 404" in html

    signed_in = login_as(app.test_client(), make_user("officer", "DK"))
    page = signed_in.get(f"/users/{uuid.uuid4()}")
    assert page.status_code == 404
    assert "<h1>Page not found</h1>" in page.get_data(as_text=True)


def test_405_renders_the_html_error_page(client: FlaskClient) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert "<h1>That action is not available here</h1>" in response.get_data(as_text=True)


def test_csrf_failure_renders_a_helpful_page(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "a@b.example", "password": "x" * 12})
    assert response.status_code == 400
    assert "The page had been open too long or was not sent by this site" in response.get_data(as_text=True)


def test_api_errors_are_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/denials")
    assert response.status_code == 401
    assert response.get_json() == {"error": {"code": "unauthorized", "message": "Sign in to continue"}}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="echri-portal"'


def test_login_form_posts_with_a_token_only_to_itself(client: FlaskClient) -> None:
    # post_form is what a browser does; a token from one session does not work in another.
    other = client.application.test_client()
    stolen = csrf_token(other, "/login")
    response = client.post("/login", data={"email": "a@b.example", "password": "x" * 12, "csrf_token": stolen})
    assert response.status_code == 400
    assert post_form(client, "/login", {"email": "a@b.example", "password": "x" * 12}, page="/login").status_code == 200
