"""Threat notices and denials as STIX 2.1: every bundle passes the OASIS validator (strict: no
warnings either), markings are the TLP 2.0 standard ids, our fields ride in our extension."""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from stix2validator import ValidationOptions, validate_string

from portal.stix.objects import EXTENSION_ID, TLP_MARKING_IDS, state_identity_id
from portal.models.item import Tlp
from tests.sharing.helpers import audience, bearer, denial_payload

pytestmark = pytest.mark.usefixtures("app")


def assert_valid(text: str) -> dict[str, Any]:
    """The OASIS validator, strict: warnings count as failures too."""
    results = validate_string(text, ValidationOptions(strict=True, version="2.1"))
    problems = [str(e) for e in (results.errors or []) + (results.warnings or [])]
    assert results.is_valid and not problems, problems
    bundle: dict[str, Any] = json.loads(text)
    return bundle


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == kind]


def test_one_denial_as_a_valid_bundle(app: Flask, make_user: Any, make_item: Any, token_for: Any) -> None:
    spoc = make_user("spoc", "DK")
    item = make_item(spoc, "denial", tlp="AMBER", audience=audience(countries=["NO"]))
    response = app.test_client().get(f"/api/v1/denials/{item}/stix", headers=bearer(token_for(spoc)))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/stix+json;version=2.1"
    assert response.headers["Content-Disposition"].startswith("attachment")
    bundle = assert_valid(response.get_data(as_text=True))
    [report] = by_type(bundle, "report")
    assert report["id"] == f"report--{item}"
    assert report["object_marking_refs"] == [TLP_MARKING_IDS[Tlp.AMBER]]
    assert TLP_MARKING_IDS[Tlp.AMBER] == "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    assert report["created_by_ref"] == state_identity_id("DK")
    assert report["report_types"] == ["identity"] and report.get("revoked", False) is False
    identities = {o["id"]: o for o in by_type(bundle, "identity")}
    assert identities[state_identity_id("DK")]["name"] == "Denmark"
    [definition] = by_type(bundle, "extension-definition")
    assert definition["id"] == EXTENSION_ID
    assert definition["schema"].endswith("/static/stix/echri-item-extension-v1.json")
    fields = report["extensions"][EXTENSION_ID]
    payload = denial_payload()
    assert fields["kind"] == "denial" and fields["denial_status"] == "active"
    assert fields["parties"] == payload["parties"] and fields["control_entries"] == payload["control_entries"]
    assert fields["audience"]["countries"] == ["NO"]  # the originating state knows its named audience
    [amber] = by_type(bundle, "marking-definition")
    assert amber["name"] == "TLP:AMBER"
    # The schema the extension names is served, and describes the fields.
    schema = app.test_client().get("/static/stix/echri-item-extension-v1.json")
    assert schema.status_code == 200 and "parties" in schema.get_json()["properties"]


def test_the_bundle_of_a_kind_is_valid_and_never_red(
        app: Flask, make_user: Any, make_item: Any, token_for: Any) -> None:
    spoc, other = make_user("spoc", "DK"), make_user("spoc", "NO")
    green = make_item(spoc, "threat_notice", tlp="GREEN", audience=audience(all_subscribing=True))
    red = make_item(spoc, "threat_notice", tlp="RED", audience=audience(countries=["NO"]))
    withdrawn = make_item(other, "threat_notice", status="withdrawn", tlp="CLEAR",
                          audience=audience(all_subscribing=True))
    client = app.test_client()
    listed = client.get("/api/v1/threat-notices/stix", headers=bearer(token_for(spoc)))
    bundle = assert_valid(listed.get_data(as_text=True))
    reports = {o["id"]: o for o in by_type(bundle, "report")}
    assert set(reports) == {f"report--{green}", f"report--{withdrawn}"}  # RED never leaves in bulk
    assert reports[f"report--{withdrawn}"]["revoked"] is True
    assert "description" not in reports[f"report--{withdrawn}"]  # a withdrawn item: its notice, never its content
    assert {o["id"] for o in by_type(bundle, "marking-definition")} == {
        TLP_MARKING_IDS[Tlp.GREEN], TLP_MARKING_IDS[Tlp.CLEAR]}
    # One RED item, to a person of its audience, is theirs to export (with its marking).
    red_bundle = assert_valid(client.get(f"/api/v1/threat-notices/{red}/stix",
                                         headers=bearer(token_for(other))).get_data(as_text=True))
    assert by_type(red_bundle, "report")[0]["object_marking_refs"] == [
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]
    # Not a kind-mismatched URL, nor a draft.
    assert client.get(f"/api/v1/denials/{green}/stix", headers=bearer(token_for(spoc))).status_code == 404
    draft = make_item(spoc, "threat_notice", status="draft")
    assert client.get(f"/api/v1/threat-notices/{draft}/stix", headers=bearer(token_for(spoc))).status_code == 404


def test_named_audience_is_hidden_from_other_recipients(
        app: Flask, make_user: Any, make_item: Any, token_for: Any) -> None:
    spoc, reader = make_user("spoc", "DK"), make_user("reader", "NO")
    item = make_item(spoc, "denial", tlp="AMBER", audience=audience(countries=["NO", "FR"]))
    bundle = assert_valid(app.test_client().get(f"/api/v1/denials/{item}/stix",
                                                headers=bearer(token_for(reader))).get_data(as_text=True))
    fields = by_type(bundle, "report")[0]["extensions"][EXTENSION_ID]
    assert "countries" not in fields["audience"]
    outsider = make_user("spoc", "FI")
    assert app.test_client().get(f"/api/v1/denials/{item}/stix",
                                 headers=bearer(token_for(outsider))).status_code == 404


def test_download_from_the_item_page(app: Flask, make_user: Any, make_item: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "DK")
    notice = make_item(spoc, "threat_notice", tlp="GREEN", audience=audience(all_subscribing=True))
    browser = login_as(app.test_client(), make_user("reader", "FR"))
    page = browser.get(f"/threat-notices/{notice}").get_data(as_text=True)
    assert f'href="/threat-notices/{notice}/stix.json"' in page
    response = browser.get(f"/threat-notices/{notice}/stix.json")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    assert by_type(assert_valid(response.get_data(as_text=True)), "report")[0]["id"] == f"report--{notice}"
    draft = make_item(spoc, "threat_notice", status="draft")
    own = login_as(app.test_client(), spoc)
    assert f"/threat-notices/{draft}/stix.json" not in own.get(f"/threat-notices/{draft}").get_data(as_text=True)
    assert own.get(f"/threat-notices/{draft}/stix.json").status_code == 404
    assert login_as(app.test_client(), make_user("spoc", "FI")).get(f"/documents/{notice}/stix.json").status_code == 404
