"""Sharing in real Chromium: a SPOC publishes an AMBER denial to two named states; an officer
of one of them finds it by search; a reader of a third state cannot, not even by its URL."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD, Account

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Any]:
    """new_page() -> a page in a fresh browser context (its own cookies), console errors collected."""
    contexts = []

    def factory() -> Any:
        context = chromium.new_context()
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []

        def on_console(message: Any) -> None:
            if message.type == "error" and not (message.location.get("url") or "").endswith("/favicon.ico"):
                page.console_errors.append(f"{message.text} ({message.location.get('url')})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        return page

    yield factory
    for context in contexts:
        context.close()


def enter_password(page: Any, url: str, account: Account) -> None:
    """The first sign-in step, up to the second step's page."""
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(account.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(url + "/login/code")


def sign_in(page: Any, url: str, account: Account) -> None:
    enter_password(page, url, account)
    page.get_by_label("6-digit code from your authenticator app").fill(account.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/")


def search(page: Any, words: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    page.get_by_label("Search threat notices, denials and documents").fill(words)
    page.get_by_role("button", name="Search", exact=True).click()


def test_amber_denial_to_two_named_states(live_server: LiveServer, live_user: Any, new_page: Any) -> None:
    url, _app = live_server
    spoc, officer, reader = live_user("spoc", "DK"), live_user("officer", "NO"), live_user("reader", "DE")
    word = "Harbourmaster"  # a word only this denial contains

    # The Danish point of contact drafts the denial through the form ...
    page = new_page()
    sign_in(page, url, spoc)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Denials").click()
    page.get_by_role("link", name="New draft").click()
    page.get_by_label("Title", exact=True).fill(f"Denial of IMSI catchers ({word} case)")
    page.get_by_label("Summary (optional)", exact=True).fill("Licence refused for interception equipment.")
    page.get_by_label("National reference", exact=True).fill("DK-2026-0077")
    page.get_by_label("Decision", exact=True).select_option("denial")
    page.get_by_label("Activity", exact=True).select_option("export")
    page.get_by_label("Date of decision", exact=True).fill("2026-03-02")
    page.get_by_label("Basis", exact=True).select_option("listed_item")
    page.get_by_label("Regime", exact=True).fill("Wassenaar")
    page.get_by_label("Entry", exact=True).fill("5A001.j")
    page.get_by_label("Description of the items", exact=True).fill("Two IMSI catchers and operator training")
    page.get_by_label("Destination", exact=True).select_option(label="Myanmar")
    page.get_by_label("Stated end use (optional)", exact=True).fill("Police monitoring of mobile phones")
    party = page.get_by_role("group", name="Party 1")
    party.get_by_label("Role", exact=True).select_option(label="End-user")
    party.get_by_label("Name", exact=True).fill("Ministry of Home Affairs, Special Branch")
    party.get_by_label("Also known as (optional)", exact=True).fill("MoHA SB")
    party.get_by_label("Address (optional)", exact=True).fill("Nay Pyi Taw")
    party.get_by_label("Country (optional)", exact=True).select_option(label="Myanmar")
    page.get_by_label("Internal repression").check()
    page.get_by_label("Rationale", exact=True).fill("Clear risk of use for internal repression.")
    page.get_by_label("Details (optional)", exact=True).fill(f"The **{word}** consignment was stopped at the port.")
    page.get_by_label("TLP marking", exact=True).select_option("AMBER")
    named = page.get_by_label("Named states", exact=True)
    if named.count() == 1 and named.evaluate("element => element.tagName") == "SELECT":
        named.select_option(["NO", "FR"])
    else:  # a group of checkboxes, one per state
        for state in ("Norway", "France"):
            page.get_by_role("checkbox", name=state, exact=True).check()
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Denial of IMSI catchers ({word} case)")
    expect(page.get_by_role("status").first).to_contain_text("Draft saved")
    item_url = page.url
    assert re.fullmatch(re.escape(url) + r"/denials/[0-9a-f-]{36}", item_url)
    expect(page.locator(".tlp-banner").first).to_contain_text("TLP:AMBER")
    expect(page.locator("dl.summary")).to_contain_text("Denmark, France, Norway")

    # ... and publishes it, confirming the dialog the page asks.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").first).to_contain_text("Published to its audience.")
    expect(page.locator(".tag-published")).to_be_visible()
    assert page.console_errors == []

    # A Norwegian officer finds it by search and opens it.
    page = new_page()
    sign_in(page, url, officer)
    search(page, word.lower())
    expect(page.get_by_text("1 result for")).to_be_visible()
    page.get_by_role("link", name=f"Denial of IMSI catchers ({word} case)").click()
    expect(page).to_have_url(item_url)
    expect(page.locator(".tlp-banner").first).to_contain_text("TLP:AMBER")
    expect(page.locator(".prose")).to_contain_text(f"The {word} consignment was stopped at the port.")
    expect(page.locator(".prose strong")).to_have_text(word)
    assert page.console_errors == []

    # A German reader is not in the audience: search finds nothing, the URL is a 404.
    page = new_page()
    sign_in(page, url, reader)
    search(page, word.lower())
    expect(page.get_by_text(f"Nothing you can see matches “{word.lower()}”")).to_be_visible()
    expect(page.get_by_role("link", name=f"Denial of IMSI catchers ({word} case)")).to_have_count(0)
    assert page.console_errors == []
    response = page.goto(item_url)
    assert response is not None and response.status == 404
    page.console_errors.clear()  # Chromium reports the 404 document itself as a console error
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text(word)).to_have_count(0)
    page.goto(url + "/denials/")
    expect(page.get_by_role("link", name=f"Denial of IMSI catchers ({word} case)")).to_have_count(0)
    assert page.console_errors == []
