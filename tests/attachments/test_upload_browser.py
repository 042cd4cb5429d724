"""Real Chromium: attach a file from the item page (script-driven, with progress), then download it.

The browser runs on a helper thread with its own Playwright instance, so this module never
competes with the session-wide Playwright of tests/browser when both run in one process.
"""
from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from werkzeug.serving import make_server

from portal import create_app
from portal.countries import service as countries
from portal.extensions import db
from portal.models import ItemKind, Role, User, UserStatus
from portal.models.base import utcnow
from portal.sharing import service as sharing
from tests.attachments.conftest import pdf_bytes, threat_payload
from tests.conftest import PASSWORD, Account, migrate

pytest.importorskip("playwright")

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, attachment_store: str,
           request: pytest.FixtureRequest) -> Iterator[tuple[str, Flask]]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    folder = tmp_path_factory.mktemp("attachments-live")
    url = f"sqlite:///{folder / 'portal.db'}"
    migrate(url)
    store: dict[str, Any] = {}
    if attachment_store == "s3":
        s3 = request.getfixturevalue("s3_server")
        store = s3.settings(s3.new_bucket())
    app = create_app("testing", DATABASE_URL=url, **store)
    app.instance_path = str(folder / "instance")
    os.makedirs(app.instance_path, exist_ok=True)
    with app.app_context():
        countries.seed_register(db.session)
        db.session.remove()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", app
    finally:
        http.shutdown()
        thread.join(timeout=10)
        http.server_close()
        app.extensions["portal.db"].dispose()


def _spoc_with_item(app: Flask) -> tuple[Account, uuid.UUID]:
    from portal.auth.service import passwords

    secret = pyotp.random_base32()
    with app.app_context():
        user = User(email=f"spoc.{uuid.uuid4().hex[:8]}@echri.example", name="Dana Dane", role=Role.SPOC,
                    country_code="DK", status=UserStatus.ACTIVE, password_hash=passwords().hash(PASSWORD),
                    password_changed_at=utcnow(), totp_secret=secret, totp_enrolled_at=utcnow())
        db.session.add(user)
        db.session.commit()
        item = sharing.create_draft(db.session, user, ItemKind.THREAT_NOTICE, threat_payload(countries=["NO"]))
        sharing.publish(db.session, user, item)
        account, item_id = Account(user.id, user.email, Role.SPOC, "DK", secret), item.id
        db.session.remove()
    return account, item_id


def in_browser(steps: Callable[[Any], None]) -> list[str]:
    """Run `steps(page)` in a fresh Chromium on a helper thread; re-raise its failure; return console errors."""
    outcome: dict[str, Any] = {"errors": []}

    def run() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    context = browser.new_context(accept_downloads=True)
                    context.set_default_timeout(20_000)
                    page = context.new_page()
                    page.on("console", lambda m: outcome["errors"].append(f"{m.text} ({m.location.get('url')})")
                            if m.type == "error" else None)
                    page.on("pageerror", lambda e: outcome["errors"].append(str(e)))
                    steps(page)
                finally:
                    browser.close()
        except BaseException as error:  # noqa: BLE001  (handed to the test thread)
            outcome["failure"] = error

    thread = threading.Thread(target=run, name="attachments-browser")
    thread.start()
    thread.join(timeout=300)
    if "failure" in outcome:
        raise outcome["failure"]
    return [e for e in outcome["errors"] if "favicon" not in e]


def _sign_in(page: Any, url: str, account: Account) -> None:
    from playwright.sync_api import expect

    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(account.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("6-digit code from your authenticator app").fill(account.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/")


def test_attach_refused_then_accepted_then_download(server: tuple[str, Flask]) -> None:
    url, app = server
    account, item_id = _spoc_with_item(app)
    data = pdf_bytes(3 * 1024 * 1024)
    downloaded: dict[str, Any] = {}

    def steps(page: Any) -> None:
        from playwright.sync_api import expect

        _sign_in(page, url, account)
        page.goto(f"{url}/threat-notices/{item_id}")
        expect(page.get_by_role("heading", name="Attachments")).to_be_visible()
        expect(page.get_by_text("No files are attached.")).to_be_visible()
        field = page.get_by_label("Attach a file")

        # A type the server refuses: the script shows its message next to the field.
        field.set_input_files(files=[{"name": "tool.pdf", "mimeType": "application/pdf",
                                      "buffer": b"\x7fELF" + b"\x00" * 64}])
        page.get_by_role("button", name="Upload file").click()
        error = page.locator("[data-upload-error]")
        expect(error).to_be_visible()
        expect(error).to_contain_text("content")
        expect(field).to_have_attribute("aria-invalid", "true")

        field.set_input_files(files=[{"name": "field report.pdf", "mimeType": "application/pdf", "buffer": data}])
        page.get_by_role("button", name="Upload file").click()
        expect(page.get_by_role("status").filter(has_text="was attached")).to_be_visible()
        expect(page).to_have_url(f"{url}/threat-notices/{item_id}")
        link = page.get_by_role("link", name="field report.pdf", exact=True)
        expect(link).to_be_visible()
        expect(page.locator(".attachments table .tlp")).to_have_text("TLP:AMBER")
        with page.expect_download() as info:
            link.click()
        downloaded["name"] = info.value.suggested_filename
        downloaded["data"] = Path(info.value.path()).read_bytes()

    errors = in_browser(steps)
    assert downloaded == {"name": "field report.pdf", "data": data}
    # Chromium logs the refused upload's 415 itself; nothing else (no CSP violation, no script error).
    assert [e for e in errors if "status of 415" not in e] == []


def test_progress_bar_is_shown_while_uploading(server: tuple[str, Flask], tmp_path: Path) -> None:
    url, app = server
    account, item_id = _spoc_with_item(app)
    large = tmp_path / "large.pdf"
    large.write_bytes(pdf_bytes(16 * 1024 * 1024))
    seen: dict[str, Any] = {}

    def steps(page: Any) -> None:
        from playwright.sync_api import expect

        _sign_in(page, url, account)
        page.goto(f"{url}/threat-notices/{item_id}")
        # Record what the progress bar shows (sessionStorage outlives the navigation that follows).
        page.evaluate("""() => {
            const box = document.querySelector('[data-upload-progress]');
            const bar = box.querySelector('progress');
            new MutationObserver(() => {
                if (!box.hidden) sessionStorage.setItem('shown', '1');
                sessionStorage.setItem('value', String(bar.value));
            }).observe(box, {attributes: true, subtree: true});
        }""")
        page.get_by_label("Attach a file").set_input_files(large, timeout=60_000)
        page.get_by_role("button", name="Upload file").click()
        expect(page.get_by_role("status").filter(has_text="was attached")).to_be_visible(timeout=60_000)
        seen["shown"] = page.evaluate("sessionStorage.getItem('shown')")
        seen["value"] = float(page.evaluate("sessionStorage.getItem('value')") or 0)

    assert in_browser(steps) == []
    assert seen["shown"] == "1" and seen["value"] > 0
