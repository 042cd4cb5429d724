"""`make screenshots`: the main pages of each role at desktop and phone size, for reviewers.

Not part of the suite (the file name does not match test_*.py); the Makefile runs it by name.
Files go to $SCREENSHOTS_DIR (default: screenshots/, which git ignores).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import DESKTOP, _sign_in, _world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PHONE = {"width": 390, "height": 844}


def _pages(w: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        "spoc": [("home", "/"), ("denials", "/denials/"), ("denial", f"/denials/{w['denial']}"),
                 ("new-denial", "/denials/new"), ("notifications", "/notifications/"), ("overview", "/overview"),
                 ("meeting", f"/meetings/{w['meeting']}"), ("consultation", f"/consultations/{w['consultation']}"),
                 ("users", "/users/")],
        "officer": [("home", "/"), ("draft", f"/threat-notices/{w['draft']}"), ("search", "/search?q=imsi")],
        "secretariat": [("home", "/"), ("overview", "/overview"), ("meetings", "/meetings/"),
                        ("meeting", f"/meetings/{w['meeting']}"), ("countries", "/countries/")],
        "admin": [("home", "/"), ("keys", "/keys"), ("audit", "/admin/audit")],
    }


def test_screenshots(live_server: LiveServer, chromium: Any, live_user: Any) -> None:
    out = Path(os.environ.get("SCREENSHOTS_DIR", "screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    world = _world(live_server, live_user)
    written = 0
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(live_server.url + "/login")
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        page.screenshot(path=str(out / f"anonymous-login-{name}.png"), full_page=True)
        written += 1
    context.close()
    for role, pages in _pages(world).items():
        context = chromium.new_context(viewport=DESKTOP)
        page = context.new_page()
        _sign_in(page, live_server.url, world["people"][role])
        for label, path in pages:
            page.goto(live_server.url + path)
            for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
                page.set_viewport_size(size)
                page.screenshot(path=str(out / f"{role}-{label}-{name}.png"), full_page=True)
                written += 1
        context.close()
    print(f"{written} screenshots in {out.resolve()}")
