"""The public side in real Chromium: a SPOC publishes a CLEAR notice publicly (with confirmation);
a visitor without an account reads it, downloads its file and signature bundle, finds it by
search, and writes to the Initiative, confirming the address from the e-mail. Each public page
passes basic accessibility checks (language, one h1, labelled controls, landmarks, keyboard)."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Item, ItemKind
from portal.models.base import utcnow
from portal.public import contact
from portal.sharing import service as sharing
from tests.browser.conftest import LiveServer
from tests.browser.test_sharing_flow import new_page, sign_in  # noqa: F401  (a fixture and a helper)
from tests.public.conftest import pdf_bytes
from tests.sharing.helpers import audience, threat_payload, user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Runs in the page: the checks axe would start with, for pages built from our own templates.
A11Y_SCRIPT = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  if (!document.querySelector('main')) problems.push('no main landmark');
  if (!document.title.trim()) problems.push('no title');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || el.closest('[aria-hidden="true"]')) continue;
    const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.getAttribute('aria-label')
      || el.closest('label');
    if (!labelled) problems.push('unlabelled control ' + (el.name || el.id));
  }
  for (const a of document.querySelectorAll('a')) {
    if (!a.textContent.trim() && !a.getAttribute('aria-label')) problems.push('empty link ' + a.href);
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('img without alt');
  }
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length) problems.push('duplicate ids ' + dupes.join(','));
  for (const table of document.querySelectorAll('table')) {
    if (!table.querySelector('th')) problems.push('table without headers');
  }
  return problems;
}"""


def accessible(page: Any) -> None:
    # A click starts a navigation and returns at once: check the page that arrives, not the one leaving.
    page.wait_for_load_state("load")
    assert page.evaluate(A11Y_SCRIPT) == []
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"


def test_publish_publicly_then_read_download_search_and_contact(live_server: LiveServer, live_user: Any,
                                                                 new_page: Any) -> None:  # noqa: F811
    url, app = live_server
    spoc = live_user("spoc", "DK", name="Dorte Hidden")
    with app.app_context():
        item = sharing.create_draft(db.session, user(spoc), ItemKind.THREAT_NOTICE, threat_payload(
            title="Export of spyware to repressive end-users", summary="What exporters should look for.",
            tlp="CLEAR", audience=audience(countries=["NO"])))
        sharing.publish(db.session, user(spoc), item)
        from portal.attachments import service as attachments

        attachments.store_attachment(db.session, user(spoc), db.session.get(Item, item.id), "checklist.pdf",
                                     io.BytesIO(pdf_bytes()))
        item_id = item.id
        db.session.remove()

    # The SPOC publishes it publicly: a separate action, with a confirmation page.
    spoc_page = new_page()
    sign_in(spoc_page, url, spoc)
    spoc_page.goto(f"{url}/threat-notices/{item_id}")
    spoc_page.get_by_role("link", name="Publish publicly…").click()
    expect(spoc_page.get_by_role("heading", level=1)).to_contain_text("Publish “Export of spyware")
    expect(spoc_page.locator("main")).to_contain_text("1 TLP:CLEAR file")
    spoc_page.get_by_role("button", name="Publish publicly").click()
    expect(spoc_page.get_by_role("status")).to_contain_text("Published on the public side")
    expect(spoc_page.get_by_role("link", name="Take off the public side…")).to_be_visible()

    # A visitor without an account.
    page = new_page()
    page.goto(url + "/public/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The Export Controls and Human Rights Initiative")
    expect(page.get_by_role("table")).to_contain_text("Republic of Korea")
    accessible(page)
    page.get_by_role("navigation", name="Public pages").get_by_role("link", name="Published guidance").click()
    expect(page).to_have_url(url + "/public/guidance")
    accessible(page)
    page.get_by_label("Search published guidance").fill("spyware")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Export of spyware to repressive end-users").click()
    expect(page).to_have_url(f"{url}/public/guidance/{item_id}")
    accessible(page)
    main = page.locator("main")
    expect(main).to_contain_text("TLP:CLEAR")
    expect(main).to_contain_text("from Denmark")
    expect(main).not_to_contain_text("Dorte Hidden")
    with page.expect_download() as download:
        page.get_by_role("link", name="checklist.pdf", exact=True).click()
    assert download.value.suggested_filename == "checklist.pdf"
    with page.expect_download() as bundle:
        page.get_by_role("link", name="Signature bundle for checklist.pdf").click()
    with open(bundle.value.path(), "rb") as handle:
        assert sorted(zipfile.ZipFile(io.BytesIO(handle.read())).namelist()) == [
            "VERIFY.txt", "manifest.json", "manifest.sig", "signer.pem"]

    # Contact the Initiative: the honeypot is out of people's way, the rest is labelled.
    page.get_by_role("navigation", name="Public pages").get_by_role("link", name="Contact the Initiative").click()
    expect(page).to_have_url(url + "/public/contact")
    accessible(page)
    expect(page.locator("main")).to_contain_text("365 days")
    page.get_by_label("Type of organisation").select_option("company")
    page.get_by_label("Organisation", exact=True).fill("Example Exporters Ltd")
    page.get_by_label("Your name").fill("Erik Exporter")
    page.get_by_label("Your e-mail address").fill("erik@exporters.example")
    page.get_by_label("Country", exact=True).fill("Sweden")
    page.get_by_label("Subject", exact=True).fill("Due diligence question")
    page.get_by_label("Message", exact=True).fill("How do we screen end-users?\nThanks.")
    page.get_by_label("Message", exact=True).focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Send message"  # skips the honeypot
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    accessible(page)

    with app.app_context():
        assert contact.deliver_mail(db.session) == 1
        db.session.remove()
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_contact_confirmation_link_in_the_browser(live_server: LiveServer, new_page: Any,  # noqa: F811
                                                  smtp_server: Any) -> None:
    url, app = live_server
    page = new_page()
    page.goto(url + "/public/contact")
    page.get_by_label("Type of organisation").select_option("university")
    page.get_by_label("Organisation", exact=True).fill("Uni of Examples")
    page.get_by_label("Your name").fill("Rita Researcher")
    page.get_by_label("Your e-mail address").fill("rita@uni.example")
    page.get_by_label("Country", exact=True).fill("Chile")
    page.get_by_label("Subject", exact=True).fill("Research collaboration")
    page.get_by_label("Message", exact=True).fill("Hello.")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    with app.app_context():
        contact.deliver_mail(db.session)
        db.session.remove()
    mail = smtp_server.mailbox.to("rita@uni.example")[-1]
    link = re.search(r"(http\S+/public/contact/confirm/\S+)", smtp_server.mailbox.text(mail))
    assert link
    page.goto(link.group(1))
    accessible(page)
    page.get_by_role("button", name="Confirm and send my message").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("your message is with the secretariat")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_spoc_opens_a_public_consultation_and_a_visitor_responds(live_server: LiveServer, live_user: Any,
                                                                  new_page: Any) -> None:  # noqa: F811
    url, app = live_server
    spoc = live_user("spoc", "FR", name="Fleur Hidden")
    spoc_page = new_page()
    sign_in(spoc_page, url, spoc)
    spoc_page.get_by_role("navigation", name="Main").get_by_role("link", name="Calls for input").click()
    spoc_page.get_by_role("link", name="New public consultation").click()
    spoc_page.get_by_label("Title").fill("Call for input on cyber-surveillance exports")
    spoc_page.get_by_label("What you are asking, and of whom").fill("Which end-uses worry you?")
    spoc_page.get_by_label("Closing date").fill((utcnow().date() + timedelta(days=30)).isoformat())
    spoc_page.get_by_role("button", name="Open and publish").click()
    expect(spoc_page.get_by_role("status")).to_contain_text("open and on the public pages")

    page = new_page()
    page.goto(url + "/public/")
    page.get_by_role("navigation", name="Public pages").get_by_role("link", name="Consultations").click()
    expect(page).to_have_url(url + "/public/consultations")
    accessible(page)
    page.get_by_role("link", name="Call for input on cyber-surveillance exports").click()
    expect(page).to_have_url(re.compile(re.escape(url) + "/public/consultations/[0-9a-f-]{36}$"))
    accessible(page)
    expect(page.locator("main")).to_contain_text("A consultation of France")
    expect(page.locator("main")).not_to_contain_text("Fleur Hidden")
    page.get_by_label("Type of organisation").select_option("civil_society")
    page.get_by_label("Organisation", exact=True).fill("Watchers")
    page.get_by_label("Your name").fill("Wim")
    page.get_by_label("Your e-mail address").fill("wim@watchers.example")
    page.get_by_label("Country", exact=True).fill("Belgium")
    page.get_by_label("Your response").fill("Protest monitoring.")
    page.get_by_role("button", name="Send response").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    assert page.console_errors == [] and spoc_page.console_errors == []  # type: ignore[attr-defined]
