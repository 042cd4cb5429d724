"""In real Chromium: the secretariat announces a plenary, a SPOC registers two delegates,
the secretariat exports the list of participants as CSV."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _sign_in(page: Any, url: str, account: Any) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(account.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("6-digit code from your authenticator app").fill(account.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def _register(page: Any, name: str, position: str, email: str, attendance: str, head: bool) -> None:
    page.get_by_role("link", name="Register a delegate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a delegate")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Position").fill(position)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label(attendance, exact=True).check()
    if head:
        page.get_by_label("Head of delegation").check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status").first).to_contain_text(f"{name} is registered.")


def test_announce_register_export(live_server: LiveServer, browser_page: Any, live_user: Any, chromium: Any) -> None:
    url, _app = live_server
    secretariat = live_user("secretariat", None, name="Sara Secretariat")
    spoc = live_user("spoc", "DK", name="Dorte Dansk")
    page = browser_page
    page.on("dialog", lambda dialog: dialog.accept())  # "Announce the meeting…?" confirmations

    # The secretariat plans and announces a plenary.
    _sign_in(page, url, secretariat)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meetings")
    page.get_by_role("link", name="New meeting").click()
    start = date.today() + timedelta(days=40)
    page.get_by_label("Kind of meeting").select_option("plenary")
    page.get_by_label("Title").fill("Fifth plenary of the Initiative")
    page.get_by_label("Time zone").select_option("Europe/Copenhagen")
    page.get_by_label("Starts").fill(f"{start.isoformat()}T09:30")
    page.get_by_label("Ends").fill(f"{(start + timedelta(days=1)).isoformat()}T17:00")
    page.get_by_label("Registration deadline").fill(f"{(start - timedelta(days=10)).isoformat()}T17:00")
    page.get_by_label("Venue").fill("Eigtveds Pakhus, Copenhagen")
    page.get_by_label("Online meeting link").fill("https://meet.example.org/fifth-plenary")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fifth plenary of the Initiative")
    expect(page.locator("dl.summary")).to_contain_text("09:30")
    expect(page.locator("dl.summary")).to_contain_text("(Europe/Copenhagen)")
    page.get_by_role("button", name="Announce").click()
    expect(page.get_by_role("status").first).to_contain_text("Announced.")
    meeting_url = page.url.split("#")[0]

    # A point of contact registers two delegates.
    spoc_context = chromium.new_context()
    spoc_context.set_default_timeout(10_000)
    spoc_page = spoc_context.new_page()
    try:
        _sign_in(spoc_page, url, spoc)
        spoc_page.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
        spoc_page.get_by_role("link", name="Fifth plenary of the Initiative").click()
        expect(spoc_page.get_by_role("heading", name="Your delegation")).to_be_visible()
        _register(spoc_page, "Anne Holm", "Head of export control", "anne.holm@um.example", "In person", head=True)
        _register(spoc_page, "Bo Berg", "Licensing officer", "bo.berg@um.example", "Remote", head=False)
        delegation = spoc_page.locator("section[aria-labelledby=registration]")
        expect(delegation).to_contain_text("Anne Holm")
        expect(delegation).to_contain_text("head of delegation")
        expect(delegation).to_contain_text("Bo Berg")
    finally:
        spoc_context.close()

    # The secretariat sees both and exports the list.
    page.goto(meeting_url)
    participants = page.locator("section[aria-labelledby=participants]")
    expect(participants).to_contain_text("Anne Holm")
    expect(participants).to_contain_text("Bo Berg")
    with page.expect_download() as info:
        page.get_by_role("link", name="Export registrations (CSV)").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert {r["Name"] for r in rows} == {"Anne Holm", "Bo Berg"}
    assert {r["Name"]: r["Head of delegation"] for r in rows} == {"Anne Holm": "yes", "Bo Berg": "no"}
    assert all(r["State"] == "Denmark" for r in rows)
    assert page.console_errors == []  # type: ignore[attr-defined]
