"""JSON API v1: personal bearer tokens, the contract's field names, errors. SQLite and PostgreSQL."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from portal.extensions import db
from portal.models import ApiToken, User, UserStatus
from portal.models.base import utcnow
from tests.conftest import csrf_token
from tests.sharing import helpers
from tests.sharing.helpers import api_url, audience, bearer

# The example denial of the sharing issue's contract, field for field.
EXAMPLE_DENIAL: dict[str, Any] = {
    "title": "Denial: IMSI catchers to the Ministry of Interior of Myanmar",
    "summary": "Export licence for mobile-network interception equipment refused (internal repression).",
    "body": "The applicant sought to export **two IMSI catchers** with installation and operator training.\n\n"
            "- end-user: Special Branch\n- risk: surveillance of journalists and activists",
    "tlp": "AMBER",
    "audience": {"all_subscribing": True, "countries": [], "secretariat": False, "observers": False},
    "national_ref": "DK-2026-0042",
    "decision_type": "denial",
    "activity": "export",
    "decision_date": "2026-03-02",
    "basis": "listed_item",
    "control_entries": [{"regime": "Wassenaar", "code": "5A001.j"}, {"regime": "EU", "code": "5A001.j"}],
    "item_description": "Two IMSI catchers (mobile-network interception equipment) and operator training",
    "destination": "MM",
    "end_use": "Monitoring of mobile communications by the police",
    "parties": [
        {"role": "end_user", "name": "Ministry of Home Affairs, Special Branch", "aliases": ["MoHA SB"],
         "address": "Office No. 10, Nay Pyi Taw", "country": "MM"},
        {"role": "consignee", "name": "Golden Lotus Trading Co.", "aliases": [], "address": "Yangon",
         "country": "MM"},
    ],
    "reason_codes": ["internal_repression", "serious_human_rights_violations"],
    "rationale": "There is a clear risk that the items would be used for internal repression.",
}
EXAMPLE_NOTICE: dict[str, Any] = {
    "title": "Zero-click spyware offered to security services",
    "summary": "A vendor markets zero-click implants for messaging apps.",
    "body": "Seen at a security trade fair. Marketing material names **three** target apps.",
    "tlp": "GREEN",
    "audience": {"all_subscribing": True, "countries": [], "secretariat": True, "observers": True},
    "severity": "high",
    "categories": ["intrusion_software", "forensic_extraction"],
    "regions": ["MM", "BY"],
    "entities": ["Example Intrusion Ltd", "EI Holdings"],
    "valid_until": "2027-12-31",
}
COMMON_FIELDS = {"id", "kind", "title", "summary", "body", "tlp", "audience", "status", "originator", "version",
                 "created_at", "published_at", "body_html"}
DENIAL_FIELDS = {"national_ref", "decision_type", "activity", "decision_date", "basis", "control_entries",
                 "item_description", "destination", "end_use", "parties", "reason_codes", "rationale",
                 "denial_status", "review_date"}
NOTICE_FIELDS = {"severity", "categories", "regions", "entities", "valid_until"}


def api(app: Flask, method: str, url: str, token: str | None = None, **kwargs: Any) -> Any:
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers.update(bearer(token))
    return app.test_client().open(url, method=method, headers=headers, **kwargs)


def assert_error(response: Any, status: int, code: str | None = None, fields: set[str] | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code, error
    if fields is not None:
        assert fields <= set(error["fields"]), error


# --- tokens -------------------------------------------------------------------------------

def test_token_from_the_account_page_is_shown_once_and_stored_hashed(app: Flask, make_user: Any,
                                                                     login_as: Any) -> None:
    officer = make_user("officer", "DK")
    client = login_as(app.test_client(), officer)
    response = client.post("/account/tokens", data={"name": "Licensing system", "days": "30",
                                                     "csrf_token": csrf_token(client, "/account/tokens")})
    assert response.status_code == 200
    match = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', response.get_data(as_text=True))
    assert match
    token = match.group(1)
    assert token.startswith("echri_") and len(token) > 40
    assert token not in client.get("/account/tokens").get_data(as_text=True)  # shown once
    with app.extensions["portal.db"].connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_tokens")).mappings().all()
    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0].values())
    assert rows[0]["name"] == "Licensing system"
    with app.app_context():
        expires = db.session.query(ApiToken.expires_at).scalar()
        db.session.remove()
    assert timedelta(days=29) < expires - utcnow() < timedelta(days=31)

    response = api(app, "GET", api_url("denial"), token)
    assert response.status_code == 200 and response.get_json()["items"] == []
    # Bad names and lifetimes are form errors; nothing is created.
    response = client.post("/account/tokens", data={"name": "x", "days": "999",
                                                     "csrf_token": csrf_token(client, "/account/tokens")})
    assert response.status_code == 200 and "echri_" not in response.get_data(as_text=True)
    with app.extensions["portal.db"].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 1


def test_revoked_expired_and_disabled_tokens_are_refused(app: Flask, make_user: Any, login_as: Any) -> None:
    officer, other = make_user("officer", "DK"), make_user("officer", "NO")
    revoked, expired, live = (helpers.api_token(app, officer, name=n) for n in ("revoked", "expired", "live"))
    others = helpers.api_token(app, other)
    for token in (revoked, expired, live, others):
        assert api(app, "GET", api_url("denial"), token).status_code == 200

    client = login_as(app.test_client(), officer)
    with app.app_context():
        ids = {t.name: t.id for t in db.session.query(ApiToken).filter(ApiToken.user_id == officer.id)}
        db.session.remove()
    page = "/account/tokens"
    assert client.post(f"/account/tokens/{ids['revoked']}/revoke",
                       data={"csrf_token": csrf_token(client, page)}).status_code == 302
    # Someone else's token cannot be revoked from this account.
    with app.app_context():
        other_id = db.session.query(ApiToken.id).filter(ApiToken.user_id == other.id).scalar()
        db.session.remove()
    assert client.post(f"/account/tokens/{other_id}/revoke",
                       data={"csrf_token": csrf_token(client, page)}).status_code == 404
    with app.app_context():
        db.session.get(ApiToken, ids["expired"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()

    for token in (revoked, expired):
        response = api(app, "GET", api_url("denial"), token)
        assert_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert api(app, "GET", api_url("denial"), live).status_code == 200
    assert api(app, "GET", api_url("denial"), others).status_code == 200

    with app.app_context():
        db.session.get(User, officer.id).status = UserStatus.DISABLED
        db.session.commit()
        db.session.remove()
    assert_error(api(app, "GET", api_url("denial"), live), 401)
    assert api(app, "GET", api_url("denial"), others).status_code == 200


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Bearer echri_not-a-real-token",
                                           "Bearer not-even-prefixed", "Basic b2ZmaWNlcjpwYXNzd29yZA==",
                                           "Token {token}", "bearer{token}", "Bearer {token}x"])
def test_requests_without_a_valid_bearer_token_are_401(app: Flask, make_user: Any, login_as: Any,
                                                       authorization: str | None) -> None:
    officer = make_user("officer", "DK")
    token = helpers.api_token(app, officer)
    client = login_as(app.test_client(), officer)  # a signed-in cookie session rides along: it must not count
    assert client.get("/denials/").status_code == 200
    headers = {} if authorization is None else {"Authorization": authorization.format(token=token)}
    for method, url in (("GET", api_url("denial")), ("POST", api_url("denial")),
                        ("GET", api_url("denial", uuid.uuid4()))):
        response = client.open(url, method=method, headers=headers, json=helpers.denial_payload())
        assert_error(response, 401)


def test_bearer_scheme_is_case_insensitive(app: Flask, make_user: Any) -> None:
    token = helpers.api_token(app, make_user("officer", "DK"))
    assert api(app, "GET", api_url("denial"), headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_cli_prints_a_working_token(app: Flask, make_user: Any) -> None:
    spoc = make_user("spoc", "DK")
    result = app.test_cli_runner().invoke(args=["tokens", "create", spoc.email, "--name", "batch import",
                                                "--days", "7"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("echri_")
    response = api(app, "POST", api_url("denial"), token, json=helpers.denial_payload())
    assert response.status_code == 201 and response.get_json()["originator"] == "DK"
    result = app.test_cli_runner().invoke(args=["tokens", "create", "nobody@echri.example"])
    assert result.exit_code != 0
    disabled = make_user("officer", "NO", status=UserStatus.DISABLED)
    assert app.test_cli_runner().invoke(args=["tokens", "create", disabled.email]).exit_code != 0
    assert app.test_cli_runner().invoke(args=["tokens", "create", spoc.email, "--days", "0"]).exit_code != 0


# --- the contract -------------------------------------------------------------------------

def test_example_denial_and_threat_notice(app: Flask, make_user: Any) -> None:
    spoc, officer_no = make_user("spoc", "DK"), make_user("officer", "NO")
    token, reader_token = helpers.api_token(app, spoc), helpers.api_token(app, officer_no)

    response = api(app, "POST", api_url("denial"), token, json=EXAMPLE_DENIAL)
    assert response.status_code == 201, response.get_json()
    record = response.get_json()
    assert COMMON_FIELDS | DENIAL_FIELDS <= set(record)
    assert set(record["audience"]) == {"all_subscribing", "countries", "secretariat", "observers"}
    uuid.UUID(record["id"])
    assert (record["kind"], record["status"], record["originator"], record["version"], record["published_at"]) == (
        "denial", "draft", "DK", 0, None)
    for key in EXAMPLE_DENIAL:
        assert record[key] == EXAMPLE_DENIAL[key], key
    assert "<strong>two IMSI catchers</strong>" in record["body_html"] and "<li>" in record["body_html"]
    assert record["denial_status"] is None and record["review_date"] is None
    item_id = record["id"]
    assert api(app, "GET", api_url("denial", item_id), reader_token).status_code == 404  # a draft

    response = api(app, "POST", api_url("denial", item_id, "/publish"), token)
    assert response.status_code == 200
    published = response.get_json()
    assert (published["status"], published["version"], published["denial_status"]) == ("published", 1, "active")
    assert published["published_at"] and published["review_date"]
    seen = api(app, "GET", api_url("denial", item_id), reader_token).get_json()
    assert seen["title"] == EXAMPLE_DENIAL["title"] and seen["parties"] == EXAMPLE_DENIAL["parties"]
    listed = api(app, "GET", api_url("denial"), reader_token).get_json()
    assert [i["id"] for i in listed["items"]] == [item_id] and COMMON_FIELDS | DENIAL_FIELDS <= set(listed["items"][0])

    response = api(app, "POST", api_url("threat_notice"), token, json=EXAMPLE_NOTICE)
    assert response.status_code == 201, response.get_json()
    notice = response.get_json()
    assert COMMON_FIELDS | NOTICE_FIELDS <= set(notice)
    for key in EXAMPLE_NOTICE:
        assert notice[key] == (sorted(EXAMPLE_NOTICE[key]) if key == "categories" else EXAMPLE_NOTICE[key]), key
    assert not DENIAL_FIELDS & set(notice)


def test_patch_publish_withdraw_through_the_api(app: Flask, make_user: Any) -> None:
    spoc, officer, no = make_user("spoc", "DK"), make_user("officer", "DK"), make_user("reader", "NO")
    spoc_token, officer_token, no_token = (helpers.api_token(app, a) for a in (spoc, officer, no))
    item_id = api(app, "POST", api_url("threat_notice"), officer_token, json=EXAMPLE_NOTICE).get_json()["id"]

    # PATCH merges: unspecified fields (and audience keys) keep their values.
    response = api(app, "PATCH", api_url("threat_notice", item_id), officer_token,
                   json={"title": "Renamed", "audience": {"observers": False}})
    assert response.status_code == 200
    record = response.get_json()
    assert record["title"] == "Renamed" and record["severity"] == "high"
    assert record["audience"] == {"all_subscribing": True, "countries": [], "secretariat": True, "observers": False}
    assert_error(api(app, "PATCH", api_url("threat_notice", item_id), officer_token, json={"tlp": "RED"}),
                 422, "validation_failed", {"audience.all_subscribing", "audience.countries"})
    assert api(app, "GET", api_url("threat_notice", item_id), officer_token).get_json()["tlp"] == "GREEN"

    # Officers draft; only the SPOC publishes and withdraws.
    assert_error(api(app, "POST", api_url("threat_notice", item_id, "/publish"), officer_token), 403, "forbidden")
    assert api(app, "POST", api_url("threat_notice", item_id, "/publish"), spoc_token).status_code == 200
    assert_error(api(app, "PATCH", api_url("threat_notice", item_id), spoc_token, json={"title": "x"}), 403)
    assert_error(api(app, "POST", api_url("threat_notice", item_id, "/publish"), spoc_token), 403)
    assert_error(api(app, "POST", api_url("threat_notice", item_id, "/withdraw"), officer_token,
                     json={"reason": "x"}), 403)
    assert_error(api(app, "POST", api_url("threat_notice", item_id, "/withdraw"), officer_token, json={}), 403)
    assert_error(api(app, "POST", api_url("threat_notice", item_id, "/withdraw"), spoc_token, json={}),
                 422, "validation_failed", {"reason"})
    assert_error(api(app, "POST", api_url("threat_notice", item_id, "/withdraw"), spoc_token, json={"reason": 7}),
                 422, "validation_failed", {"reason"})
    assert_error(api(app, "POST", api_url("threat_notice", item_id, "/withdraw"), spoc_token,
                     json={"reason": "   "}), 422, "validation_failed", {"reason"})
    response = api(app, "POST", api_url("threat_notice", item_id, "/withdraw"), spoc_token,
                   json={"reason": "Superseded by a joint notice."})
    assert response.status_code == 200
    withdrawn = api(app, "GET", api_url("threat_notice", item_id), no_token).get_json()
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdrawal"]["reason"] == "Superseded by a joint notice."
    assert withdrawn["body"] is None and withdrawn["body_html"] is None and "entities" not in withdrawn
    assert_error(api(app, "POST", api_url("threat_notice", item_id, "/withdraw"), spoc_token,
                     json={"reason": "again"}), 403)


def test_tokens_act_with_the_users_own_rights(app: Flask, make_user: Any, observer_state: str) -> None:
    dk_spoc = make_user("spoc", "DK")
    tokens = {name: helpers.api_token(app, make_user(role, country)) for name, role, country in (
        ("dk_reader", "reader", "DK"), ("dk_officer", "officer", "DK"), ("de_spoc", "spoc", "DE"),
        ("cr_officer", "officer", "CR"), ("admin", "admin", None), ("secretariat", "secretariat", None))}
    red = helpers.make_item(app, dk_spoc, "denial", tlp="RED", audience=audience(countries=["NO"]))
    green = helpers.make_item(app, dk_spoc, "threat_notice", tlp="GREEN",
                              audience=audience(all_subscribing=True, observers=True))

    assert_error(api(app, "POST", api_url("denial"), tokens["dk_reader"], json=helpers.denial_payload()), 403,
                 "forbidden")
    assert_error(api(app, "POST", api_url("threat_notice"), tokens["cr_officer"], json=helpers.threat_payload()),
                 403)
    assert_error(api(app, "POST", api_url("denial"), tokens["admin"], json=helpers.denial_payload()), 403)
    assert_error(api(app, "POST", api_url("denial"), tokens["secretariat"], json=helpers.denial_payload()), 403)
    assert api(app, "POST", api_url("document"), tokens["secretariat"],
               json=helpers.document_payload()).status_code == 201
    # Visibility is the pages': RED not for readers, nothing for admins, observers CLEAR/GREEN only.
    assert_error(api(app, "GET", api_url("denial", red), tokens["dk_reader"]), 404, "not_found")
    assert api(app, "GET", api_url("denial", red), tokens["dk_officer"]).status_code == 200
    assert_error(api(app, "GET", api_url("denial", red), tokens["de_spoc"]), 404)
    assert_error(api(app, "POST", api_url("denial", red, "/withdraw"), tokens["de_spoc"], json={"reason": "x"}), 404)
    assert_error(api(app, "PATCH", api_url("denial", red), tokens["de_spoc"], json={"title": "x"}), 404)
    assert api(app, "GET", api_url("threat_notice", green), tokens["cr_officer"]).status_code == 200
    assert_error(api(app, "GET", api_url("threat_notice", green), tokens["admin"]), 404)
    assert api(app, "GET", api_url("threat_notice"), tokens["admin"]).get_json()["total"] == 0
    assert_error(api(app, "POST", api_url("denial", red, "/publish"), tokens["dk_officer"]), 403)
    # The wrong kind in the path is as good as missing.
    assert_error(api(app, "GET", api_url("threat_notice", red), tokens["dk_officer"]), 404)


BAD_BODIES = [
    pytest.param(b"{not json", "application/json", id="malformed"),
    pytest.param(b'{"title": "x",}', "application/json", id="trailing-comma"),
    pytest.param(b"", "application/json", id="empty"),
    pytest.param(b"[1, 2]", "application/json", id="array"),
    pytest.param(b'"a string"', "application/json", id="string"),
    pytest.param(b"null", "application/json", id="null"),
    pytest.param(b'{"title": "x"}', "text/plain", id="not-declared-json"),
    pytest.param(b"title=x", "application/x-www-form-urlencoded", id="form-encoded"),
    pytest.param(b"\xff\xfe{", "application/json", id="not-utf8"),
]


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
def test_invalid_json_is_400(app: Flask, make_user: Any, body: bytes, content_type: str) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    draft = helpers.make_item(app, spoc, "denial", "draft")
    live = helpers.make_item(app, spoc, "denial")
    for method, url in (("POST", api_url("denial")), ("PATCH", api_url("denial", draft)),
                        ("POST", api_url("denial", live, "/withdraw"))):
        response = api(app, method, url, token, data=body, content_type=content_type)
        assert_error(response, 400, "invalid_json")
    assert helpers.load_item(app, live).status.value == "published"


def test_invalid_fields_are_422_with_fields(app: Flask, make_user: Any) -> None:
    token = helpers.api_token(app, make_user("spoc", "DK"))
    payload = {**EXAMPLE_DENIAL, "tlp": "RED", "decision_date": "02/03/2026", "parties": [{"role": "king"}],
               "control_entries": "5A001", "audience": {"all_subscribing": "yes", "countries": "NO"},
               "title": 42, "reason_codes": ["internal_repression", "boredom"]}
    response = api(app, "POST", api_url("denial"), token, json=payload)
    assert_error(response, 422, "validation_failed",
                 {"decision_date", "parties[0].role", "control_entries",
                  "audience.all_subscribing", "audience.countries", "title", "reason_codes"})
    # A draft saves part-filled: only the title is needed to create one; publishing needs the rest.
    assert_error(api(app, "POST", api_url("denial"), token, json={}), 422, "validation_failed", {"title"})
    draft = api(app, "POST", api_url("denial"), token, json={"title": "Only a title"})
    assert draft.status_code == 201
    assert_error(api(app, "POST", api_url("denial", draft.get_json()["id"], "/publish"), token), 422,
                 "validation_failed", {"national_ref", "decision_type", "activity", "decision_date", "basis",
                                       "item_description", "destination", "reason_codes", "rationale"})
    assert_error(api(app, "POST", api_url("denial"), token, json={**EXAMPLE_DENIAL, "audience": []}), 422,
                 fields={"audience"})
    assert api(app, "GET", api_url("denial"), token).get_json()["total"] == 1  # the one draft, nothing refused


def test_unknown_items_and_urls_are_404(app: Flask, make_user: Any) -> None:
    token = helpers.api_token(app, make_user("spoc", "DK"))
    for method, url in (("GET", api_url("denial", uuid.uuid4())), ("PATCH", api_url("denial", uuid.uuid4())),
                        ("POST", api_url("denial", uuid.uuid4(), "/publish")),
                        ("POST", api_url("denial", uuid.uuid4(), "/withdraw")),
                        ("GET", "/api/v1/denials/not-a-uuid"), ("GET", "/api/v1/weapons"),
                        ("GET", "/api/v2/denials")):
        response = api(app, method, url, token, json={"reason": "x", "title": "x"})
        assert_error(response, 404)


def test_pagination_parameters(app: Flask, make_user: Any) -> None:
    spoc = make_user("spoc", "NO")
    for n in range(5):
        helpers.make_item(app, spoc, "threat_notice", title=f"Notice {n}")
    token = helpers.api_token(app, make_user("reader", "DK"))
    body = api(app, "GET", api_url("threat_notice"), token, query_string={"per_page": 2, "page": 3}).get_json()
    assert (body["page"], body["per_page"], body["total"], body["pages"], len(body["items"])) == (3, 2, 5, 3, 1)
    body = api(app, "GET", api_url("threat_notice"), token).get_json()
    assert (body["page"], body["per_page"], body["pages"], len(body["items"])) == (1, 25, 1, 5)
    body = api(app, "GET", api_url("threat_notice"), token, query_string={"per_page": "x", "page": "-1"}).get_json()
    assert (body["page"], body["per_page"]) == (1, 25)
