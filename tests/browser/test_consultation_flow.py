"""Screening and consultations in real Chromium: an FR officer uploads a CSV of an applicant's
parties, finds a hit on DK's denial and consults DK from the match; DK's SPOC answers; the officer closes it as granted with reasons; a Norwegian officer (in the denial's
audience) is notified and reads B's reasons on the denial's page."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.browser.test_sharing_flow import new_page, sign_in
from tests.sharing import helpers

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
__all__ = ["new_page"]


def test_consult_answer_grant_and_the_audience_hears(live_server: LiveServer, live_user: Any, new_page: Any) -> None:
    url, app = live_server
    dk_spoc, fr_officer, no_officer = live_user("spoc", "DK"), live_user("officer", "FR"), live_user("officer", "NO")
    denial_id = helpers.make_item(app, dk_spoc, "denial", "published", tlp="AMBER",
                                  audience=helpers.audience(countries=["FR", "NO"]),
                                  title="Denial of IMSI catchers (Lighthouse case)")
    denial_url = f"{url}/denials/{denial_id}"

    # The French officer screens the applicant's parties (a CSV, names spelt as the French file
    # has them), finds DK's denial among the hits and consults DK from the match.
    page = fr_page = new_page()
    sign_in(page, url, fr_officer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Screen parties").click()
    csv_body = ("name,aliases,country,address\n"
                "Exemplar Surveillance SA,,FR,\n"
                "MINISTRY OF HOME AFFAIRS - SPECIAL BRANCH,MoHA SB,MM,Nay Pyi Taw\n").encode()
    page.get_by_label("Or upload a CSV file").set_input_files(
        {"name": "applicant.csv", "mimeType": "text/csv", "buffer": csv_body})
    page.get_by_role("button", name="Screen").click()
    expect(page.get_by_role("link", name="Denial of IMSI catchers (Lighthouse case)", exact=True)).to_be_visible()
    page.get_by_role("link", name="Consult the denying state about Denial of IMSI catchers (Lighthouse case)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consult Denmark")
    expect(page.get_by_label("End user", exact=True)).to_have_value("Ministry of Home Affairs, Special Branch")
    page.get_by_label("Applicant (exporter)", exact=True).fill("Exemplar Surveillance SA")
    page.get_by_label("Your question to the denying state", exact=True).fill(
        "We are asked to license the same equipment. Do your concerns still stand?")
    page.get_by_role("button", name="Open the consultation").click()
    expect(page.get_by_role("status").first).to_contain_text("Consultation opened")
    consultation_url = page.url
    assert re.fullmatch(re.escape(url) + r"/consultations/[0-9a-f-]{36}", consultation_url)
    expect(page.locator("#consultation-status")).to_have_text("Open")
    assert page.console_errors == []

    # Denmark's point of contact answers from its consultations list.
    page = new_page()
    sign_in(page, url, dk_spoc)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Consultations").click()
    page.get_by_role("link", name="Denial of IMSI catchers (Lighthouse case)").click()
    expect(page).to_have_url(consultation_url)
    page.get_by_label("No objection").check()
    page.get_by_label("Reasons", exact=True).fill("The end user's unit has been disbanded since our decision.")
    page.get_by_role("button", name="Send your position").click()
    expect(page.locator("#current-position")).to_have_text("No objection")
    expect(page.locator("#close-form")).to_have_count(0)  # closing is the consulting state's
    assert page.console_errors == []

    # The French officer (still signed in: a TOTP code is good once) closes it as granted, with reasons.
    page = fr_page
    page.goto(consultation_url)
    expect(page.locator("#current-position")).to_have_text("No objection")
    page.get_by_label("Licence granted").check()
    page.get_by_label("Reasons", exact=True).fill("Granted: the Lighthousebranch unit no longer exists.")
    page.get_by_role("button", name="Close the consultation").click()
    expect(page.locator("#consultation-status")).to_have_text("Closed")
    expect(page.locator("#current-outcome")).to_have_text("Licence granted")
    assert page.console_errors == []

    # A Norwegian officer, in the denial's audience, is notified and reads the notice.
    page = new_page()
    sign_in(page, url, no_officer)
    page.goto(url + "/notifications/")
    notice = "Licence granted after consultation: Denial of IMSI catchers (Lighthouse case)"
    expect(page.get_by_text(notice)).to_be_visible()
    page.goto(denial_url)
    expect(page.locator(".grant-notices")).to_contain_text("France")
    expect(page.locator(".grant-notices")).to_contain_text("the Lighthousebranch unit no longer exists")
    # ... but not the consultation itself.
    response = page.goto(consultation_url)
    assert response is not None and response.status == 404
