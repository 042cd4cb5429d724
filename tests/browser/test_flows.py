"""Flows that respect people's work, in real Chromium: drafts save part-filled, parties are
repeatable fieldsets (with and without JavaScript), a session that ends keeps the form, the
"stay signed in" dialog, a form sent after signing out elsewhere, and the TLP marking on every
printed page."""
from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.browser.test_sharing_flow import sign_in
from tests.sharing import helpers

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def context_page(chromium: Any) -> Iterator[Any]:
    """context_page(javascript=True) -> a page in its own context, console errors collected."""
    contexts = []

    def factory(javascript: bool = True) -> Any:
        context = chromium.new_context(java_script_enabled=javascript)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda m: page.console_errors.append(m.text)
                if m.type == "error" and "favicon" not in (m.location.get("url") or "") else None)
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        return page

    yield factory
    for context in contexts:
        context.close()


@contextmanager
def session_settings(live_server: LiveServer, idle_seconds: int, warning_seconds: int,
                     absolute_seconds: int = 12 * 3600) -> Iterator[None]:
    config = live_server.app.config
    names = ("SESSION_IDLE_TIMEOUT", "SESSION_WARNING_SECONDS", "SESSION_ABSOLUTE_TIMEOUT")
    before = [config[name] for name in names]
    config.update(SESSION_IDLE_TIMEOUT=timedelta(seconds=idle_seconds), SESSION_WARNING_SECONDS=warning_seconds,
                  SESSION_ABSOLUTE_TIMEOUT=timedelta(seconds=absolute_seconds))
    try:
        yield
    finally:
        config.update(zip(names, before))


def test_a_denial_saves_with_only_a_title_and_publishing_names_what_is_missing(
        live_server: LiveServer, live_user: Any, context_page: Any) -> None:
    url, _app = live_server
    page = context_page()
    sign_in(page, url, live_user("spoc", "DK"))
    page.goto(url + "/denials/new")
    expect(page.get_by_label("Summary (optional)", exact=True)).to_be_visible()
    page.get_by_label("Title", exact=True).fill("Half-written denial of drones")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Half-written denial of drones")
    expect(page.get_by_role("status").first).to_contain_text("Draft saved")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publish").click()
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("Complete the draft first")
    expect(alert).to_contain_text("Enter the date of the decision.")
    expect(alert).to_contain_text("Choose the destination.")
    expect(page.locator(".tag-draft")).to_be_visible()
    assert page.console_errors == []


def _fill_party(page: Any, number: int, role: str, name: str, country: str) -> None:
    party = page.get_by_role("group", name=f"Party {number}", exact=True)
    party.get_by_label("Role", exact=True).select_option(label=role)
    party.get_by_label("Name", exact=True).fill(name)
    party.get_by_label("Country (optional)", exact=True).select_option(label=country)


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js"])
def test_parties_are_repeatable_fieldsets(live_server: LiveServer, live_user: Any, context_page: Any,
                                          javascript: bool) -> None:
    url, _app = live_server
    page = context_page(javascript=javascript)
    sign_in(page, url, live_user("spoc", "DK"))
    page.goto(url + "/denials/new")
    page.get_by_label("Title", exact=True).fill(f"Two parties ({'js' if javascript else 'no js'})")
    page.get_by_label("Destination", exact=True).select_option(label="Myanmar")
    _fill_party(page, 1, "End-user", "Ministry of Home Affairs", "Myanmar")

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.method))
    page.get_by_role("button", name="Add another party").click()
    expect(page.get_by_role("group", name="Party 2", exact=True)).to_be_visible()
    if javascript:
        assert requests == []  # added in the page, nothing sent
        expect(page.get_by_role("group", name="Party 2", exact=True).get_by_label("Role", exact=True)).to_be_focused()
    else:
        assert "POST" in requests  # posted back: what was typed comes back with one row more
        expect(page.get_by_label("Title", exact=True)).to_have_value("Two parties (no js)")
        party = page.get_by_role("group", name="Party 1", exact=True)
        expect(party.get_by_label("Name", exact=True)).to_have_value("Ministry of Home Affairs")
        expect(page.get_by_label("Destination", exact=True)).to_have_value("MM")
        expect(page.locator(".error-summary")).to_have_count(0)  # adding a row is no failed save
    _fill_party(page, 2, "Broker", "Quillfeather Trading", "Singapore")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("status").first).to_contain_text("Draft saved")
    parties = page.get_by_role("table").filter(has_text="Quillfeather")
    expect(parties).to_contain_text("Ministry of Home Affairs")
    expect(parties).to_contain_text("Singapore")  # countries by name, not code
    expect(page.locator("dl.summary")).to_contain_text("Myanmar")

    # Errors name the party: a party without a role is refused at publishing.
    page.get_by_role("link", name="Edit draft").click()
    page.get_by_role("group", name="Party 2", exact=True).get_by_label("Role", exact=True).select_option("")
    page.get_by_role("button", name="Save draft").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert").first).to_contain_text("Party 2: choose a role.")
    assert page.console_errors == []


def test_an_ended_session_keeps_the_form_until_signed_in_again(live_server: LiveServer, live_user: Any,
                                                               context_page: Any) -> None:
    url, _app = live_server
    officer = live_user("officer", "DK")
    page = context_page()
    with session_settings(live_server, idle_seconds=12, warning_seconds=0):
        sign_in(page, url, officer)
        signed_in_at, used_code = time.monotonic(), officer.code()
        page.goto(url + "/denials/new")
        page.get_by_label("Title", exact=True).fill("Typed before the session ended")
        page.get_by_label("Rationale", exact=True).fill("A long rationale,\nthat nobody wants to type twice.")
        _fill_party(page, 1, "Consignee", "Grimsditch Logistics", "Norway")
        time.sleep(max(0.0, 13 - (time.monotonic() - signed_in_at)))
        page.get_by_role("button", name="Save draft").click()

        expect(page).to_have_url(re.compile(re.escape(url) + r"/login\?next=(%2F|/)denials(%2F|/)new$"))
        expect(page.get_by_role("status").first).to_contain_text("Your session had ended")
        assert "Typed before" not in page.url  # never in the URL
        while officer.code() == used_code:  # a one-time code is accepted once: wait for the next
            time.sleep(1)
        sign_in_again(page, url, officer)

        expect(page).to_have_url(url + "/denials/new")
        expect(page.get_by_role("status").first).to_contain_text("What you typed is filled in again")
        expect(page.get_by_label("Title", exact=True)).to_have_value("Typed before the session ended")
        expect(page.get_by_label("Rationale", exact=True)).to_have_value(
            "A long rationale,\nthat nobody wants to type twice.")
        party = page.get_by_role("group", name="Party 1", exact=True)
        expect(party.get_by_label("Name", exact=True)).to_have_value("Grimsditch Logistics")
        expect(party.get_by_label("Country (optional)", exact=True)).to_have_value("NO")
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("status").first).to_contain_text("Draft saved")

        page.goto(url + "/denials/new")  # given back once only
        expect(page.get_by_label("Title", exact=True)).to_have_value("")
    assert page.console_errors == []


def sign_in_again(page: Any, url: str, account: Any) -> None:
    from tests.conftest import PASSWORD

    page.get_by_label("E-mail address").fill(account.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("6-digit code from your authenticator app").fill(account.code())
    page.get_by_role("button", name="Sign in").click()


def test_stay_signed_in_dialog_extends_the_session_by_keyboard(live_server: LiveServer, live_user: Any,
                                                                context_page: Any) -> None:
    url, _app = live_server
    page = context_page()
    with session_settings(live_server, idle_seconds=14, warning_seconds=11):
        sign_in(page, url, live_user("reader", "DK"))
        signed_in_at = time.monotonic()
        dialog = page.get_by_role("dialog", name="You will be signed out soon")
        expect(dialog).to_be_visible(timeout=12_000)
        stay = dialog.get_by_role("button", name="Stay signed in")
        expect(stay).to_be_focused()
        with page.expect_response(lambda r: r.url.endswith("/session/extend")) as extended:
            page.keyboard.press("Enter")
        assert extended.value.status == 200 and extended.value.json()["remaining_seconds"] == 14
        expect(dialog).to_be_hidden()
        # Past the first timeout: still signed in, because the dialog extended the session.
        time.sleep(max(0.0, 15 - (time.monotonic() - signed_in_at)))
        page.goto(url + "/account/")
        expect(page).to_have_url(url + "/account/")
    assert page.console_errors == []


def test_the_session_limit_is_announced_without_a_stay_button_then_the_end(live_server: LiveServer, live_user: Any,
                                                                          context_page: Any) -> None:
    url, _app = live_server
    page = context_page()
    with session_settings(live_server, idle_seconds=600, warning_seconds=11, absolute_seconds=14):
        sign_in(page, url, live_user("reader", "DK"))
        dialog = page.get_by_role("dialog", name="Your session ends soon")
        expect(dialog).to_be_visible(timeout=12_000)
        expect(dialog).to_contain_text("A session lasts at most 1 minute, however active you are")
        expect(dialog.get_by_role("button", name="Stay signed in")).to_have_count(0)
        expect(dialog.get_by_role("button", name="Continue working")).to_be_focused()
        page.keyboard.press("Enter")
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("dialog", name="You have been signed out")).to_be_visible(timeout=12_000)
        page.goto(url + "/account/")
        expect(page).to_have_url(re.compile(re.escape(url) + "/login"))
    assert page.console_errors == []


def test_a_form_sent_after_signing_out_in_another_tab_explains_itself(live_server: LiveServer, live_user: Any,
                                                                      context_page: Any) -> None:
    url, _app = live_server
    page = context_page()
    sign_in(page, url, live_user("officer", "DK"))
    page.goto(url + "/denials/new")
    page.get_by_label("Title", exact=True).fill("Sent after signing out")
    other = page.context.new_page()
    other.goto(url + "/")
    other.get_by_role("button", name="Sign out").click()
    expect(other.get_by_role("status").first).to_contain_text("You have signed out")

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    expect(page.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", re.compile(r"/login\?next=(%2F|/)denials(%2F|/)new"))


def test_every_printed_page_of_an_amber_item_carries_its_marking(live_server: LiveServer, live_user: Any,
                                                                 context_page: Any) -> None:
    from pypdf import PdfReader

    url, app = live_server
    spoc = live_user("spoc", "DK")
    body = "\n\n".join(f"## Finding {n}\n\n" + "The consignment was routed through a third country. " * 12
                       for n in range(1, 25))
    # Its own words and audience: the live server's database is shared with the other journeys.
    item_id = helpers.make_item(app, spoc, "denial", tlp="AMBER", body=body, title="Print run: routed consignments",
                                audience=helpers.audience(countries=["NO"]))
    page = context_page()
    sign_in(page, url, spoc)
    page.goto(f"{url}/denials/{item_id}")
    expect(page.get_by_role("button", name="Withdraw").or_(page.get_by_role("link", name="Withdraw"))).to_be_visible()
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True)))
    texts = [p.extract_text() or "" for p in pdf.pages]
    assert len(texts) >= 3, len(texts)
    for number, text in enumerate(texts, start=1):
        # Head and foot of every page: twice, wherever the page breaks.
        assert text.count("TLP:AMBER") >= 2, (number, text[:300])
        assert f"Page {number} of {len(texts)}" in text
    everything = "\n".join(texts)
    assert "Finding 24" in everything
    for chrome in ("Sign out", "Withdraw", "Amend (new version)", "Skip to main content"):
        assert chrome not in everything, chrome
