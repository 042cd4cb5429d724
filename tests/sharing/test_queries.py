"""Lists, filters, pagination and search: right items, bounded SQL. SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from portal.extensions import db
from portal.models import Item
from tests.conftest import csrf_token
from tests.sharing import helpers
from tests.sharing.helpers import api_url, audience, bearer

# Queries one list, search, API list or dashboard request may issue, whatever the page size:
# session + user, the page's COUNT and rows, one selectin per relationship, the country
# list of the filter form, the notifications bell. Measured at 6-11; the bound leaves room.
QUERY_BOUND = 16


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = app.extensions["portal.db"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries_for(app: Flask, client: Any, url: str, **kwargs: Any) -> int:
    client.get(url, **kwargs)  # warm up: session touch, token last-used, caches
    with counting(app) as statements:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(statements)


def test_list_pages_issue_a_bounded_number_of_queries(app: Flask, make_user: Any, login_as: Any) -> None:
    officer = make_user("officer", "DK")
    spocs = {code: make_user("spoc", code) for code in ("NO", "FR", "DE")}
    for n in range(60):
        author = spocs[("NO", "FR", "DE")[n % 3]]
        # Denials with named audiences (one selectin each page), notices with categories.
        helpers.make_item(app, author, "denial", audience=audience(countries=["DK", "ES"]), title=f"Denial {n} qcount")
        if n < 12:
            helpers.make_item(app, author, "threat_notice", categories=["biometrics", "crowd_control"],
                              title=f"Notice {n} qcount")
    client = login_as(app.test_client(), officer)
    token = helpers.api_token(app, officer)

    few = queries_for(app, client, "/denials/", query_string={"per_page": 5})
    many = queries_for(app, client, "/denials/", query_string={"per_page": 50})
    assert few == many <= QUERY_BOUND, (few, many)
    assert queries_for(app, client, "/threat-notices/", query_string={"per_page": 12}) <= QUERY_BOUND

    few = queries_for(app, client, "/search", query_string={"q": "qcount", "per_page": 5})
    many = queries_for(app, client, "/search", query_string={"q": "qcount", "per_page": 50})
    assert few == many <= QUERY_BOUND, (few, many)

    few = queries_for(app, client, api_url("denial"), query_string={"per_page": 5}, headers=bearer(token))
    many = queries_for(app, client, api_url("denial"), query_string={"per_page": 50}, headers=bearer(token))
    assert few == many <= QUERY_BOUND, (few, many)

    full = queries_for(app, client, "/")
    assert full <= QUERY_BOUND
    # The dashboard does not grow with the data either: same count with one item or 72.
    other = make_user("officer", "EE")
    sparse = login_as(app.test_client(), other)
    helpers.make_item(app, make_user("spoc", "EE"), "denial", title="Only one")
    assert queries_for(app, sparse, "/") == full


@pytest.fixture
def dataset(app: Flask, make_user: Any) -> dict[str, Any]:
    """A small world whose every filter answer is known, seen by an officer of DK."""
    no, fr, dk = make_user("spoc", "NO"), make_user("spoc", "FR"), make_user("spoc", "DK")
    sec = make_user("secretariat")
    ids = {
        "notice_no": helpers.make_item(app, no, "threat_notice", severity="high", categories=["intrusion_software"],
                                       tlp="GREEN", title="Zero-click implant broker"),
        "notice_fr": helpers.make_item(app, fr, "threat_notice", severity="low",
                                       categories=["biometrics", "data_analytics"], tlp="AMBER",
                                       title="Face recognition for stadium crowds",
                                       body="Cameras sold with a watch-list service."),
        "denial_no": helpers.make_item(app, no, "denial", title="Interception denial", national_ref="NO-1"),
        "denial_fr_red": helpers.make_item(app, fr, "denial", tlp="RED", audience=audience(countries=["DK"]),
                                           title="Red denial", national_ref="FR-1",
                                           parties=[{"role": "broker", "name": "Quillfeather Trading",
                                                     "aliases": ["QFT Holdings"], "address": "Harbour Road 4",
                                                     "country": "AE"}]),
        "denial_dk_draft": helpers.make_item(app, dk, "denial", "draft", title="Our own draft", national_ref="DK-1"),
        "denial_no_withdrawn": helpers.make_item(app, no, "denial", "withdrawn", title="Withdrawn denial",
                                                 body="Details about marzipan shipments.", national_ref="NO-2"),
        "doc_sec": helpers.make_item(app, sec, "document", category="licensing_practice", title="Licensing guide"),
        "doc_no": helpers.make_item(app, no, "document", category="outreach", title="Outreach notes"),
        # Not visible to DK at all: must never turn up, whatever the filter.
        "hidden": helpers.make_item(app, no, "denial", audience=audience(countries=["FR"]), title="Hidden denial",
                                    national_ref="NO-3"),
    }
    with app.app_context():
        from portal.sharing import service

        item = db.session.get(Item, ids["denial_no"])
        service.revoke_denial(db.session, helpers.user(no), item, "Court ruling.")
        for key, when in (("denial_no", datetime(2025, 1, 15, 10, tzinfo=UTC)),
                          ("denial_fr_red", datetime(2025, 6, 1, 23, 30, tzinfo=UTC)),
                          ("denial_no_withdrawn", datetime(2024, 3, 1, tzinfo=UTC)),
                          ("hidden", datetime(2025, 1, 16, tzinfo=UTC))):
            db.session.get(Item, ids[key]).published_at = when
        db.session.commit()
        db.session.remove()
    viewer = make_user("officer", "DK")
    return {"ids": ids, "viewer": viewer, "token": helpers.api_token(app, viewer)}


def listed(app: Flask, data: dict[str, Any], kind: str, **params: Any) -> set[str]:
    response = app.test_client().get(api_url(kind), query_string=params, headers=bearer(data["token"]))
    assert response.status_code == 200
    names = {str(v): k for k, v in data["ids"].items()}
    return {names[i["id"]] for i in response.get_json()["items"]}


FILTERS = [
    ("threat_notice", {}, {"notice_no", "notice_fr"}),
    ("threat_notice", {"state": "NO"}, {"notice_no"}),
    ("threat_notice", {"state": "no"}, {"notice_no"}),
    ("threat_notice", {"category": "biometrics"}, {"notice_fr"}),
    ("threat_notice", {"category": "data_analytics", "severity": "low"}, {"notice_fr"}),
    ("threat_notice", {"severity": "high"}, {"notice_no"}),
    ("threat_notice", {"tlp": "AMBER"}, {"notice_fr"}),
    ("denial", {}, {"denial_no", "denial_fr_red", "denial_dk_draft", "denial_no_withdrawn"}),
    ("denial", {"tlp": "RED"}, {"denial_fr_red"}),
    ("denial", {"state": "FR"}, {"denial_fr_red"}),
    ("denial", {"status": "draft"}, {"denial_dk_draft"}),
    ("denial", {"status": "withdrawn"}, {"denial_no_withdrawn"}),
    ("denial", {"status": "published"}, {"denial_no", "denial_fr_red"}),
    ("denial", {"status": "revoked"}, {"denial_no"}),
    ("denial", {"status": "active"}, {"denial_fr_red"}),
    ("denial", {"from": "2025-01-01", "to": "2025-01-31"}, {"denial_no"}),
    ("denial", {"from": "2025-06-01", "to": "2025-06-01"}, {"denial_fr_red"}),  # "to" includes its whole day
    ("denial", {"from": "2025-01-16"}, {"denial_fr_red"}),
    ("denial", {"to": "2024-12-31"}, {"denial_no_withdrawn"}),
    ("document", {"category": "outreach"}, {"doc_no"}),
    ("document", {"state": "SECRETARIAT"}, {"doc_sec"}),
    # Unknown values are ignored, never errors.
    ("denial", {"tlp": "PURPLE", "status": "bogus", "from": "yesterday", "to": "2025-13-45", "state": "Denmark"},
     {"denial_no", "denial_fr_red", "denial_dk_draft", "denial_no_withdrawn"}),
    ("denial", {"q": "Quillfeather"}, {"denial_fr_red"}),  # a party's name
    ("denial", {"q": "QFT Holdings"}, {"denial_fr_red"}),  # an alias
    ("threat_notice", {"q": "watch-list"}, {"notice_fr"}),  # the body
    ("denial", {"q": "marzipan"}, set()),  # a withdrawn body is not searchable
    ("denial", {"q": "withdrawn", "status": "withdrawn"}, {"denial_no_withdrawn"}),  # its title is
    ("denial", {"q": "Hidden"}, set()),  # invisible stays invisible
]


@pytest.mark.parametrize(("kind", "params", "expected"), FILTERS,
                         ids=[f"{k}-{'&'.join(f'{a}={b}' for a, b in p.items()) or 'all'}" for k, p, _ in FILTERS])
def test_filters(app: Flask, dataset: dict[str, Any], kind: str, params: dict[str, str], expected: set[str]) -> None:
    assert listed(app, dataset, kind, **params) == expected


def test_filters_on_the_pages(app: Flask, dataset: dict[str, Any], login_as: Any) -> None:
    """The pages pass their filters to the same query and keep them selected in the form."""
    ids = dataset["ids"]
    client = login_as(app.test_client(), dataset["viewer"])
    html = client.get("/threat-notices/", query_string={"category": "biometrics", "severity": "low"}
                      ).get_data(as_text=True)
    assert f"/threat-notices/{ids['notice_fr']}" in html and f"/threat-notices/{ids['notice_no']}" not in html
    assert '<option value="biometrics" selected>' in html
    html = client.get("/denials/", query_string={"tlp": "RED"}).get_data(as_text=True)
    assert f"/denials/{ids['denial_fr_red']}" in html and f"/denials/{ids['denial_no']}" not in html
    html = client.get("/denials/", query_string={"state": "ZZ"}).get_data(as_text=True)
    assert "Nothing matches these filters" in html
    # The export follows the list's filters, still without TLP:RED.
    csv_text = client.get("/denials/export.csv", query_string={"state": "NO"}).get_data(as_text=True)
    assert str(ids["denial_no"]) in csv_text and str(ids["denial_fr_red"]) not in csv_text
    csv_text = client.get("/denials/export.csv", query_string={"tlp": "RED"}).get_data(as_text=True)
    assert csv_text.strip().count("\n") == 1  # the marking line and the header only


def test_pagination(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "NO")
    made = [helpers.make_item(app, spoc, "denial", title=f"Paged {n}") for n in range(7)]
    with app.app_context():  # distinct publication times, newest first = reverse creation
        for n, item_id in enumerate(made):
            db.session.get(Item, item_id).published_at = datetime(2025, 1, 1 + n, tzinfo=UTC)
        db.session.commit()
        db.session.remove()
    viewer = make_user("reader", "DK")
    token = helpers.api_token(app, viewer)
    newest_first = [str(i) for i in reversed(made)]

    def page(**params: Any) -> dict[str, Any]:
        response = app.test_client().get(api_url("denial"), query_string=params, headers=bearer(token))
        assert response.status_code == 200
        return response.get_json()

    seen = []
    for number in (1, 2, 3):
        body = page(per_page=3, page=number)
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (number, 3, 7, 3)
        seen += [i["id"] for i in body["items"]]
    assert seen == newest_first
    assert page(per_page=3, page=99)["page"] == 3  # past the end: the last page
    assert page(per_page=3, page="abc")["page"] == 1
    assert page(per_page=1000)["per_page"] == 100
    assert page(per_page=-4)["per_page"] == 25
    client = login_as(app.test_client(), viewer)
    html = client.get("/denials/", query_string={"per_page": 3, "page": 2, "tlp": "AMBER"}).get_data(as_text=True)
    assert "Page 2 of 3 (7 in all)" in html
    assert "page=1" in html and "page=3" in html and "tlp=AMBER" in html
    assert [i for i in newest_first[3:6] if f"/denials/{i}" in html] == newest_first[3:6]


# Words are extracted from the query and all of them must match; operators are never syntax.
# (query, whether the IMSI denial must be found: its words are all in it; None: no words, no text filter)
HOSTILE_QUERIES = [
    ('"', None), ('"unbalanced', False), ("*", None), ("IMSI*", True), ("NEAR(IMSI catchers)", False),
    ("IMSI NEAR catchers", False), ("IMSI AND", None), ("AND OR NOT", None), ("(", None), ("(IMSI", True),
    (")", None), ("-IMSI", True), ("- -", None), ("IMSI -catchers", True), ("title:IMSI", False),
    ("^IMSI", True), ("IMSI:*", True), ("'; DROP TABLE items; --", False), ("%", None), ("_", None),
    ("\\", None), ("{IMSI}", True), ("[IMSI]", True), ("IMSI OR", None), ("\u0000", None),
    ("ÆØÅ æøå", False), ("日本語", False), ("a" * 500, False), (" ".join(["word"] * 50), False),
    ("!@#$%^&*()", None), ("IMSI & catchers | x", False), ("<->", None), ("IMSI <-> catchers", True),
    ("!IMSI", True), ("+IMSI", True), ('"IMSI catchers"', True), ("imsi", True),
]


@pytest.mark.parametrize(("query", "found"), HOSTILE_QUERIES, ids=range(len(HOSTILE_QUERIES)))
def test_search_syntax_never_errors(app: Flask, make_user: Any, login_as: Any, query: str, found: bool | None) -> None:
    spoc = make_user("spoc", "DK")
    item_id = helpers.make_item(app, spoc, "denial")  # "two IMSI catchers" in its body
    client = login_as(app.test_client(), spoc)
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    response = client.get("/denials/", query_string={"q": query})
    assert response.status_code == 200
    response = app.test_client().get(api_url("denial"), query_string={"q": query},
                                     headers=bearer(helpers.api_token(app, spoc)))
    assert response.status_code == 200
    if found is not None:
        assert (str(item_id) in [i["id"] for i in response.get_json()["items"]]) is found, query


def test_search_finds_words_across_kinds(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc, officer = make_user("spoc", "NO"), make_user("officer", "DK")
    denial = helpers.make_item(app, spoc, "denial", title="Thermal imaging cameras",
                               parties=[{"role": "consignee", "name": "Grimsditch Logistics", "aliases": [],
                                         "address": "Pier 9", "country": "AE"}])
    notice = helpers.make_item(app, spoc, "threat_notice", body="A vendor of thermal imaging for border guards.")
    document = helpers.make_item(app, spoc, "document", summary="Screening thermal equipment exports.")
    client = login_as(app.test_client(), officer)
    html = client.get("/search", query_string={"q": "thermal"}).get_data(as_text=True)
    assert "3 results for" in html
    for kind, item_id in (("denial", denial), ("threat_notice", notice), ("document", document)):
        assert helpers.item_url(kind, item_id) in html
    html = client.get("/search", query_string={"q": "grimsditch"}).get_data(as_text=True)  # any case
    assert "1 result for" in html and helpers.item_url("denial", denial) in html
    html = client.get("/search", query_string={"q": "thermal guards"}).get_data(as_text=True)  # all words
    assert "1 result for" in html and helpers.item_url("threat_notice", notice) in html
    html = client.get("/search", query_string={"q": ""}).get_data(as_text=True)
    assert "result" not in html.split("<h1>Search</h1>", 1)[1]


def test_search_index_follows_amendments(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "NO")
    item_id = helpers.make_item(app, spoc, "denial", body="Originally about periscopes.")
    client = login_as(app.test_client(), spoc)
    response = client.post(helpers.item_url("denial", item_id, "/amend"), data=helpers.to_form(
        "denial", helpers.denial_payload(body="Now about hydrophones."), csrf_token=csrf_token(client),
        change_note="Corrected the goods."))
    assert response.status_code == 302
    reader = login_as(app.test_client(), make_user("reader", "DK"))
    assert "Nothing you can see matches" in reader.get("/search?q=periscopes").get_data(as_text=True)
    assert str(item_id) in reader.get("/search?q=hydrophones").get_data(as_text=True)


def test_unknown_item_ids_are_404(app: Flask, make_user: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("spoc", "DK"))
    assert client.get(f"/denials/{uuid.uuid4()}").status_code == 404
    assert client.get("/denials/not-a-uuid").status_code == 404
    assert client.get("/weapons/").status_code == 404
    assert client.get("/denials/export.xml").status_code == 404


def test_search_results_are_newest_first_across_kinds(app: Flask, make_user: Any, login_as: Any) -> None:
    """Search pages in the list order (newest first, all kinds together), not by relevance: the
    database walks its date index and stops at the page, whatever the number of matches."""
    spoc = make_user("spoc", "NO")
    word = helpers.unique_word()
    made = [helpers.make_item(app, spoc, kind, title=f"Ordered {word} {n}")
            for n, kind in enumerate(("denial", "threat_notice", "document", "denial", "threat_notice"))]
    published = {item_id: datetime(2025, 3, day, tzinfo=UTC) for item_id, day in zip(made, (4, 1, 5, 2, 3))}
    with app.app_context():
        for item_id, at in published.items():
            db.session.get(Item, item_id).published_at = at
        db.session.commit()
        db.session.remove()
    newest_first = [str(i) for i in sorted(made, key=lambda i: published[i], reverse=True)]
    client = login_as(app.test_client(), make_user("reader", "DK"))
    seen: list[str] = []
    for number in (1, 2, 3):
        html = client.get("/search", query_string={"q": word, "per_page": 2, "page": number}).get_data(as_text=True)
        seen += sorted((i for i in newest_first if i in html), key=html.index)
    assert seen == newest_first
