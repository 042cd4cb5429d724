"""Smoke test in real Chromium: sign in with password and TOTP, see home, sign out."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD

# One worker drives the browser (one Chromium and one live server per worker otherwise).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_sign_in_with_password_and_totp_then_sign_out(live_server: LiveServer, browser_page: Any, live_user: Any) -> None:
    url, _app = live_server
    account = live_user("spoc", "NO", designated=True, name="Nils Nordby")
    page = browser_page

    page.goto(url + "/")
    expect(page).to_have_url(url + "/login?next=/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_label("E-mail address").fill(account.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(url + "/login/code")
    page.get_by_label("6-digit code from your authenticator app").fill(account.code())
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Nils Nordby")
    summary = page.locator("dl.summary")
    expect(summary).to_contain_text("Point of contact (designated point of contact)")
    expect(summary).to_contain_text("Norway (NO)")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["echri_session"]["httpOnly"] is True
    assert cookies["echri_session"]["sameSite"] == "Lax"

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(url + "/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")
    # The session is over: home asks to sign in again.
    page.goto(url + "/")
    expect(page).to_have_url(url + "/login?next=/")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_wrong_code_shows_the_generic_message(live_server: LiveServer, browser_page: Any, live_user: Any) -> None:
    url, _app = live_server
    account = live_user("officer", "DK")
    page = browser_page
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(account.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(url + "/login/code")
    near = {account.code(k) for k in range(-2, 3)}
    wrong = next(c for c in (f"{n:06d}" for n in range(1000)) if c not in near)
    page.get_by_label("6-digit code from your authenticator app").fill(wrong)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"That code is not right, or it has been used already\."))
    expect(page).to_have_url(url + "/login/code")
    assert page.console_errors == []  # type: ignore[attr-defined]
