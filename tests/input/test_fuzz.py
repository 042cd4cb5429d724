"""Property-based tests: arbitrary JSON and strings never make the portal answer 5xx.

Every API write endpoint (found by walking app.url_map, so a new one is covered or this test
fails until it is taught the new URL's parameters) gets arbitrary JSON values, as whole bodies
and as the value of each field it knows; every list, search and export route (pages and API)
gets arbitrary values for its filter and paging parameters. An API answer of 400 or more must
carry the error envelope {"error": {"code", "message", "fields"?}}.

Profiles are in tests/conftest.py: "ci" (default, few derandomised examples) and "long"
(`--hypothesis-profile=long`).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.routing import AnyConverter, Rule

from portal import create_app
from portal.extensions import db
from portal.models import ItemKind, User
from portal.sharing import queries
from tests.meetings.conftest import new_meeting
from tests.sharing import helpers
from tests.sharing.helpers import bearer, payload_for

WRITE_METHODS = {"POST", "PATCH", "PUT"}

# Strings that have broken something before, or sit on a boundary, mixed into the random ones.
NASTY = ["", " ", "\ud800", "\udfff", "a\ud800b", "\r\n", "x\r\nBcc: a@example.org", "\x00", "\x1b[2J", "\u2028",
         "\x85", "\t", "9999-12-31", "0001-01-01", "2026-02-30", "10000-01-01", "-1", "0", str(2**63), "9" * 40,
         "AMBER", "RED", "TLP:RED", "amber+strict", "DK", "dk", "SECRETARIAT", "end_user", "denial", "high",
         "published", "withdrawn", "active", "past", "NaN", "null", "[]", "{}", "%00", "../", "'; DROP TABLE items;--",
         "<script>alert(1)</script>", "*", "(", "\"", "\\", "ﷺ" * 50, "😀" * 20, "x" * 5000, "D\x00", "\x00A"]

# Text with every code point, lone surrogates and control characters included.
ANY_TEXT = st.one_of(st.sampled_from(NASTY), st.text(st.characters(exclude_categories=()), max_size=40))
URL_TEXT = st.one_of(st.sampled_from([s for s in NASTY if not any(0xD800 <= ord(c) <= 0xDFFF for c in s)]),
                     st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
NUMBERS = st.one_of(st.integers(), st.integers(min_value=-(2**200), max_value=2**200),
                    st.floats(allow_nan=True, allow_infinity=True))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, ANY_TEXT)
# Values of the wrong shape for nearly every field, drawn as often as the random ones.
ODD_VALUES = st.sampled_from([[], {}, ["AMBER"], {"value": "RED"}, [["x"]], [{"a": None}], 2**70, -1, 0.5, True,
                              float("nan"), "\ud800", "x\r\ny", "", None])


def json_values(keys: st.SearchStrategy[str] = ANY_TEXT) -> st.SearchStrategy[Any]:
    return st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(keys, inner, max_size=4)), max_leaves=12)


def known_fields() -> list[str]:
    """Every field an item payload, an audience or a reason has."""
    names = {"reason", "change_note"}
    for kind in ItemKind:
        names |= set(payload_for(kind))
    return sorted(names)


FIELDS = known_fields()
AUDIENCE_FIELDS = ["all_subscribing", "countries", "secretariat", "observers"]
PARTY_FIELDS = ["role", "name", "aliases", "address", "country"]


# --- the endpoints, from the URL map ----------------------------------------------------------

def _rules(predicate: Any) -> list[Rule]:
    app = create_app("testing", DATABASE_URL="sqlite://")
    return sorted((r for r in app.url_map.iter_rules() if predicate(r)), key=lambda r: (r.rule, r.endpoint))


def _write_targets() -> list[tuple[str, str, str]]:
    """(endpoint, method, kind slug) for every API write endpoint and each item kind it serves."""
    targets = []
    for rule in _rules(lambda r: r.rule.startswith("/api/") and bool((r.methods or set()) & WRITE_METHODS)):
        unknown = set(rule.arguments) - {"kind_slug", "kind", "item_id", "consultation_id"}
        assert not unknown, f"teach test_fuzz how to fill {unknown} in {rule.rule}"
        # Item routes are fuzzed for each kind; the others (screenings, consultations) once.
        slugs = helpers.KIND_SLUG.values() if {"kind_slug", "kind"} & set(rule.arguments) else ["denials"]
        for method in sorted((rule.methods or set()) & WRITE_METHODS):
            for slug in slugs:
                targets.append((rule.endpoint, method, slug))
    return targets


LIST_ARGUMENTS = {"kind", "kind_slug", "fmt"}


def _list_targets() -> list[tuple[str, dict[str, str]]]:
    """(endpoint, view arguments) for every GET page or API list without an object in its URL."""
    targets = []
    for rule in _rules(lambda r: "GET" in (r.methods or set()) and set(r.arguments) <= LIST_ARGUMENTS
                       and r.endpoint != "static"):
        if "kind" in rule.arguments or "kind_slug" in rule.arguments:
            for kind in ItemKind:
                slug = helpers.KIND_SLUG[kind.value]
                converter = rule._converters.get("kind_slug")
                if isinstance(converter, AnyConverter) and slug not in converter.items:
                    continue  # a route for some kinds only (the STIX exports: notices and denials)
                args = {"kind": kind} if "kind" in rule.arguments else {"kind_slug": slug}
                targets.append((rule.endpoint, args))
        elif "fmt" in rule.arguments:
            targets += [(rule.endpoint, {"fmt": "csv"}), (rule.endpoint, {"fmt": "json"})]
        else:
            targets.append((rule.endpoint, {}))
    return targets


WRITE_TARGETS = _write_targets()
LIST_TARGETS = _list_targets()

# Every filter and paging parameter a list, search or export reads, and names that collide with
# url_for's own (a list page builds links from its query).
QUERY_NAMES = sorted({*queries.FILTER_NAMES, "page", "per_page", "when", "kind", "overdue", "action", "verify",
                      "fmt", "back", "next", "_external", "_anchor", "_scheme", "_method", "item_id", "kind_slug"})


def test_the_walk_finds_the_endpoints() -> None:
    assert {e for e, _, _ in WRITE_TARGETS} >= {"api.create_item", "api.patch_item", "api.publish_item",
                                                "api.withdraw_item"}
    assert {e for e, _ in LIST_TARGETS} >= {"sharing.index", "sharing.search", "sharing.export", "api.list_items",
                                            "meetings.index", "meetings.tracker", "users.index", "admin.audit_log",
                                            "notifications.index"}


# --- the world the requests run in ------------------------------------------------------------

@dataclass
class World:
    app: Flask
    tokens: dict[str, str]
    clients: dict[str, Any]
    drafts: dict[str, uuid.UUID]
    published: dict[str, uuid.UUID]
    consultation: uuid.UUID


@pytest.fixture
def world(app: Flask, make_user: Any, login_as: Any) -> World:
    spoc, sec = make_user("spoc", "DK"), make_user("secretariat", None)
    admin, reader = make_user("admin", None), make_user("reader", "NO")
    drafts, published = {}, {}
    for kind in ItemKind:
        author = sec if kind is ItemKind.DOCUMENT else spoc
        slug = helpers.KIND_SLUG[kind.value]
        drafts[slug] = helpers.make_item(app, spoc, kind, "draft")
        published[slug] = helpers.make_item(app, author, kind, "published", audience=helpers.audience(
            all_subscribing=True, secretariat=True))
        helpers.make_item(app, author, kind, "published")  # two, so per_page=1 shows the pager
    new_meeting(app, sec)
    consulting = make_user("spoc", "FR")  # consults DK about its published denial
    with app.app_context():
        from portal.consultations import service as consultations
        from tests.consultations.conftest import transaction

        consultation = consultations.open_consultation(
            db.session, db.session.get(User, consulting.id), transaction(published["denials"])).id
        db.session.remove()
    tokens = {"spoc": helpers.api_token(app, spoc), "reader": helpers.api_token(app, reader)}
    clients = {name: login_as(app.test_client(), account)
               for name, account in (("spoc", spoc), ("secretariat", sec), ("admin", admin), ("reader", reader))}
    return World(app, tokens, clients, drafts, published, consultation)


def _url(world: World, endpoint: str, slug: str, which: str) -> str:
    from flask import url_for

    rule = next(r for r in world.app.url_map.iter_rules() if r.endpoint == endpoint)
    values: dict[str, Any] = {}
    if "kind_slug" in rule.arguments:
        values["kind_slug"] = slug
    if "kind" in rule.arguments:
        values["kind"] = slug
    if "item_id" in rule.arguments:
        values["item_id"] = (world.drafts if which == "draft" else world.published)[slug]
    if "consultation_id" in rule.arguments:
        values["consultation_id"] = world.consultation
    with world.app.test_request_context():
        return url_for(endpoint, **values)


def _send(world: World, method: str, url: str, body: bytes, token: str = "spoc") -> Any:
    response = world.app.test_client().open(url, method=method, data=body, content_type="application/json",
                                            headers=bearer(world.tokens[token]))
    _check_api_answer(response, f"{method} {url} {body[:200]!r}")
    return response


def _check_api_answer(response: Any, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert response.is_json, (what, response.status_code, response.get_data(as_text=True)[:200])
        error = response.get_json().get("error")
        assert isinstance(error, dict), (what, response.get_json())
        assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str) and error["message"]
        assert set(error) <= {"code", "message", "fields"}, error
        if "fields" in error:
            assert isinstance(error["fields"], dict) and all(isinstance(v, str) for v in error["fields"].values())


def _dumps(value: Any) -> bytes:
    # ensure_ascii escapes lone surrogates as \udxxx, which is how a client would send them.
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


# --- the properties ---------------------------------------------------------------------------
# One test per property draws its endpoint too: the world is built once per test, and the
# profile's example count is given to each endpoint (times the number of endpoints).

def _examples(targets: list[Any]) -> settings:
    return settings(max_examples=settings.default.max_examples * len(targets))


@_examples(WRITE_TARGETS)
@given(target=st.sampled_from(WRITE_TARGETS), which=st.sampled_from(["draft", "live"]),
       body=st.one_of(json_values(), json_values(st.sampled_from(FIELDS))))
def test_any_json_body_is_never_a_server_error(world: World, target: tuple[str, str, str], which: str,
                                               body: Any) -> None:
    endpoint, method, slug = target
    _send(world, method, _url(world, endpoint, slug, which), _dumps(body))


def _field_paths(kind: ItemKind) -> list[tuple[str, ...]]:
    """Where a value can go in a payload of `kind`: each field, each audience flag, each cell of a party or entry."""
    return ([(name,) for name in FIELDS] + [("audience", name) for name in AUDIENCE_FIELDS]
            + [("parties", name) for name in PARTY_FIELDS] + [("control_entries", name) for name in ("regime", "code")])


def _put(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set `value` at `path`; a container an earlier value replaced is valid again first."""
    if len(path) == 1:
        payload[path[0]] = value
        return
    container, name = path
    current = payload.get(container)
    if container == "audience":
        base = current if isinstance(current, dict) else helpers.audience(all_subscribing=True)
        payload["audience"] = {**base, name: value}
        return
    default = ({"role": "end_user", "name": "Golden Lotus Trading", "aliases": [], "address": "", "country": "MM"}
               if container == "parties" else {"regime": "Wassenaar", "code": "5A001.j"})
    base = current[0] if isinstance(current, list) and current and isinstance(current[0], dict) else default
    payload[container] = [{**base, name: value}]


@_examples(WRITE_TARGETS)
@given(target=st.sampled_from(WRITE_TARGETS), which=st.sampled_from(["draft", "live"]), data=st.data(),
       value=st.one_of(ODD_VALUES, json_values()))
def test_any_value_of_any_field_is_never_a_server_error(world: World, target: tuple[str, str, str], which: str,
                                                        data: Any, value: Any) -> None:
    endpoint, method, slug = target
    kind = next(ItemKind(k) for k, s in helpers.KIND_SLUG.items() if s == slug)
    url = _url(world, endpoint, slug, which)
    paths = _field_paths(kind)

    def valid() -> dict[str, Any]:
        payload = payload_for(kind, national_ref=f"DK-{uuid.uuid4().hex[:10]}")
        payload["reason"] = "Sent to the wrong audience."
        return payload

    # The value in every field at once (validation reports every field, so none hides another) ...
    everywhere = valid()
    for path in paths:
        _put(everywhere, path, value)
    _send(world, method, url, _dumps(everywhere))
    # ... and in one field of an otherwise valid payload, so it gets past validation to the service.
    one = valid()
    _put(one, data.draw(st.sampled_from(paths)), value)
    _send(world, method, url, _dumps(one))


RAW_BODIES = [b"[" * 100_000, b'{"a":' * 50_000, b"\xff\xfe\x00", b"1" * 5000, b'"\\ud800"', b'{"title": "\\ud800"}',
              b"NaN", b'{"tlp": ["RED"]}', b'{"audience": {"countries": "DK"}, "tlp": "RED"}']


def test_odd_raw_bodies_are_never_a_server_error(world: World) -> None:
    for raw in RAW_BODIES:
        for endpoint, method, slug in WRITE_TARGETS:
            for which in ("draft", "live"):
                _send(world, method, _url(world, endpoint, slug, which), raw)


@_examples(LIST_TARGETS)
@given(target=st.sampled_from(LIST_TARGETS), who=st.sampled_from(["spoc", "secretariat", "admin", "reader"]),
       params=st.dictionaries(st.sampled_from(QUERY_NAMES), st.one_of(URL_TEXT, st.binary(max_size=12)), max_size=5),
       value=st.one_of(URL_TEXT, st.binary(max_size=12)))
def test_any_filter_value_is_never_a_server_error(world: World, target: tuple[str, dict[str, Any]], who: str,
                                                  params: dict[str, str | bytes], value: str | bytes) -> None:
    endpoint, view_args = target
    _get_list(world, endpoint, view_args, who, params)
    _get_list(world, endpoint, view_args, who, dict.fromkeys(QUERY_NAMES, value))  # one value in every parameter


def _get_list(world: World, endpoint: str, view_args: dict[str, Any], who: str, params: dict[str, str | bytes]) -> None:
    from flask import url_for

    with world.app.test_request_context():
        path = url_for(endpoint, **view_args)
    # Built by hand so raw bytes (not UTF-8) reach the server as a client could send them.
    query = "&".join(f"{quote(name)}={quote_from_bytes(value) if isinstance(value, bytes) else quote(value)}"
                     for name, value in params.items())
    if path.startswith("/api/"):
        response = world.app.test_client().get(path, query_string=query,
                                               headers=bearer(world.tokens["reader" if who == "reader" else "spoc"]))
        _check_api_answer(response, f"GET {path}?{query}")
    else:
        response = world.clients[who].get(path, query_string=query)
        assert response.status_code < 500, (f"GET {path}?{query} as {who}", response.status_code)
