"""The sign-in lock-out under parallel requests, and the rate limits per address and per account.

The lock-out is tested against a real HTTP server in threads (requests really overlap, on
SQLite and PostgreSQL); the rate limits are tested with the in-memory store and with a real
Redis server, as production runs them.
"""
from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.serving import make_server

from portal import create_app
from portal.auth.service import CODE_LOGIN_ERROR, GENERIC_LOGIN_ERROR
from portal.extensions import db, limiter
from portal.models import AuditEntry
from portal.models.base import utcnow
from tests.conftest import CSRF_PATTERN, FLASH_ERROR_PATTERN, PASSWORD, flash_errors, load_user, sign_in
from tests.test_auth import wrong_code

PARALLEL = 50


def attempts(app: Flask, user_id: Any) -> list[dict[str, Any]]:
    """The audited sign-in failures of the account: checked ones carry a `failures` count."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(
            AuditEntry.target_id == str(user_id), AuditEntry.action.in_(("login.failure", "login.locked")),
        ).order_by(AuditEntry.id))
        found = [{"action": row.action, **row.details} for row in rows]
        db.session.remove()
    return found


def checked(app: Flask, user_id: Any, step: str) -> int:
    """How many attempts of `step` had their factor actually checked (and failed)."""
    return sum(1 for entry in attempts(app, user_id) if entry["step"] == step and "failures" in entry)


# --- a real server, real parallel requests ------------------------------------------------

@dataclass
class Browser:
    """One cookie jar against the live server, like one browser tab whose cookie is replayed."""

    base: str
    jar: http.cookiejar.CookieJar

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with opener.open(self.base + path, data=body, timeout=60) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:  # the 3xx answers land here (not followed)
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def csrf(self, path: str) -> str:
        match = CSRF_PATTERN.search(self.open(path)[2])
        assert match
        return match.group(1) or match.group(2)

    def replay(self, path: str, data: dict[str, str], times: int) -> list[tuple[int, str, str]]:
        """POST the same form with the same cookie `times` times at once."""
        start = threading.Barrier(times)

        def one(_: int) -> tuple[int, str, str]:
            start.wait()
            return self.open(path, data)

        with ThreadPoolExecutor(max_workers=times) as pool:
            return list(pool.map(one, range(times)))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


@pytest.fixture
def live_server(app: Flask, backend: str) -> Iterator[str]:
    """The app on a free loopback port, one thread per request (PostgreSQL: see below)."""
    if backend == "sqlite":
        # Parallel audit appends race for the chain's tip on SQLite (portal/audit.py locks it on
        # PostgreSQL only); the lock-out itself is plain SQL and holds on both.
        pytest.skip("parallel requests are tested on PostgreSQL")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def slow_hashing(app: Flask) -> None:
    """Password checks that take real time, as in production, so parallel requests overlap;
    and rate limits out of the way, so the lock-out alone is tested."""
    app.config.update(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=16384,
                      LOGIN_ADDRESS_RATE_LIMIT="10000 per hour", LOGIN_ACCOUNT_RATE_LIMIT="10000 per hour")


def notices(html: str) -> list[str]:
    return [m.strip() for m in FLASH_ERROR_PATTERN.findall(html)]


def test_parallel_wrong_passwords_check_at_most_five_then_lock(
    app: Flask, slow_hashing: None, make_user: Any, live_server: str,
) -> None:
    account = make_user("officer", "DK")
    browser = Browser(live_server, http.cookiejar.CookieJar())
    token = browser.csrf("/login")

    answers = browser.replay("/login", {"csrf_token": token, "email": account.email,
                                        "password": "wrong-password-guess-1"}, PARALLEL)

    assert all(status == 200 and notices(html) == [GENERIC_LOGIN_ERROR] for status, _, html in answers)
    # Exactly the allowance was checked; every other attempt was refused unchecked.
    assert checked(app, account.id, "password") == app.config["LOGIN_MAX_FAILURES"] == 5
    entries = attempts(app, account.id)
    assert [e["action"] for e in entries].count("login.locked") == 1
    assert sum(1 for e in entries if "failures" not in e) == PARALLEL - 5  # refused unchecked
    assert load_user(app, account.id).locked_until > utcnow()  # type: ignore[operator]

    # Locked: the right password is refused too, with the same page, and is not checked.
    status, location, html = browser.open("/login", {"csrf_token": token, "email": account.email, "password": PASSWORD})
    assert (status, location, notices(html)) == (200, "", [GENERIC_LOGIN_ERROR])
    assert checked(app, account.id, "password") == 5


def test_one_pending_login_replayed_in_parallel_checks_at_most_five_codes(
    app: Flask, slow_hashing: None, make_user: Any, live_server: str,
) -> None:
    account = make_user("officer", "DK")
    browser = Browser(live_server, http.cookiejar.CookieJar())
    status, location, _ = browser.open("/login", {"csrf_token": browser.csrf("/login"), "email": account.email,
                                                  "password": PASSWORD})
    assert (status, location) == (302, "/login/code")
    token = browser.csrf("/login/code")
    bad = {"csrf_token": token, "code": wrong_code(account)}

    answers = browser.replay("/login/code", bad, PARALLEL)
    assert all(status == 200 and notices(html) == [CODE_LOGIN_ERROR] for status, _, html in answers)
    first_burst = checked(app, account.id, "totp")
    assert 1 <= first_burst <= 5
    # Whatever was not checked was refused (a check was under way, or the account locked).
    assert len(attempts(app, account.id)) == PARALLEL

    # Keep replaying the same cookie until the account locks: never more than five checks.
    for _ in range(10):
        if load_user(app, account.id).locked_until is not None:
            break
        browser.replay("/login/code", bad, 5)
    assert load_user(app, account.id).locked_until > utcnow()  # type: ignore[operator]
    assert checked(app, account.id, "totp") == 5
    assert [e["action"] for e in attempts(app, account.id)].count("login.locked") == 1

    # Locked: the right code and the right password are both refused, unchecked.
    status, location, html = browser.open("/login/code", {"csrf_token": token, "code": account.code()})
    assert (status, notices(html)) == (200, [CODE_LOGIN_ERROR])
    other = Browser(live_server, http.cookiejar.CookieJar())
    status, location, html = other.open("/login", {"csrf_token": other.csrf("/login"), "email": account.email,
                                                   "password": PASSWORD})
    assert (status, location, notices(html)) == (200, "", [GENERIC_LOGIN_ERROR])
    assert checked(app, account.id, "totp") == 5 and checked(app, account.id, "password") == 0
    assert load_user(app, account.id).mfa_attempt_until is None  # every claim was given back


# --- the lock-out, one request at a time --------------------------------------------------

def test_a_right_password_after_four_wrong_ones_leaves_one_code_attempt(
    app: Flask, client: FlaskClient, make_user: Any,
) -> None:
    account = make_user("officer", "DK")
    for _ in range(4):
        assert flash_errors(sign_in(client, account.email, "wrong-password-guess-1")) == [GENERIC_LOGIN_ERROR]
    # The fifth attempt is right: it is not a failure, so it does not lock the account.
    assert sign_in(client, account.email).headers["Location"] == "/login/code"
    assert load_user(app, account.id).locked_until is None
    # One wrong code then uses the fifth slot and locks.
    response = client.post("/login/code", data={"code": wrong_code(account), "csrf_token": _csrf(client, "/login/code")})
    assert flash_errors(response) == [CODE_LOGIN_ERROR]
    assert load_user(app, account.id).locked_until is not None
    assert [e["action"] for e in attempts(app, account.id)] == ["login.failure"] * 4 + ["login.locked"]


def test_a_success_starts_the_allowance_again(app: Flask, client: FlaskClient, make_user: Any) -> None:
    account = make_user("officer", "DK")
    for _ in range(4):
        sign_in(client, account.email, "wrong-password-guess-1")
    assert sign_in(client, account.email, code=account.code()).headers["Location"] == "/"
    user = load_user(app, account.id)
    assert (user.failed_logins, user.locked_until, user.mfa_attempt_until) == (0, None, None)


def _csrf(client: FlaskClient, page: str) -> str:
    match = CSRF_PATTERN.search(client.get(page).get_data(as_text=True))
    assert match
    return match.group(1) or match.group(2)


# --- rate limits, in memory and in Redis --------------------------------------------------

@pytest.fixture(scope="session")
def redis_app(shared_app: tuple[Flask, dict[str, Any]], redis_server: Any) -> Iterator[tuple[Flask, dict[str, Any]]]:
    """The test app again, counting its limits in a real Redis server."""
    base, pristine = shared_app
    application = create_app("testing", DATABASE_URL=pristine["DATABASE_URL"], SMTP_PORT=pristine["SMTP_PORT"],
                             RATELIMIT_STORAGE_URI=redis_server.url)
    application.instance_path = base.instance_path
    yield application, dict(application.config)
    application.extensions["portal.db"].dispose()


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, app: Flask) -> Flask:
    """The app with small limits, its counters in memory or in Redis (emptied)."""
    if request.param == "memory":
        chosen = app
    else:
        chosen, pristine = request.getfixturevalue("redis_app")
        chosen.config.clear()
        chosen.config.update(pristine)
        chosen.instance_path = app.instance_path
    chosen.config.update(LOGIN_ADDRESS_RATE_LIMIT="6 per hour", LOGIN_ACCOUNT_RATE_LIMIT="3 per hour")
    with chosen.app_context():
        limiter.reset()
        if request.param == "redis":
            assert type(limiter.storage).__name__ == "RedisStorage"
    return chosen


def same_page(response: Any, email: str) -> str:
    """The page without what differs between any two answers (the CSRF token, the address typed)."""
    return re.sub(r'value="[^"]+"', 'value=""', response.get_data(as_text=True).replace(email, "X"))


def client_from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_per_account_limit_counts_failures_from_any_address(limited: Flask, make_user: Any) -> None:
    account = make_user("officer", "DK")
    other = make_user("officer", "DK")
    # Three failures from three addresses (the database lock-out, at five, is not reached).
    for n in range(3):
        assert flash_errors(sign_in(client_from(limited, f"10.0.0.{n}"), account.email, "wrong-guess-1234")) == [
            GENERIC_LOGIN_ERROR]
    # A fourth address, the right password: refused with the same page, and not checked.
    refused = sign_in(client_from(limited, "10.0.0.9"), account.email)
    assert (refused.status_code, flash_errors(refused)) == (200, [GENERIC_LOGIN_ERROR])
    wrong = sign_in(client_from(limited, "10.0.0.8"), other.email, "wrong-guess-1234")
    assert same_page(refused, account.email) == same_page(wrong, other.email)
    assert checked(limited, account.id, "password") == 3
    assert load_user(limited, account.id).locked_until is None
    # Another account from the same addresses is not affected.
    assert sign_in(client_from(limited, "10.0.0.9"), other.email).headers["Location"] == "/login/code"


def test_per_account_limit_is_shared_with_the_code_step(limited: Flask, make_user: Any) -> None:
    account = make_user("officer", "DK")
    client = client_from(limited, "10.0.1.1")
    for _ in range(2):
        sign_in(client, account.email, "wrong-guess-1234")
    assert sign_in(client, account.email).headers["Location"] == "/login/code"
    bad = {"code": wrong_code(account)}
    assert flash_errors(client.post("/login/code", data={**bad, "csrf_token": _csrf(client, "/login/code")})) == [
        CODE_LOGIN_ERROR]
    # Three failures on this account: the right code is now refused before it is checked.
    response = client.post("/login/code", data={"code": account.code(), "csrf_token": _csrf(client, "/login/code")})
    assert (response.status_code, flash_errors(response)) == (200, [CODE_LOGIN_ERROR])
    assert checked(limited, account.id, "totp") == 1
    assert load_user(limited, account.id).last_login_at is None


def test_per_address_limit_counts_failures_only(limited: Flask, make_user: Any) -> None:
    accounts = [make_user("officer", "DK") for _ in range(8)]
    ministry = "192.0.2.10"  # a whole ministry behind one NAT address
    # Many successful sign-ins from the address: none counts.
    for account in accounts:
        response = sign_in(client_from(limited, ministry), account.email, code=account.code())
        assert response.headers["Location"] == "/"
    # Six failures (spread over accounts and unknown addresses) use the address's allowance...
    for n in range(6):
        email = accounts[n % 2].email if n < 4 else f"nobody{n}@nowhere.example"
        assert flash_errors(sign_in(client_from(limited, ministry), email, "wrong-guess-1234")) == [GENERIC_LOGIN_ERROR]
    # ...then even a right password from that address gets the generic answer, unchecked.
    refused = sign_in(client_from(limited, ministry), accounts[5].email)
    assert (refused.status_code, flash_errors(refused)) == (200, [GENERIC_LOGIN_ERROR])
    assert checked(limited, accounts[5].id, "password") == 0
    # Other addresses are not affected.
    assert sign_in(client_from(limited, "198.51.100.7"), accounts[5].email).headers["Location"] == "/login/code"


def test_an_address_over_its_limit_cannot_lock_accounts(limited: Flask, make_user: Any) -> None:
    victim = make_user("spoc", "DK")
    limited.config.update(LOGIN_ADDRESS_RATE_LIMIT="2 per hour", LOGIN_ACCOUNT_RATE_LIMIT="4 per hour")
    attacker = client_from(limited, "203.0.113.66")
    for _ in range(20):
        sign_in(attacker, victim.email, "wrong-guess-1234")
    # Only the address's two failures reached the account: not locked, not over its limit.
    assert checked(limited, victim.id, "password") == 2
    assert load_user(limited, victim.id).locked_until is None
    owner = client_from(limited, "198.51.100.20")
    assert sign_in(owner, victim.email, code=victim.code()).headers["Location"] == "/"


def test_limits_are_settings(app: Flask) -> None:
    assert app.config["LOGIN_ADDRESS_RATE_LIMIT"] == "100 per hour"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    from config import load_config

    settings = load_config("default", {"LOGIN_ADDRESS_RATE_LIMIT": "500 per hour",
                                       "PORTAL_RATELIMIT_STORAGE_URI": "redis://cache:6379/0"})
    assert (settings["LOGIN_ADDRESS_RATE_LIMIT"], settings["RATELIMIT_STORAGE_URI"]) == (
        "500 per hour", "redis://cache:6379/0")

