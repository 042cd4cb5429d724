"""The API's OpenAPI document: valid OpenAPI 3.1, covering every /api/v1 route, public, readable
at /api/docs for signed-in people, and in agreement with the validators it describes."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate as validate_openapi

from portal.api import spec
from portal.consultations import schema as consultations
from portal.errors import ValidationFailed
from portal.guard import CSP
from portal.models.item import ItemKind
from portal.screening import schema as screening
from portal.sharing import schema as sharing
from tests.sharing.helpers import bearer

VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "ThreatNoticeInput": lambda data: sharing.validate(ItemKind.THREAT_NOTICE, data),
    "DenialInput": lambda data: sharing.validate(ItemKind.DENIAL, data),
    "DocumentInput": lambda data: sharing.validate(ItemKind.DOCUMENT, data),
    "ConsultationOpening": lambda data: consultations.validate_opening(data, date.today()),
    "ConsultationMessageInput": consultations.validate_message,
    "ConsultationAnswer": consultations.validate_answer,
    "ConsultationClosing": consultations.validate_closing,
    "ScreeningRequest": screening.validate,
}
SAMPLES: dict[str, dict[str, Any]] = {
    "ConsultationOpening": {"denial_id": str(uuid.uuid4()), "applicant": "A", "end_user": "B", "item_description": "C",
                            "destination": "FR", "question": "D?"},
    "ConsultationMessageInput": {"body": "Thank you."},
    "ConsultationAnswer": {"position": "objection", "reasons": "Same goods, same end-user."},
    "ConsultationClosing": {"outcome": "granted", "reasons": "New assurances."},
}


def _document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.get_json())


def _problems(validator: Callable[[Any], Any], data: Any) -> dict[str, str]:
    try:
        validator(data)
    except ValidationFailed as error:
        return dict(error.fields)
    return {}


def test_the_document_is_valid_openapi_and_covers_every_api_route(app: Flask) -> None:
    document = _document(app)
    validate_openapi(document)
    assert document["openapi"] == "3.1.0"
    described = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    expected = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        converter = rule._converters.get("kind_slug") or rule._converters.get("kind")
        for slug in (sorted(converter.items) if converter is not None else [None]):  # type: ignore[attr-defined]
            path = re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>",
                          lambda m: slug if m.group(1) in ("kind", "kind_slug") else "{" + m.group(1) + "}", rule.rule)
            expected |= {(m, path) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert described == expected
    schemes = document["components"]["securitySchemes"]
    assert schemes["personalToken"] == {**schemes["personalToken"], "type": "http", "scheme": "bearer"}
    flow = schemes["machineClient"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token" and "meetings:read" in flow["scopes"] and "denials:write" in flow["scopes"]
    # The error envelope is what every refusal refers to, and examples are there.
    denial = document["paths"]["/api/v1/denials/{item_id}"]["get"]
    assert denial["responses"]["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert {"personalToken": []} in denial["security"] and {"machineClient": ["denials:read"]} in denial["security"]
    assert document["components"]["schemas"]["Error"]["example"]["error"]["code"] == "validation_failed"
    assert document["components"]["schemas"]["DenialInput"]["example"]["national_ref"]


def test_the_document_is_public_and_the_reference_page_is_for_people_signed_in(
        app: Flask, make_user: Any, login_as: Any, token_for: Any) -> None:
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/openapi.json").status_code == 200
    # A bearer token of either kind does not stand in the way of a public document.
    assert anonymous.get("/api/v1/openapi.json", headers=bearer(token_for(make_user("officer", "DK")))).status_code == 200
    refused = anonymous.get("/api/docs")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")

    client = login_as(app.test_client(), make_user("reader", "FR"))
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"] == CSP
    html = page.get_data(as_text=True)
    assert "GET /api/v1/meetings/{meeting_id}/participants" in html and "insufficient_scope" in html
    assert 'id="schema-DenialInput"' in html
    # No asset from elsewhere: every script, style and image is ours.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)


@pytest.mark.parametrize("name", sorted(VALIDATORS))
def test_each_validator_requires_what_its_schema_requires(name: str) -> None:
    schema = spec.components_schemas()[name]
    problems = _problems(VALIDATORS[name], {})
    assert {path.split(".")[0].split("[")[0] for path in problems} == set(schema["required"])


@pytest.mark.parametrize("name", sorted(VALIDATORS))
def test_each_schema_property_is_a_field_its_validator_checks(name: str) -> None:
    """A property of the wrong type is refused by name: the validator reads every field the
    schema names (and the example, or a sample, is accepted as it stands)."""
    schema = spec.components_schemas()[name]
    base = dict(schema.get("example") or SAMPLES[name])
    assert _problems(VALIDATORS[name], base) == {}
    for prop, prop_schema in schema["properties"].items():
        kinds = prop_schema.get("type")
        wrong: Any = [1] if kinds == "object" else {"wrong": True}
        problems = _problems(VALIDATORS[name], {**base, prop: wrong})
        assert any(path == prop or path.startswith((f"{prop}.", f"{prop}[")) for path in problems), (prop, problems)


def test_the_examples_are_accepted_by_the_live_api(app: Flask, client: Any, make_user: Any, token_for: Any) -> None:
    token = token_for(make_user("spoc", "DK"))
    schemas = spec.components_schemas()
    for kind, slug in ((ItemKind.THREAT_NOTICE, "threat-notices"), (ItemKind.DENIAL, "denials"),
                       (ItemKind.DOCUMENT, "documents")):
        name = {ItemKind.THREAT_NOTICE: "ThreatNotice", ItemKind.DENIAL: "Denial", ItemKind.DOCUMENT: "Document"}[kind]
        response = client.post(f"/api/v1/{slug}", json=schemas[f"{name}Input"]["example"], headers=bearer(token))
        assert response.status_code == 201, response.get_data(as_text=True)
    response = client.post("/api/v1/screenings", json=schemas["ScreeningRequest"]["example"], headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_what_schemathesis_found_stays_fixed(app: Flask, client: Any, make_user: Any, token_for: Any,
                                             make_item: Any, machine_token_for: Any) -> None:
    """A 405 names the allowed methods (RFC 9110); OPTIONS by a machine client is audited rather
    than a 500; a withdrawal reason over the limit is refused, not cut short."""
    spoc = make_user("spoc", "DK")
    token = token_for(spoc)
    response = client.delete("/api/v1/denials", headers=bearer(token))
    assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    machine = machine_token_for(spoc, "denials:read denials:write")
    assert client.options("/api/v1/denials", headers=bearer(machine)).status_code == 200
    item_id = make_item(spoc, "denial")
    response = client.post(f"/api/v1/denials/{item_id}/withdraw", json={"reason": "x" * 4001}, headers=bearer(token))
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"reason"}
