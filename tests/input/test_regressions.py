"""Bad input answers 4xx, never 500 (security review, findings 4 and 7). SQLite and PostgreSQL.

Each test here failed before the fix: enums sent as lists or objects, dates at the edge of the
calendar, version numbers past 64 bits, JSON nested too deep or too large, lone surrogates,
control characters in one-line fields, and TLP:RED with nobody named but the originator.
"""
from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Item, Meeting
from tests.api.test_api import assert_error
from tests.conftest import post_form
from tests.meetings.conftest import form as meeting_form
from tests.meetings.conftest import new_meeting
from tests.meetings.conftest import payload as meeting_payload
from tests.sharing import helpers
from tests.sharing.helpers import api_url, audience, bearer, item_url, payload_for, to_form


def api(app: Flask, method: str, url: str, token: str, **kwargs: Any) -> Any:
    headers = {**bearer(token), **kwargs.pop("headers", {})}
    return app.test_client().open(url, method=method, headers=headers, **kwargs)


def item_count(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Item)) or 0
        db.session.remove()
    return count


ENUM_FIELDS = [("denial", "tlp"), ("denial", "decision_type"), ("denial", "activity"), ("denial", "basis"),
               ("threat_notice", "severity"), ("document", "category"), ("threat_notice", "tlp")]


@pytest.mark.parametrize(("kind", "name"), ENUM_FIELDS)
@pytest.mark.parametrize("value", [["AMBER"], {"a": 1}, 3, True], ids=["list", "object", "number", "bool"])
def test_an_enum_sent_as_a_list_or_object_is_422(app: Flask, make_user: Any, kind: str, name: str, value: Any) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    assert_error(api(app, "POST", api_url(kind), token, json=payload_for(kind, **{name: value})), 422,
                 "validation_failed", {name})
    draft = helpers.make_item(app, spoc, kind, "draft")
    assert_error(api(app, "PATCH", api_url(kind, draft), token, json={name: value}), 422, "validation_failed", {name})
    assert item_count(app) == 1


@pytest.mark.parametrize("role", [["end_user"], {"x": "end_user"}])
def test_a_party_role_sent_as_a_list_or_object_is_422(app: Flask, make_user: Any, role: Any) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    parties = [{"role": role, "name": "Golden Lotus Trading", "aliases": [], "address": "", "country": "MM"}]
    assert_error(api(app, "POST", api_url("denial"), token, json=payload_for("denial", parties=parties)), 422,
                 "validation_failed", {"parties[0].role"})
    draft = helpers.make_item(app, spoc, "denial", "draft")
    assert_error(api(app, "PATCH", api_url("denial", draft), token, json={"parties": parties}), 422,
                 "validation_failed", {"parties[0].role"})


@pytest.mark.parametrize("dates", [{"to": "9999-12-31"}, {"from": "9999-12-31", "to": "9999-12-31"},
                                   {"from": "0001-01-01", "to": "0001-01-01"}, {"from": "0001-01-01"}])
def test_dates_at_the_edge_of_the_calendar_filter_without_error(app: Flask, make_user: Any, login_as: Any,
                                                                 dates: dict[str, str]) -> None:
    spoc = make_user("spoc", "DK")
    helpers.make_item(app, spoc, "denial")
    client = login_as(app.test_client(), spoc)
    token = helpers.api_token(app, spoc)
    expected = 1 if dates.get("to") == "9999-12-31" and "from" not in dates or dates == {"from": "0001-01-01"} else 0
    for url, extra in (("/denials/", {}), ("/search", {"q": "IMSI"}), ("/denials/export.csv", {}),
                       ("/denials/export.json", {})):
        response = client.get(url, query_string={**dates, **extra})
        assert response.status_code == 200, (url, response.status_code)
    body = api(app, "GET", api_url("denial"), token, query_string=dates)
    assert body.status_code == 200 and body.get_json()["total"] == expected
    export = client.get("/denials/export.json", query_string=dates).get_json()
    assert len(export["denials"]) == expected


HUGE_NUMBERS = [str(2**63), str(2**64 + 1), "9" * 30, "9" * 5000, str(2**31)]


@pytest.mark.parametrize("number", HUGE_NUMBERS, ids=["2^63", "2^64+1", "30-digits", "5000-digits", "2^31"])
def test_version_numbers_past_the_column_are_404(app: Flask, people: Any, make_user: Any, login_as: Any,
                                                 number: str) -> None:
    spoc = make_user("spoc", "DK")
    item_id = helpers.make_item(app, spoc, "denial")
    meeting_id = new_meeting(app, people.sec)
    client = login_as(app.test_client(), people.sec)
    assert login_as(app.test_client(), spoc).get(item_url("denial", item_id, "/versions/1")).status_code == 200
    for url in (item_url("denial", item_id, f"/versions/{number}"),
                f"/meetings/{meeting_id}/agenda/versions/{number}", f"/meetings/{meeting_id}/minutes/versions/{number}"):
        response = (login_as(app.test_client(), spoc) if url.startswith("/denials") else client).get(url)
        assert response.status_code == 404, (url[:80], response.status_code)


def test_json_nested_too_deep_is_400(app: Flask, make_user: Any) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    draft = helpers.make_item(app, spoc, "denial", "draft")
    deep = b'{"title": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    for method, url in (("POST", api_url("denial")), ("PATCH", api_url("denial", draft))):
        response = api(app, method, url, token, data=deep, content_type="application/json")
        assert response.status_code in (400, 413), response.status_code
        assert_error(response, response.status_code)
    assert item_count(app) == 1


def test_json_far_larger_than_an_item_is_413(app: Flask, make_user: Any) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    app.config["API_MAX_JSON_BYTES"] = 64 * 1024
    big = payload_for("denial", body="x" * (70 * 1024))
    assert_error(api(app, "POST", api_url("denial"), token, json=big), 413, "too_large")
    # Sent in chunks, without a length (the server says the stream ends), it is cut off at the limit all the same.
    response = api(app, "POST", api_url("denial"), token, input_stream=io.BytesIO(json.dumps(big).encode()),
                   environ_overrides={"wsgi.input_terminated": True},
                   headers={**bearer(token), "Transfer-Encoding": "chunked", "Content-Type": "application/json"})
    assert_error(response, 413, "too_large")
    assert item_count(app) == 0
    assert api(app, "POST", api_url("denial"), token, json=payload_for("denial", body="x" * 1000)).status_code == 201
    assert app.config["ATTACHMENT_MAX_SIZE"] > app.config["API_MAX_JSON_BYTES"]


def test_the_default_json_limit_is_about_a_megabyte(app: Flask) -> None:
    assert 512 * 1024 <= app.config["API_MAX_JSON_BYTES"] <= 4 * 1024 * 1024


TEXT_FIELDS = [("denial", "title"), ("denial", "summary"), ("denial", "body"), ("denial", "national_ref"),
               ("denial", "item_description"), ("denial", "rationale"), ("denial", "end_use"),
               ("threat_notice", "title"), ("document", "body")]


@pytest.mark.parametrize(("kind", "name"), TEXT_FIELDS)
def test_a_lone_surrogate_is_a_field_error(app: Flask, make_user: Any, kind: str, name: str) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    bad = payload_for(kind, **{name: "Ministry \ud800 of Interior"})
    assert_error(api(app, "POST", api_url(kind), token, json=bad), 422, "validation_failed", {name})
    draft = helpers.make_item(app, spoc, kind, "draft")
    assert_error(api(app, "PATCH", api_url(kind, draft), token, json={name: "\udfff"}), 422, "validation_failed", {name})
    assert item_count(app) == 1


def test_surrogates_in_nested_fields_and_reasons_are_refused(app: Flask, make_user: Any) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    party = {"role": "end_user", "name": "Special Branch", "aliases": ["SB\ud800"], "address": "x", "country": "MM"}
    assert_error(api(app, "POST", api_url("denial"), token, json=payload_for("denial", parties=[party])), 422,
                 fields={"parties[0].aliases"})
    assert_error(api(app, "POST", api_url("threat_notice"), token,
                     json=payload_for("threat_notice", entities=["Example \udc00 Ltd"])), 422, fields={"entities"})
    live = helpers.make_item(app, spoc, "denial")
    assert_error(api(app, "POST", api_url("denial", live, "/withdraw"), token, json={"reason": "gone \ud800"}), 422,
                 fields={"reason"})
    assert helpers.load_item(app, live).status.value == "published"


ONE_LINE = ["Denial\r\nBcc: victim@example.org", "Denial\nsecond line", "Denial\rreturn", "Nul\x00byte",
            "Escape\x1b[31m", "Delete\x7f", "Next\x85line", "Separator\u2028line", "Tab\tinside"]


@pytest.mark.parametrize("bad", ONE_LINE, ids=["crlf", "lf", "cr", "nul", "esc", "del", "nel", "u2028", "tab"])
def test_control_characters_in_one_line_api_fields_are_field_errors(app: Flask, make_user: Any, bad: str) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    party = {"role": "end_user", "name": bad, "aliases": [bad], "address": bad, "country": "MM"}
    payload = payload_for("denial", title=bad, national_ref=bad, parties=[party],
                          control_entries=[{"regime": bad, "code": bad}])
    response = api(app, "POST", api_url("denial"), token, json=payload)
    assert_error(response, 422, "validation_failed",
                 {"title", "national_ref", "parties[0].name", "parties[0].aliases", "parties[0].address",
                  "control_entries[0].regime", "control_entries[0].code"})
    assert "one line" in response.get_json()["error"]["fields"]["title"]
    notice = payload_for("threat_notice", entities=[bad], title=bad)
    assert_error(api(app, "POST", api_url("threat_notice"), token, json=notice), 422, fields={"entities", "title"})
    assert item_count(app) == 0


@pytest.mark.parametrize("bad", ["Line\x00nul", "Bell\x07", "Escape\x1b[2J", "Lone\rreturn", "Sep\u2029para"])
def test_multi_line_fields_allow_newlines_and_tabs_only(app: Flask, make_user: Any, bad: str) -> None:
    token = helpers.api_token(app, make_user("spoc", "DK"))
    response = api(app, "POST", api_url("denial"), token, json=payload_for("denial", body=bad, summary=bad, rationale=bad))
    assert_error(response, 422, "validation_failed", {"body", "summary", "rationale"})
    good = payload_for("denial", body="First line\n\n\tindented\r\nthird", summary="One\ntwo")
    created = api(app, "POST", api_url("denial"), token, json=good)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["body"] == "First line\n\n\tindented\nthird"  # CRLF from a textarea becomes LF


def test_control_characters_in_item_forms_are_field_errors(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "DK")
    client = login_as(app.test_client(), spoc)
    data = to_form("denial", payload_for("denial"))
    data.update(title="Denial\r\nBcc: victim@example.org", national_ref="DK\x00-1")
    response = post_form(client, "/denials/new", data, page="/denials/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "one line" in page
    assert item_count(app) == 0
    # Multi-line fields take the CRLF a browser sends.
    data = to_form("denial", payload_for("denial", body="One\r\nTwo"))
    assert post_form(client, "/denials/new", data, page="/denials/new").status_code == 302
    assert item_count(app) == 1


@pytest.mark.parametrize(("field", "bad"), [("title", "Plenary\r\nBcc: x@example.org"), ("venue", "Room 1\nBcc: y"),
                                            ("title", "Plenary\x00"), ("description", "About\x1b[2J")])
def test_control_characters_in_meeting_forms_are_field_errors(app: Flask, people: Any, login_as: Any, field: str,
                                                              bad: str) -> None:
    sec = login_as(app.test_client(), people.sec)
    response = post_form(sec, "/meetings/new", meeting_form(meeting_payload(**{field: bad})), page="/meetings/new")
    assert response.status_code == 200 and ("one line" in response.get_data(as_text=True)
                                            or "control characters" in response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0
        db.session.remove()


def test_control_characters_in_delegate_names_are_field_errors(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    dk = login_as(app.test_client(), people.dk)
    response = post_form(dk, f"/meetings/{meeting_id}/delegates/new",
                         {"name": "Anne\r\nBcc: x@example.org", "position": "Head\x0b", "email": "anne@dk.example",
                          "attendance": "in_person"}, page=f"/meetings/{meeting_id}/delegates/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.count("one line") >= 2


def test_tlp_red_needs_a_state_other_than_the_originator(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    for countries in (["DK"], ["dk", "DK"]):
        payload = payload_for("denial", tlp="RED", audience=audience(countries=countries))
        assert_error(api(app, "POST", api_url("denial"), token, json=payload), 422, "validation_failed",
                     {"audience.countries"})
    draft = helpers.make_item(app, spoc, "denial", "draft")
    assert_error(api(app, "PATCH", api_url("denial", draft), token,
                     json={"tlp": "RED", "audience": audience(countries=["DK"])}), 422, fields={"audience.countries"})
    client = login_as(app.test_client(), spoc)
    data = to_form("denial", payload_for("denial", tlp="RED", audience=audience(countries=["DK"])))
    response = post_form(client, "/denials/new", data, page="/denials/new")
    assert response.status_code == 200 and "TLP:RED" in response.get_data(as_text=True)
    assert item_count(app) == 1
    ok = payload_for("denial", tlp="RED", audience=audience(countries=["DK", "NO"]))
    assert api(app, "POST", api_url("denial"), token, json=ok).status_code == 201


def test_nul_in_list_filters_is_ignored(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "DK")
    helpers.make_item(app, spoc, "denial")
    client = login_as(app.test_client(), spoc)
    token = helpers.api_token(app, spoc)
    for name in ("q", "state", "category", "severity", "tlp", "status", "from"):
        args = {name: "A\x00"}
        for url in ("/denials/", "/threat-notices/", "/documents/", "/search", "/denials/export.csv"):
            assert client.get(url, query_string={**args, "q": args.get("q", "IMSI")}).status_code == 200, (url, name)
        assert api(app, "GET", api_url("denial"), token, query_string=args).status_code == 200, name
    for url in ("/users/", "/meetings/actions", "/meetings/", "/notifications/"):
        assert client.get(url, query_string={"q": "A\x00", "state": "D\x00", "status": "\x00"}).status_code == 200, url


def test_nul_in_the_path_is_400(app: Flask, people: Any, login_as: Any) -> None:
    spoc = login_as(app.test_client(), people.dk)
    for url in ("/countries/D%00", "/notifications/unsubscribe/x%00y", "/calendar/abc%00.ics", "/meetings/%00"):
        response = spoc.get(url)
        assert response.status_code in (400, 404), (url, response.status_code)
    token = helpers.api_token(app, people.dk)
    response = api(app, "GET", "/api/v1/denials/%00", token)
    assert response.status_code in (400, 404)
    assert_error(response, response.status_code)
