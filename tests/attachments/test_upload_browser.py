"""Real Chromium: attach a file from the item page (script-driven, with progress), then download it."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect  # noqa: E402

from portal.extensions import db  # noqa: E402
from portal.models import ItemKind, User  # noqa: E402
from portal.sharing import service as sharing  # noqa: E402
from tests.attachments.conftest import pdf_bytes, threat_payload  # noqa: E402
from tests.browser.conftest import browser_page, chromium, live_server, live_user  # noqa: E402,F401
from tests.conftest import PASSWORD  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _sign_in(page: Any, url: str, account: Any) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(account.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("6-digit code from your authenticator app").fill(account.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/")


def _item(app: Any, account: Any) -> uuid.UUID:
    with app.app_context():
        actor = db.session.get(User, account.id)
        item = sharing.create_draft(db.session, actor, ItemKind.THREAT_NOTICE, threat_payload(countries=["NO"]))
        sharing.publish(db.session, actor, item)
        item_id = item.id
        db.session.remove()
    return item_id


def test_attach_with_progress_and_download(live_server: Any, browser_page: Any, live_user: Any) -> None:
    url, app = live_server
    spoc = live_user("spoc", "DK")
    item_id = _item(app, spoc)
    page = browser_page
    _sign_in(page, url, spoc)
    page.goto(f"{url}/threat-notices/{item_id}")
    expect(page.get_by_role("heading", name="Attachments")).to_be_visible()
    expect(page.get_by_text("No files are attached.")).to_be_visible()

    # A type the server refuses: the script shows the server's message next to the field.
    page.get_by_label("Attach a file").set_input_files(
        files=[{"name": "tool.pdf", "mimeType": "application/pdf", "buffer": b"\x7fELF" + b"\x00" * 64}])
    page.get_by_role("button", name="Upload file").click()
    error = page.locator("[data-upload-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("content")
    expect(page.get_by_label("Attach a file")).to_have_attribute("aria-invalid", "true")

    data = pdf_bytes(3 * 1024 * 1024)
    page.get_by_label("Attach a file").set_input_files(
        files=[{"name": "field report.pdf", "mimeType": "application/pdf", "buffer": data}])
    page.get_by_role("button", name="Upload file").click()
    expect(page.get_by_role("status").filter(has_text="was attached")).to_be_visible()
    expect(page).to_have_url(f"{url}/threat-notices/{item_id}")
    link = page.get_by_role("link", name="field report.pdf", exact=True)
    expect(link).to_be_visible()
    expect(page.locator(".attachments table .tlp")).to_have_text("TLP:AMBER")

    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "field report.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read() == data
    # Chromium logs the refused upload's 415 itself; nothing else (no CSP violation, no script error).
    assert [e for e in page.console_errors if "status of 415" not in e] == []  # type: ignore[attr-defined]


def test_progress_bar_is_shown_while_uploading(live_server: Any, browser_page: Any, live_user: Any,
                                               tmp_path: Any) -> None:
    url, app = live_server
    spoc = live_user("spoc", "DK")
    item_id = _item(app, spoc)
    page = browser_page
    _sign_in(page, url, spoc)
    page.goto(f"{url}/threat-notices/{item_id}")
    # Record what the progress bar shows while the file uploads (sessionStorage outlives the
    # navigation back to the item page that follows a successful upload).
    page.evaluate("""() => {
        const box = document.querySelector('[data-upload-progress]');
        const bar = box.querySelector('progress');
        new MutationObserver(() => {
            if (!box.hidden) sessionStorage.setItem('shown', '1');
            sessionStorage.setItem('value', String(bar.value));
        }).observe(box, {attributes: true, subtree: true});
    }""")
    large = tmp_path / "large.pdf"
    large.write_bytes(pdf_bytes(16 * 1024 * 1024))
    page.get_by_label("Attach a file").set_input_files(large, timeout=60_000)
    page.get_by_role("button", name="Upload file").click()
    expect(page.get_by_role("status").filter(has_text="was attached")).to_be_visible(timeout=60_000)
    assert page.evaluate("sessionStorage.getItem('shown')") == "1"
    assert float(page.evaluate("sessionStorage.getItem('value')") or 0) > 0
    assert page.console_errors == []  # type: ignore[attr-defined]
