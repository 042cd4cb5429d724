"""The authorisation matrix of shared items, on SQLite and PostgreSQL.

Every sharing route (pages and API) × role × relation × status × TLP, with the exact answer
each combination must get. The expectations are written out below from DESIGN.md's access
table; they deliberately do not call portal/access.py, which is what is being checked.

Besides the single-item routes, each case checks where the item shows up: its kind's list
page, the other kinds' lists, search, the API list (and its total), the home dashboard's
counts and latest items, and the CSV and JSON exports.

Relations:
- origin:   the user acts for the originating state (for the secretariat: its own
            best-practice document). Audience: one named state (NO) and nothing else, so
            only originating can explain the user seeing it.
- audience: the item is from DK and the widest audience its TLP allows reaches the user:
            GREEN all subscribing states + secretariat + observers; AMBER the named states
            NO and FR + secretariat; RED the named state NO + secretariat.
- outside:  the item is from DK to NO only; the user is of DE (or the secretariat, an
            observer state or an administrator, none of them flagged).
Observer states and administrators originate nothing, so they have no "origin" cases.
"""
from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from typing import Any

import pytest
from flask import Flask

from portal.extensions import db
from portal.models import Item
from tests.conftest import csrf_token
from tests.sharing import helpers
from tests.sharing.helpers import api_url, bearer, item_url

ROLES = ("spoc", "officer", "reader", "observer", "secretariat", "admin")
RELATIONS = ("origin", "audience", "outside")
STATUSES = ("draft", "published", "withdrawn")
TLPS = ("GREEN", "AMBER", "RED")


@dataclass(frozen=True)
class Case:
    role: str
    relation: str
    status: str
    tlp: str

    @property
    def kind(self) -> str:
        # The secretariat originates best-practice documents only; states, here, denials
        # (the kind with the most routes).
        return "document" if self.role == "secretariat" and self.relation == "origin" else "denial"

    @property
    def live(self) -> bool:
        return self.status in ("published", "withdrawn")


# --- the expectation: DESIGN.md's table, row by row -------------------------------------

def may_see(c: Case) -> bool:
    """Whether the user may see the item at all (else: 404, and absent from every list)."""
    if c.role == "admin":
        return False  # administrators never read shared content
    if c.status == "draft":
        # SPOC and officer see their state's drafts; the secretariat its own; nobody else.
        return c.relation == "origin" and c.role in ("spoc", "officer", "secretariat")
    if c.role in ("spoc", "officer"):
        return c.relation in ("origin", "audience")  # the audience contains their state
    if c.role == "reader":
        return c.relation in ("origin", "audience") and c.tlp != "RED"  # ... except TLP:RED
    if c.role == "observer":
        return c.relation == "audience" and c.tlp in ("CLEAR", "GREEN")  # observer flag, CLEAR/GREEN only
    if c.role == "secretariat":
        return c.relation in ("origin", "audience")  # the secretariat flag, or its own document
    raise AssertionError(c)


def edits(c: Case) -> bool:
    """Create and edit drafts: the originating state's SPOC and officers; the secretariat for its own."""
    return c.relation == "origin" and c.role in ("spoc", "officer", "secretariat")


def releases(c: Case) -> bool:
    """Publish, amend, withdraw (revoke, renew): the originating state's SPOC; the secretariat for its own."""
    return c.relation == "origin" and c.role in ("spoc", "secretariat")


def creates(c: Case) -> bool:
    """Create an item of the case's kind (the new-draft page and the API)."""
    if c.role in ("spoc", "officer"):
        return True  # of a subscribing state (observers are their own role here)
    return c.role == "secretariat" and c.kind == "document"


def in_export(c: Case) -> bool:
    """Bulk exports hold the published denials the user may see, never TLP:RED ones."""
    return may_see(c) and c.kind == "denial" and c.status == "published" and c.tlp != "RED"


# --- routes -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    name: str
    method: str
    url: Callable[[str, Any], str]  # (kind, item id) -> path
    allowed: Callable[[Case], int]  # the answer for a user who sees the item
    body: str | None = None  # what to send: "form", "amend", "reason", "csrf", "json-patch", "json-reason"
    denial_only: bool = False
    success: int = 0  # the status that means the route changed the item (needs a fresh one)

    def expected(self, c: Case) -> int:
        if self.denial_only and c.kind != "denial":
            return 404
        if not may_see(c):
            return 404  # existence does not leak
        return self.allowed(c)


def page(suffix: str = "") -> Callable[[str, Any], str]:
    return lambda kind, item_id: item_url(kind, item_id, suffix)


def denial_page(suffix: str) -> Callable[[str, Any], str]:
    return lambda kind, item_id: f"/denials/{item_id}{suffix}"


def api(suffix: str = "") -> Callable[[str, Any], str]:
    return lambda kind, item_id: api_url(kind, item_id, suffix)


def draft_edit(c: Case) -> bool:
    return c.status == "draft" and edits(c)


def draft_release(c: Case) -> bool:
    return c.status == "draft" and releases(c)


def live_release(c: Case) -> bool:
    return c.status == "published" and releases(c)


def officer_submit(c: Case) -> bool:
    """Officers ask their SPOC to release a draft of their state."""
    return c.status == "draft" and c.relation == "origin" and c.role == "officer"


ITEM_ROUTES = (
    # pages
    Route("detail", "GET", page(), lambda c: 200),
    Route("version 1", "GET", page("/versions/1"), lambda c: 200 if c.status == "published" else 404),
    Route("edit GET", "GET", page("/edit"), lambda c: 200 if draft_edit(c) else 403),
    Route("amend GET", "GET", page("/amend"), lambda c: 200 if live_release(c) else 403),
    Route("withdraw GET", "GET", page("/withdraw"), lambda c: 200 if live_release(c) else 403),
    Route("revoke GET", "GET", denial_page("/revoke"), lambda c: 200 if live_release(c) else 403, denial_only=True),
    Route("edit POST", "POST", page("/edit"), lambda c: 302 if draft_edit(c) else 403, "form", success=302),
    Route("submit", "POST", page("/submit"), lambda c: 302 if officer_submit(c) else 403, "csrf", success=302),
    Route("publish", "POST", page("/publish"), lambda c: 302 if draft_release(c) else 403, "csrf", success=302),
    Route("amend POST", "POST", page("/amend"), lambda c: 302 if live_release(c) else 403, "amend", success=302),
    Route("withdraw POST", "POST", page("/withdraw"), lambda c: 302 if live_release(c) else 403, "reason",
          success=302),
    Route("revoke POST", "POST", denial_page("/revoke"), lambda c: 302 if live_release(c) else 403, "reason",
          denial_only=True, success=302),
    Route("renew", "POST", denial_page("/renew"), lambda c: 302 if live_release(c) else 403, "csrf",
          denial_only=True, success=302),
    # API
    Route("API get", "GET", api(), lambda c: 200),
    Route("API PATCH", "PATCH", api(), lambda c: 200 if draft_edit(c) else 403, "json-patch", success=200),
    Route("API publish", "POST", api("/publish"), lambda c: 200 if draft_release(c) else 403, "json", success=200),
    Route("API withdraw", "POST", api("/withdraw"), lambda c: 200 if live_release(c) else 403, "json-reason",
          success=200),
)


def _cases() -> list[Any]:
    cases = []
    for role, relation, status, tlp in product(ROLES, RELATIONS, STATUSES, TLPS):
        if relation == "origin" and role in ("observer", "admin"):
            continue  # observer states and administrators originate nothing
        cases.append(pytest.param(Case(role, relation, status, tlp), id=f"{role}-{relation}-{status}-{tlp}"))
    return cases


# --- the world each case runs in -------------------------------------------------------

def case_audience(c: Case) -> dict[str, Any]:
    if c.relation != "audience":
        return helpers.audience(countries=["NO"])
    if c.tlp == "GREEN":
        return helpers.audience(all_subscribing=True, secretariat=True, observers=True)
    if c.tlp == "AMBER":
        return helpers.audience(countries=["NO", "FR"], secretariat=True)
    # Another named state besides NO: an NO user's own RED draft (the API create check) must name
    # someone other than its originator (security review, finding 7). EE plays no part here.
    return helpers.audience(countries=["NO", "EE"], secretariat=True)


def case_payload(c: Case, word: str, **overrides: Any) -> dict[str, Any]:
    fields = {"title": f"Matrix {word} item", "body": f"Body of {word}.", "tlp": c.tlp, "audience": case_audience(c)}
    return helpers.payload_for(c.kind, **{**fields, **overrides})


@dataclass
class World:
    app: Flask
    client: Any
    case: Case
    author: Any
    actor_token: str
    word: str

    def new_item(self) -> Any:
        return helpers.make_item(self.app, self.author, self.case.kind, self.case.status,
                                 **case_payload(self.case, self.word))


def build_world(app: Flask, client: Any, make_user: Any, login_as: Any, c: Case) -> World:
    helpers.add_observer_state(app, "CR", "Costa Rica")
    if c.kind == "document":
        author = make_user("secretariat")
    else:
        author = make_user("spoc", "DK")
    if c.role == "observer":
        actor = make_user("officer", "CR")  # even an officer of an observer state only reads
    elif c.role in ("secretariat", "admin"):
        actor = make_user(c.role)
    else:
        actor = make_user(c.role, {"origin": "DK", "audience": "NO", "outside": "DE"}[c.relation])
    login_as(client, actor)
    return World(app, client, c, author, helpers.api_token(app, actor), helpers.unique_word())


def request(w: World, route: Route, item_id: Any, csrf: str) -> Any:
    c, url = w.case, route.url(w.case.kind, item_id)
    if route.name.startswith("API"):
        headers = bearer(w.actor_token)
        if route.body == "json-patch":
            return w.client.patch(url, json={"title": f"Patched {w.word}"}, headers=headers)
        if route.body == "json-reason":
            return w.client.post(url, json={"reason": "No longer accurate."}, headers=headers)
        if route.body == "json":
            return w.client.post(url, json={}, headers=headers)
        return w.client.get(url, headers=headers)
    if route.method == "GET":
        return w.client.get(url)
    data: dict[str, Any] = {"csrf_token": csrf}
    if route.body == "form":
        data.update(helpers.to_form(c.kind, case_payload(c, w.word, title=f"Edited {w.word}")))
    elif route.body == "amend":
        data.update(helpers.to_form(c.kind, case_payload(c, w.word, title=f"Amended {w.word}")),
                    change_note="Corrected the end-user's name.")
    elif route.body == "reason":
        data["reason"] = "No longer accurate."
    return w.client.post(url, data=data)


def snapshot(app: Flask, item_id: Any) -> tuple[Any, ...]:
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item is not None
        state = (item.status, item.version, item.title, item.body, item.tlp, item.denial_status, item.review_date,
                 item.withdrawal_reason, item.updated_at, tuple(item.named_countries))
        db.session.remove()
    return state


# --- where the item shows up --------------------------------------------------------------

DASHBOARD_LABEL = {"denial": "licence-denial notification", "document": "best-practice document"}


def dashboard_count(html: str, kind: str) -> int | None:
    match = re.search(r"<strong>(\d+)</strong> " + DASHBOARD_LABEL[kind], html)
    return int(match.group(1)) if match else None


def check_collections(w: World, item_id: Any) -> list[str]:
    """Lists, search, API list and total, dashboard and exports: the item is where it may be."""
    c, client, problems = w.case, w.client, []
    link = item_url(c.kind, item_id)
    sees = may_see(c)

    def check(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            problems.append(f"{what}: got {actual!r}, expected {expected!r}")

    for kind in ("threat_notice", "denial", "document"):
        response = client.get(f"/{helpers.KIND_SLUG[kind]}/")
        check(f"GET list of {kind} status", response.status_code, 200)
        check(f"item in list of {kind}", link in response.get_data(as_text=True), sees and kind == c.kind)

    response = client.get("/search", query_string={"q": w.word})
    check("GET /search status", response.status_code, 200)
    html = response.get_data(as_text=True)
    check("item in search results", link in html, sees)
    check("search says 1 result", "1 result for" in html, sees)

    response = client.get(api_url(c.kind), headers=bearer(w.actor_token))
    check("API list status", response.status_code, 200)
    body = response.get_json() or {}
    check("item in API list", [i["id"] for i in body.get("items", [])], [str(item_id)] if sees else [])
    check("API list total", body.get("total"), 1 if sees else 0)
    response = client.get(api_url("threat_notice"), headers=bearer(w.actor_token))
    check("API list of another kind total", (response.get_json() or {}).get("total"), 0)

    response = client.get("/")
    check("home status", response.status_code, 200)
    html = response.get_data(as_text=True)
    if c.role == "admin":
        check("admin dashboard shows nothing shared", "New in the last 30 days" in html, False)
    else:
        check("dashboard count of new items", dashboard_count(html, c.kind), 1 if sees and c.live else 0)
        check("item in dashboard's latest", link in html, sees and c.live)

    response = client.get("/denials/export.csv")
    check("CSV export status", response.status_code, 200)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    check("CSV export rows", [r[-1] for r in rows[2:]], [str(item_id)] if in_export(c) else [])  # marking, header
    response = client.get("/denials/export.json")
    check("JSON export status", response.status_code, 200)
    check("JSON export ids", [d["id"] for d in (response.get_json() or {}).get("denials", [])],
          [str(item_id)] if in_export(c) else [])
    return problems


@pytest.mark.parametrize("case", _cases())
def test_matrix(app: Flask, client: Any, make_user: Any, login_as: Any, case: Case) -> None:
    w = build_world(app, client, make_user, login_as, case)
    item_id = w.new_item()
    before = snapshot(app, item_id)
    csrf = csrf_token(client, "/account/")

    problems = check_collections(w, item_id)

    # Creating is not about this item, but it is part of the matrix all the same.
    response = client.get(f"/{helpers.KIND_SLUG[case.kind]}/new")
    if response.status_code != (200 if creates(case) else 403):
        problems.append(f"new draft page: got {response.status_code}, expected {200 if creates(case) else 403}")
    response = client.post(api_url(case.kind), json=case_payload(case, w.word), headers=bearer(w.actor_token))
    if response.status_code != (201 if creates(case) else 403):
        problems.append(f"API create: got {response.status_code}, expected {201 if creates(case) else 403}")

    for route in ITEM_ROUTES:
        expected = route.expected(case)
        # A route that succeeds changes its item: it gets a fresh one; refusals use the shared one.
        target = w.new_item() if expected == route.success else item_id
        response = request(w, route, target, csrf)
        if response.status_code != expected:
            problems.append(f"{route.name} {route.method}: got {response.status_code}, expected {expected}")
        elif route.name.startswith("API") and expected >= 400:
            error = (response.get_json() or {}).get("error", {})
            if error.get("code") != ("not_found" if expected == 404 else "forbidden"):
                problems.append(f"{route.name}: error body {response.get_json()!r}")
        elif expected == 200 and route.method == "GET" and not route.name.startswith("API"):
            if f"Matrix {w.word} item" not in response.get_data(as_text=True):
                problems.append(f"{route.name}: the page does not show the item")

    if snapshot(app, item_id) != before:
        problems.append("a refused request changed the item")
    assert not problems, f"{case}:\n  " + "\n  ".join(problems)


# --- history: versions, events and files after a downgrade -----------------------------------
#
# An item from DK is published (version 1) with a file attached, then amended (version 2) to a
# lower marking or a wider audience, and a second file is attached. Each version and each file
# is shown only to whom it was released. The answers below are written out by hand from
# DESIGN.md ("History is released too"), one row per user: (version 1, version 2), where
# version 2 is also the item itself.

HISTORY_SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # AMBER to all subscribing states, lowered to GREEN with observers.
    "amber-to-green-observers": ({"tlp": "AMBER", "audience": helpers.audience(all_subscribing=True)},
                                 {"tlp": "GREEN", "audience": helpers.audience(all_subscribing=True, observers=True)}),
    # RED to Norway, lowered to AMBER for all subscribing states.
    "red-to-amber-all": ({"tlp": "RED", "audience": helpers.audience(countries=["NO"])},
                         {"tlp": "AMBER", "audience": helpers.audience(all_subscribing=True)}),
    # AMBER to Norway, widened (same marking) to all subscribing states and the secretariat.
    "amber-widened": ({"tlp": "AMBER", "audience": helpers.audience(countries=["NO"])},
                      {"tlp": "AMBER", "audience": helpers.audience(all_subscribing=True, secretariat=True)}),
}

HISTORY_USERS = ("dk-spoc", "dk-reader", "no-officer", "no-reader", "de-officer", "de-reader", "observer",
                 "secretariat", "admin")

# (may open version 1 and its file, may open version 2 and its file)
HISTORY_EXPECTED: dict[str, dict[str, tuple[bool, bool]]] = {
    "amber-to-green-observers": {
        "dk-spoc": (True, True), "dk-reader": (True, True), "no-officer": (True, True), "no-reader": (True, True),
        "de-officer": (True, True), "de-reader": (True, True),
        "observer": (False, True),  # version 1 was AMBER, not released to observers
        "secretariat": (False, False), "admin": (False, False),
    },
    "red-to-amber-all": {
        "dk-spoc": (True, True),
        "dk-reader": (False, True),  # readers never see RED, not even their own state's
        "no-officer": (True, True),
        "no-reader": (False, True),
        "de-officer": (False, True), "de-reader": (False, True),  # version 1 named Norway only
        "observer": (False, False), "secretariat": (False, False), "admin": (False, False),
    },
    "amber-widened": {
        "dk-spoc": (True, True), "dk-reader": (True, True), "no-officer": (True, True), "no-reader": (True, True),
        "de-officer": (False, True), "de-reader": (False, True),
        "observer": (False, False),
        "secretariat": (False, True),  # the secretariat flag came with version 2
        "admin": (False, False),
    },
}


def _history_user(make_user: Any, who: str) -> Any:
    if who == "observer":
        return make_user("officer", "CR")
    if who in ("secretariat", "admin"):
        return make_user(who, None)
    code, role = who.split("-")
    return make_user(role, code.upper())


@pytest.mark.parametrize("who", HISTORY_USERS)
@pytest.mark.parametrize("scenario", sorted(HISTORY_SCENARIOS))
def test_history_after_a_downgrade(app: Flask, make_user: Any, login_as: Any, scenario: str, who: str) -> None:
    import io

    from portal.attachments import service as attachments
    from portal.sharing import service

    helpers.add_observer_state(app, "CR", "Costa Rica")
    first, second = HISTORY_SCENARIOS[scenario]
    author = make_user("spoc", "DK")
    words = helpers.unique_word(), helpers.unique_word()
    # The first file is attached to the draft (version 1 releases it); a file added after
    # publication is an amendment of its own (a version with the marking and audience of the
    # version before it), so the second comes after version 2.
    item_id = helpers.make_item(app, author, "threat_notice", "draft", body=f"First {words[0]}", **first)
    files = []
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item is not None
        files.append(attachments.store_attachment(db.session, helpers.user(author), item, "one.pdf",
                                                  io.BytesIO(b"%PDF-1.7\n first")).id)
        service.publish(db.session, helpers.user(author), item)
        service.amend(db.session, helpers.user(author), item,
                      helpers.payload_for("threat_notice", body=f"Second {words[1]}", **second),
                      f"Changed: {words[1]}")
        files.append(attachments.store_attachment(db.session, helpers.user(author), item, "two.pdf",
                                                  io.BytesIO(b"%PDF-1.7\n second")).id)
        db.session.remove()

    client = login_as(app.test_client(), _history_user(make_user, who))
    v1, v2 = HISTORY_EXPECTED[scenario][who]
    problems = []

    def check(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            problems.append(f"{what}: got {actual!r}, expected {expected!r}")

    page = client.get(item_url("threat_notice", item_id))
    check("item page", page.status_code, 200 if v2 else 404)
    html = page.get_data(as_text=True) if v2 else ""
    for number, expected in ((1, v1), (2, v2)):
        url = item_url("threat_notice", item_id, f"/versions/{number}")
        response = client.get(url)
        check(f"version {number}", response.status_code, 200 if expected else 404)
        if expected:
            check(f"version {number} shows its text", words[number - 1] in response.get_data(as_text=True), True)
        check(f"version {number} listed", url in html, expected and v2)
        check(f"version {number} event listed", f"(version {number})" in html, expected and v2)
        attachment = files[number - 1]
        check(f"file {number} listed", f"/attachments/{attachment}" in html, expected and v2)
        check(f"file {number} download", client.get(f"/attachments/{attachment}").status_code,
              200 if expected else 404)
    check("text of version 1 on the item page", words[0] in html, False)
    assert not problems, f"{scenario} / {who}:\n  " + "\n  ".join(problems)


# --- the machine client: an officer of its state, within its scopes, never TLP:RED ----------
#
# An OAuth2 client of DK (origin), NO (audience) or DE (outside) with denials:read and
# denials:write, and, as "machine-publish", `publish` too. Expected answers, from DESIGN.md's
# machine-client paragraph: what an officer of its state sees, except anything TLP:RED (not
# even its own state's drafts); it drafts and edits like an officer; it releases only with
# `publish`; it cannot create a RED item (422).

MACHINE_ROLES = ("machine", "machine-publish")


def machine_sees(c: Case) -> bool:
    return c.tlp != "RED" and may_see(Case("officer", c.relation, c.status, c.tlp))


def machine_expected(c: Case, route: str) -> int:
    if not machine_sees(c):
        return 404
    origin, publish = c.relation == "origin", c.role == "machine-publish"
    return {
        "API get": 200,
        "API PATCH": 200 if origin and c.status == "draft" else 403,
        "API publish": 200 if origin and c.status == "draft" and publish else 403,
        "API withdraw": 200 if origin and c.status == "published" and publish else 403,
    }[route]


def machine_token(app: Flask, client: Any, spoc: Any, scopes: str) -> str:
    from portal.oauth import service as clients

    with app.app_context():
        registered, secret = clients.register_client(db.session, helpers.user(spoc), {
            "name": "Matrix system", "scopes": scopes.split(), "auth_method": "client_secret_basic", "days": 1})
        client_id = registered.client_id
        db.session.remove()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["access_token"])


@pytest.mark.parametrize("case", [
    pytest.param(Case(role, relation, status, tlp), id=f"{role}-{relation}-{status}-{tlp}")
    for role, relation, status, tlp in product(MACHINE_ROLES, RELATIONS, STATUSES, TLPS)])
def test_machine_client_matrix(app: Flask, client: Any, make_user: Any, case: Case) -> None:
    author = make_user("spoc", "DK")
    state = {"origin": "DK", "audience": "NO", "outside": "DE"}[case.relation]
    spoc = author if state == "DK" else make_user("spoc", state)
    scopes = "denials:read denials:write" + (" publish" if case.role == "machine-publish" else "")
    token = machine_token(app, client, spoc, scopes)
    word = helpers.unique_word()
    w = World(app, client, case, author, token, word)
    item_id = w.new_item()
    before = snapshot(app, item_id)
    problems = []

    response = client.get(api_url("denial"), headers=bearer(token))
    listed = [i["id"] for i in (response.get_json() or {}).get("items", [])]
    if listed != ([str(item_id)] if machine_sees(case) else []):
        problems.append(f"API list: {listed}")
    response = client.post(api_url("denial"), json=case_payload(case, word), headers=bearer(token))
    if response.status_code != (422 if case.tlp == "RED" else 201):
        problems.append(f"API create: got {response.status_code}")

    for route in ITEM_ROUTES:
        if not route.name.startswith("API"):
            continue
        expected = machine_expected(case, route.name)
        target = w.new_item() if expected == route.success else item_id
        response = request(w, route, target, "")
        if response.status_code != expected:
            problems.append(f"{route.name}: got {response.status_code}, expected {expected}")
    if snapshot(app, item_id) != before:
        problems.append("a refused request changed the item")
    assert not problems, f"{case}:\n  " + "\n  ".join(problems)
