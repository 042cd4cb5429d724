"""Real headless Chromium (Playwright) against the app served over HTTP on loopback.

`live_server` runs the app with werkzeug's server in a background thread on a free port,
on its own migrated SQLite database (browser tests run once, not per database backend).
`browser_page` is a fresh browser context and page per test; `live_user` creates accounts.
Mark browser modules with `pytest.mark.browser` and `pytest.mark.xdist_group("browser")` so
one xdist worker starts Chromium and the server once for all of them.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple

import pyotp
import pytest
from flask import Flask
from werkzeug.serving import make_server

from portal import create_app
from portal.countries import service as countries
from portal.extensions import db
from portal.models import Role, User, UserStatus
from portal.models.base import utcnow
from tests.conftest import PASSWORD, Account, migrate
from tests.smtp import SmtpServer

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class LiveServer(NamedTuple):
    """The base URL (http://127.0.0.1:PORT) and the app behind it; unpacks as (url, app)."""

    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, smtp_server: SmtpServer) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{folder / 'portal.db'}"
    migrate(database_url)
    app = create_app("testing", DATABASE_URL=database_url, SMTP_PORT=smtp_server.port)
    app.instance_path = str(folder / "instance")
    os.makedirs(app.instance_path, exist_ok=True)
    with app.app_context():
        countries.seed_register(db.session)
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)  # port 0: the OS picks a free one
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app.config["BASE_URL"], app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["portal.db"].dispose()


@pytest.fixture
def live_user(live_server: LiveServer) -> Any:
    """Create an active, enrolled account in the live server's database."""
    app = live_server.app

    def factory(role: str | Role = Role.OFFICER, country: str | None = "DK", *, designated: bool = False,
                name: str | None = None) -> Account:
        from portal.auth.service import passwords

        role = Role(role)
        country = country if role.belongs_to_state else None
        email = f"{role.value}.{(country or 'org').lower()}.{os.urandom(4).hex()}@echri.example"
        secret = pyotp.random_base32()
        with app.app_context():
            user = User(email=email, name=name or "Browser " + role.value.title(), role=role, country_code=country,
                        is_designated_poc=designated, status=UserStatus.ACTIVE,
                        password_hash=passwords().hash(PASSWORD), password_changed_at=utcnow(),
                        totp_secret=secret, totp_enrolled_at=utcnow())
            db.session.add(user)
            db.session.commit()
            account = Account(user.id, email, role, country, secret)
            db.session.remove()
        return account

    return factory


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh page in its own browser context (no cookies shared between tests).

    Console errors (CSP violations among them) are collected in `page.console_errors`.
    """
    context = chromium.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]

    def on_console(message: Any) -> None:
        # Browsers ask for /favicon.ico on their own; the portal has none, which is no page error.
        if message.type == "error" and not (message.location.get("url") or "").split("?")[0].rstrip("/").endswith("/favicon.ico"):
            page.console_errors.append(f"{message.text} ({message.location.get('url')})")  # type: ignore[attr-defined]

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()
