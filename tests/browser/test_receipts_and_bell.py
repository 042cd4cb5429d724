"""Who saw what and the bell, as people meet them in Chromium: another state's point of contact
finds the new denial in the bell (a link with its kind and marking), opens it, and the entry is
read; the originating state then sees that state among those who opened it."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import DESKTOP, _sign_in, _world


def test_the_bell_leads_to_the_item_and_the_originator_sees_who_opened_it(
        live_server: LiveServer, chromium: Any, live_user: Any) -> None:
    url = live_server.url
    world = _world(live_server, live_user)
    denial_link = f"a[href$='/denials/{world['denial']}']"

    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    _sign_in(page, url, world["people"]["no_spoc"])
    page.goto(url + "/notifications/")
    entry = page.locator("main li", has=page.locator(denial_link)).first
    expect(entry).to_have_class(re.compile(r"\bunread\b"))
    expect(entry).to_contain_text("TLP:AMBER")
    entry.locator(denial_link).click()
    expect(page).to_have_url(re.compile(rf"/denials/{world['denial']}$"))
    page.goto(url + "/notifications/")
    expect(page.locator("main li.unread", has=page.locator(denial_link))).to_have_count(0)
    context.close()

    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    _sign_in(page, url, world["people"]["spoc"])
    page.goto(url + f"/denials/{world['denial']}")
    expect(page.locator("#receipts-count")).to_contain_text(re.compile(r"Opened by [1-9]\d* of \d+ states"))
    expect(page.locator("tr[data-state='NO']")).to_contain_text("Opened")
    context.close()
