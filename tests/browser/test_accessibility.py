"""Accessibility suite: axe-core (axe-playwright-python, in Debian's Chromium) over every page
of every role's journey — more than 40 distinct pages, error and empty states included — at
desktop width and at 320 CSS pixels, with the WCAG 2.0/2.1/2.2 A and AA rules. No critical or
serious violation is allowed; a moderate one must be fixed or listed in MODERATE_ALLOWED with
its reason. At 320 px no page scrolls sideways (WCAG 1.4.10) except inside a table's own
scroll container. A keyboard-only journey signs in, posts a denial with two parties and
registers a delegate without a mouse.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Country, CountryStatus, User
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 320, "height": 720}
# Moderate findings we accept, each with its reason (rule id -> reason). Empty: none are left.
MODERATE_ALLOWED: dict[str, str] = {}


def _user(app: Any, account: Any) -> User:
    found = db.session.get(User, account.id)
    assert found is not None
    return found


def _world(live_server: LiveServer, live_user: Any) -> dict[str, Any]:
    """A small, complete world in the live server's database, built through the services."""
    from portal.consultations import service as consultations
    from portal.meetings import registration, service as meetings
    from portal.models import ItemKind
    from portal.sharing import service as sharing
    from tests.sharing.helpers import denial_payload, document_payload, threat_payload

    app = live_server.app
    people = {
        "spoc": live_user("spoc", "DK", name="Dana Dane"),
        "officer": live_user("officer", "DK", name="Olaf Officer"),
        "reader": live_user("reader", "DK", name="Rita Reader"),
        "no_spoc": live_user("spoc", "NO", name="Nils Nordby"),
        "secretariat": live_user("secretariat", None, name="Sam Secretariat"),
        "admin": live_user("admin", None, name="Ada Admin"),
    }
    with app.app_context():
        if db.session.get(Country, "CR") is None:
            db.session.add(Country(code="CR", name="Costa Rica", status=CountryStatus.OBSERVER))
            db.session.commit()
    people["observer"] = live_user("officer", "CR", name="Olga Observer")
    with app.app_context():
        spoc, officer = _user(app, people["spoc"]), _user(app, people["officer"])
        ref = f"DK-A11Y-{uuid.uuid4().hex[:6]}"
        parties = [{"role": "end_user", "name": "Ministry of Home Affairs", "aliases": ["MoHA"],
                    "address": "Nay Pyi Taw", "country": "MM"},
                   {"role": "consignee", "name": "Golden Trading Co.", "aliases": [], "address": "Yangon",
                    "country": "MM"}]
        denial = sharing.create_draft(db.session, spoc, ItemKind.DENIAL, denial_payload(
            national_ref=ref, parties=parties, audience={"all_subscribing": True, "countries": [],
                                                         "secretariat": True, "observers": False}))
        sharing.publish(db.session, spoc, denial)
        notice = sharing.create_draft(db.session, spoc, ItemKind.THREAT_NOTICE, threat_payload())
        sharing.publish(db.session, spoc, notice)
        draft = sharing.create_draft(db.session, officer, ItemKind.THREAT_NOTICE, threat_payload(title="Officer draft"))
        sharing.submit(db.session, officer, draft)
        sec = _user(app, people["secretariat"])
        document = sharing.create_draft(db.session, sec, ItemKind.DOCUMENT, document_payload(
            audience={"all_subscribing": True, "countries": [], "secretariat": True, "observers": True}, tlp="GREEN"))
        sharing.publish(db.session, sec, document)
        start = (datetime.now() + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
        meeting = meetings.create_meeting(db.session, sec, {
            "kind": "plenary", "title": "Accessible plenary", "description": "Annual plenary.",
            "timezone": "Europe/Copenhagen", "starts_at": start, "ends_at": start + timedelta(days=1, hours=8),
            "registration_deadline": start - timedelta(days=10), "venue": "Copenhagen",
            "online_url": "https://meet.example.org/plenary", "invite_all_subscribing": True,
            "invite_observers": False, "states": []})
        meetings.announce(db.session, sec, meeting)
        registration.add_delegate(db.session, spoc, meeting, {
            "name": "Dana Dane", "position": "Director", "email": "dana@dk.example", "attendance": "in_person",
            "is_head": True})
        no_spoc = _user(app, people["no_spoc"])
        consultation = consultations.open_consultation(db.session, no_spoc, {
            "denial_id": str(denial.id), "applicant": "Nordic Optics AS", "end_user": "Ministry of Home Affairs",
            "item_description": "Two IMSI catchers", "destination": "MM", "end_use": "Policing",
            "question": "Is this essentially identical to your denial?", "control_entries": []})
        ids = {"denial": denial.id, "notice": notice.id, "draft": draft.id, "document": document.id,
               "meeting": meeting.id, "consultation": consultation.id, "spoc_id": spoc.id}
        db.session.remove()
    return {"people": people, **ids}


def _sign_in(page: Any, url: str, account: Any) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(account.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("6-digit code from your authenticator app").fill(account.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/")


def _journeys(w: dict[str, Any]) -> dict[str, list[str]]:
    d, n, dr, doc, m, c = (w["denial"], w["notice"], w["draft"], w["document"], w["meeting"], w["consultation"])
    common = ["/", "/notifications/", "/notifications/preferences", "/account/", "/account/password",
              "/account/tokens", "/denials/", "/threat-notices/", "/documents/", "/search?q=imsi",
              "/search?q=zzzznothing", "/meetings/", "/meetings/?when=past", f"/meetings/{m}", "/meetings/actions",
              "/meetings/calendar", "/countries/", "/countries/DK", f"/denials/{uuid.uuid4()}"]
    return {
        "spoc": common + [f"/denials/{d}", f"/denials/{d}/versions/1", f"/denials/{d}/amend", f"/denials/{d}/withdraw",
                          f"/denials/{d}/revoke", f"/threat-notices/{n}", f"/threat-notices/{dr}", "/denials/new",
                          "/threat-notices/new", "/users/", "/users/invite", f"/users/{w['spoc_id']}", "/clients",
                          f"/meetings/{m}/delegates/new", f"/meetings/{m}/minutes", "/consultations/",
                          f"/consultations/{c}", "/denials/due-for-review", "/screenings/", "/screenings/history",
                          f"/documents/{doc}", "/overview"],
        "officer": common + [f"/threat-notices/{dr}", f"/threat-notices/{dr}/edit", "/documents/new",
                             f"/consultations/new?denial_id={d}", "/screenings/"],
        "reader": common + [f"/denials/{d}", f"/documents/{doc}"],
        "secretariat": common + ["/meetings/new", f"/meetings/{m}/edit", f"/meetings/{m}/agenda/new",
                                 f"/meetings/{m}/cancel", f"/documents/{doc}", "/documents/new", "/countries/new",
                                 "/countries/DK/edit", f"/denials/{d}", "/overview"],
        "admin": ["/", "/account/", "/admin/audit", "/keys", "/users/", "/users/invite", "/countries/", "/clients",
                  f"/denials/{uuid.uuid4()}"],
        "observer": ["/", "/documents/", f"/documents/{doc}", "/meetings/", "/notifications/", "/consultations/"],
        "no_spoc": ["/", f"/consultations/{c}", "/consultations/", f"/denials/{d}"],
    }


def _check(page: Any, axe: Any, label: str, findings: list[str], moderate: dict[str, set[str]]) -> None:
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    for violation in results.response["violations"]:
        impact = violation.get("impact")
        targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
        if impact in ("critical", "serious"):
            findings.append(f"{label}: {impact} {violation['id']} ({violation['help']}) at {targets}")
        elif impact == "moderate" and violation["id"] not in MODERATE_ALLOWED:
            moderate.setdefault(violation["id"], set()).add(f"{label} {targets}")


def _overflow(page: Any) -> int:
    """How far the page scrolls sideways (0 when it does not)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_every_page_of_every_journey_passes_axe_at_desktop_and_320px(
        live_server: LiveServer, chromium: Any, live_user: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    url = live_server.url
    world = _world(live_server, live_user)
    axe = Axe()
    findings: list[str] = []
    moderate: dict[str, set[str]] = {}
    reflow: list[str] = []
    distinct: set[str] = set()

    # Signed-out pages, error states included.
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    # The public side is what most people will ever see: its pages, an empty search and a 404.
    for path in ("/login", "/password/forgot", "/password/reset/not-a-token", "/invitation/not-a-token",
                 "/public/", "/public/guidance", "/public/guidance?q=zzzz", "/public/contact",
                 f"/public/guidance/{uuid.UUID(int=0)}"):
        for size, name in ((DESKTOP, "desktop"), (PHONE, "320px")):
            page.set_viewport_size(size)
            page.goto(url + path)
            distinct.add(path)
            _check(page, axe, f"anonymous {path} @{name}", findings, moderate)
            if name == "320px" and _overflow(page) > 0:
                reflow.append(f"anonymous {path}: {_overflow(page)}px")
    page.set_viewport_size(DESKTOP)
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill("nobody@echri.example")
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Continue").click()
    distinct.add("/login (error)")
    _check(page, axe, "anonymous /login with an error", findings, moderate)
    context.close()

    for role, paths in _journeys(world).items():
        context = chromium.new_context(viewport=DESKTOP)
        context.set_default_timeout(15_000)
        page = context.new_page()
        _sign_in(page, url, world["people"][role])
        for path in paths:
            for size, name in ((DESKTOP, "desktop"), (PHONE, "320px")):
                page.set_viewport_size(size)
                response = page.goto(url + path)
                assert response is not None and response.status < 500, f"{role} {path}: {response and response.status}"
                distinct.add(path.split("?")[0] if "zzzz" not in path else path)
                _check(page, axe, f"{role} {path} @{name}", findings, moderate)
                if name == "320px" and _overflow(page) > 0:
                    reflow.append(f"{role} {path}: {_overflow(page)}px")
        if role == "officer":
            # A form's error state: saving a threat notice with nothing filled in.
            page.set_viewport_size(DESKTOP)
            page.goto(url + "/threat-notices/new")
            page.locator("main form button[type=submit]").last.click()
            distinct.add("/threat-notices/new (errors)")
            _check(page, axe, "officer threat notice form with errors", findings, moderate)
        context.close()

    assert len(distinct) >= 40, sorted(distinct)
    assert not findings, "\n".join(findings)
    assert not moderate, "\n".join(f"{rule}: {sorted(where)[:4]}" for rule, where in moderate.items())
    assert not reflow, "pages that scroll sideways at 320px:\n" + "\n".join(reflow)


def test_keyboard_only_sign_in_denial_with_two_parties_and_delegate(
        live_server: LiveServer, chromium: Any, live_user: Any) -> None:
    """Tab, type and Enter only: no clicks."""
    url = live_server.url
    world = _world(live_server, live_user)
    account = world["people"]["spoc"]
    context = chromium.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    kb = page.keyboard

    def tab_to(selector: str, limit: int = 120) -> None:
        """Press Tab until `selector` has focus (as a keyboard user would move through the page)."""
        for _ in range(limit):
            if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
                return
            kb.press("Tab")
        raise AssertionError(f"Tab never reached {selector}")

    page.goto(url + "/login")
    tab_to("input[name=email]")
    kb.type(account.email)
    tab_to("input[name=password]")
    kb.type(PASSWORD)
    kb.press("Enter")
    page.wait_for_url(url + "/login/code")
    tab_to("input[name=code]")
    kb.type(account.code())
    kb.press("Enter")
    page.wait_for_url(url + "/")

    # A denial with two parties, through the form as it is, by keyboard.
    page.goto(url + "/denials/new")
    form_fields = page.evaluate("""() => Array.from(document.querySelectorAll('main form [name]'))
        .map(e => [e.name, e.type || e.tagName.toLowerCase()])""")
    names = {name for name, _ in form_fields}
    values = {"title": "Keyboard denial", "summary": "Filed without a mouse.", "national_ref": f"DK-KB-{uuid.uuid4().hex[:6]}",
              "item_description": "Two IMSI catchers", "end_use": "Policing", "rationale": "Risk of repression.",
              "control_entries-0-regime": "Wassenaar", "control_entries-0-code": "5A001.j", "body": "Filed by keyboard."}
    for name, value in values.items():
        tab_to(f"main form [name='{name}']")
        kb.press("Control+A")
        kb.type(value)
    # A select takes the typed start of an option's label, as a keyboard user chooses a country by name.
    tab_to("main form [name='destination']")
    kb.type("Myanmar")
    tab_to("main form [name='decision_date']")  # a date input takes the digits in the browser's order (en-US here)
    kb.type("03022026")
    parties = [("End", "Ministry of Home Affairs", "MoHA", "Nay Pyi Taw"), ("Cons", "Golden Trading Co.", "", "Yangon")]
    for index, (role, name, aliases, address) in enumerate(parties):
        if index:  # "Add another party": a button, pressed with Enter (the script adds the row in place)
            tab_to("main form button[name='add_row'][value='parties']")
            kb.press("Enter")
            page.wait_for_selector(f"main form [name='parties-{index}-name']")
        tab_to(f"main form [name='parties-{index}-role']")
        kb.type(role)
        for field_name, value in (("name", name), ("aliases", aliases), ("address", address)):
            if value:
                tab_to(f"main form [name='parties-{index}-{field_name}']")
                kb.type(value)
        tab_to(f"main form [name='parties-{index}-country']")
        kb.type("Myanmar")
    page.evaluate("() => document.activeElement.blur()")
    # Choices (selects, radios, checkboxes) by keyboard: focus, then arrow keys or space.
    for select_name in [n for n, t in form_fields if t == "select-one" and n not in ("tlp",)]:
        tab_to(f"main form select[name='{select_name}']")
        if page.evaluate(f"() => document.querySelector(\"main form select[name='{select_name}']\").selectedIndex") <= 0:
            kb.press("ArrowDown")
    for checkbox in ("all_subscribing",):
        if checkbox in names and not page.is_checked(f"main form [name='{checkbox}']"):
            tab_to(f"main form [name='{checkbox}']")
            kb.press("Space")
    if "reason_codes" in names and not page.evaluate("() => Array.from(document.querySelectorAll(\"[name='reason_codes']\")).some(e => e.checked || (e.selectedOptions && e.selectedOptions.length))"):
        tab_to("main form [name='reason_codes']")
        kb.press("Space")
    tab_to("main form button[type=submit]")
    kb.press("Enter")
    page.wait_for_url(re.compile(r"/denials/[0-9a-f-]{36}$"))
    body = page.locator("main").inner_text()
    assert "Ministry of Home Affairs" in body and "Golden Trading Co." in body

    # A delegate registration by keyboard.
    page.goto(url + f"/meetings/{world['meeting']}/delegates/new")
    for name, value in (("name", "Kim Keyboard"), ("position", "Adviser"), ("email", f"kim.{uuid.uuid4().hex[:4]}@dk.example")):
        tab_to(f"main form [name='{name}']")
        kb.type(value)
    tab_to("main form [name='attendance']")
    kb.press("Space")
    tab_to("main form button[type=submit]")
    kb.press("Enter")
    page.wait_for_url(url + f"/meetings/{world['meeting']}**")
    expect(page.locator("[data-flash]")).to_contain_text("Kim Keyboard is registered")
    # The outcome after the redirect has focus (it is read out and in view).
    assert page.evaluate("() => document.activeElement.hasAttribute('data-flash')")
    context.close()
