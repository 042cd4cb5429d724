"""Schemathesis against the live app, from its own OpenAPI document, on both databases, as a
client of each kind (a person's token, a machine client's OAuth2 token): no 500, every
response matches the document (status, media type, body), invalid input answers 4xx in the
error envelope, and ids the caller may not see (unknown, another state's) answer 404.

The Hypothesis profile sets the length: "ci" (the default, few examples, derandomised) keeps
`make test` short; `--hypothesis-profile=long` searches for longer.
"""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis import Case
from schemathesis.core.failures import Failure
from schemathesis.core.transport import Response

from portal.extensions import db
from portal.meetings import service as meetings
from tests.api.conftest import machine_token
from tests.meetings.conftest import payload as meeting_payload
from tests.sharing import helpers

ALL_SCOPES = ("notices:read notices:write denials:read denials:write documents:read documents:write screenings "
              "consultations meetings:read publish")
SLUGS = {"threat_notice": "threat-notices", "denial": "denials", "document": "documents"}


@dataclass
class World:
    """Objects that exist: `visible` ids the caller may reach, `hidden` ones it must get 404 for."""

    token: str
    visible: dict[str, list[str]] = field(default_factory=dict)  # path parameter -> ids
    hidden: dict[str, list[str]] = field(default_factory=dict)

    def all_hidden(self) -> set[str]:
        return {i for ids in self.hidden.values() for i in ids}

    def all_known(self) -> set[str]:
        return {i for ids in (*self.visible.values(), *self.hidden.values()) for i in ids}


def _seed(app: Flask, caller: str, make_user: Any) -> World:
    """Denmark's SPOC and its content, France's and Germany's, a meeting, a consultation, a file."""
    dk, fr, de = make_user("spoc", "DK"), make_user("spoc", "FR"), make_user("spoc", "DE")
    sec = make_user("secretariat", None)
    everyone = {"all_subscribing": True, "countries": [], "secretariat": True, "observers": False}
    de_only = {"all_subscribing": False, "countries": ["DE"], "secretariat": False, "observers": False}
    visible: dict[str, list[str]] = {"item_id": [], "attachment_id": [], "consultation_id": [], "meeting_id": []}
    hidden: dict[str, list[str]] = {"item_id": [], "attachment_id": [], "consultation_id": [], "meeting_id": []}
    for kind in SLUGS:
        visible["item_id"] += [str(helpers.make_item(app, dk, kind, "draft", audience=everyone)),
                               str(helpers.make_item(app, dk, kind, "published", audience=everyone)),
                               str(helpers.make_item(app, fr, kind, "published", audience=everyone))]
        hidden["item_id"] += [str(helpers.make_item(app, de, kind, "published", audience=de_only))]
    # A RED denial named for Denmark: a person of Denmark reads it, a machine never does.
    red = str(helpers.make_item(app, fr, "denial", "published", tlp="RED",
                                audience={"all_subscribing": False, "countries": ["DK"], "secretariat": False,
                                          "observers": False}))
    (hidden if caller == "machine" else visible)["item_id"].append(red)
    with app.app_context():
        from portal.consultations import service as consultations
        from portal.models import Item
        denial = db.session.get(Item, uuid.UUID(visible["item_id"][5]))  # France's published denial
        assert denial is not None and denial.originator_code == "FR"
        opened = consultations.open_consultation(db.session, helpers.user(dk), {
            "denial_id": str(denial.id), "applicant": "Example Exporter", "end_user": "Example Agency",
            "item_description": "IMSI catchers", "destination": "FR", "question": "Did you deny a similar export?"})
        visible["consultation_id"].append(str(opened.id))
        sec_user = helpers.user(sec)
        invited = meetings.create_meeting(db.session, sec_user, meeting_payload())
        meetings.announce(db.session, sec_user, invited)
        not_invited = meetings.create_meeting(db.session, sec_user,
                                              meeting_payload(invite_all_subscribing=False, states=["FR"]))
        meetings.announce(db.session, sec_user, not_invited)
        visible["meeting_id"].append(str(invited.id))
        hidden["meeting_id"].append(str(not_invited.id))
        db.session.remove()
    client = app.test_client()
    for who, item_id, bucket in ((dk, visible["item_id"][1], visible), (de, hidden["item_id"][0], hidden)):
        response = client.post(f"/api/v1/threat-notices/{item_id}/attachments",
                               headers=helpers.bearer(helpers.api_token(app, who)),
                               data={"file": (io.BytesIO(b"Notes from the trade fair.\n"), "notes.txt")},
                               content_type="multipart/form-data")
        assert response.status_code == 201, response.get_data(as_text=True)
        bucket["attachment_id"].append(response.get_json()["id"])
    token = machine_token(app, dk, ALL_SCOPES) if caller == "machine" else helpers.api_token(app, dk)
    return World(token, visible, hidden)


@pytest.fixture(params=["person", "machine"])
def world(request: pytest.FixtureRequest, app: Flask, make_user: Any) -> World:
    return _seed(app, str(request.param), make_user)


@pytest.fixture
def api_schema(app: Flask, world: World, request: pytest.FixtureRequest) -> Any:
    if not hasattr(request.node, "_nodeid"):  # schemathesis renames subtests through pytest's old attribute
        request.node._nodeid = request.node.nodeid
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # A body can match the document and still be refused with 422 and the field named: rules
    # JSON Schema cannot hold (the register of states, TLP:RED needs named states, a deadline
    # ten days away, one national reference per denial) belong to the validators.
    # The coverage phase (every boundary value of every parameter, hundreds of calls per
    # operation) runs with the long profile; `make test` keeps to the examples and a short fuzz.
    if request.config.getoption("hypothesis_profile", None) != "long":
        schema.config.phases.coverage.enabled = False
    acceptance = schema.config.checks.positive_data_acceptance
    # Likewise a file is 415 unless its content is of a type the portal takes (sniffed, not declared).
    acceptance.expected_statuses = [*acceptance.expected_statuses, "415", "422"]

    @schema.hook("map_path_parameters")  # type: ignore[untyped-decorator]
    def known_ids(ctx: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
        """Half the generated ids become ones that exist (visible or hidden), picked by the
        generated value itself so that a derandomised run stays the same."""
        if not path_parameters:
            return path_parameters
        out = dict(path_parameters)
        for name, value in path_parameters.items():
            pool = world.visible.get(name, []) + world.hidden.get(name, [])
            # Only well-formed ids: a malformed one is a negative case and must stay malformed.
            if pool and isinstance(value, str) and _is_uuid(value):
                digest = sum(value.encode())
                if digest % 2 == 0:
                    out[name] = pool[(digest // 2) % len(pool)]
        return out

    return schema


def hidden_ids_check(world: World) -> Any:
    """A check: an id the caller may not see (another state's, or none at all) answers 404,
    whatever else is wrong with the request (or 403 insufficient_scope / 401 before looking)."""

    def unknown_and_hidden_ids_are_404(ctx: Any, response: Response, case: Case) -> bool | None:
        if not case.path_parameters or case.method.upper() not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            return None  # OPTIONS (and methods no route has) are answered from the URL map, before any lookup
        values = {str(v) for v in case.path_parameters.values()}
        invisible = (values & world.all_hidden()) | {v for v in values if _is_uuid(v) and v not in world.all_known()}
        if not invisible or response.status_code == 404:
            return None
        code = (response.json() or {}).get("error", {}).get("code") if response.status_code >= 400 else None
        if response.status_code in (401, 405) or code == "insufficient_scope":  # refused before any lookup
            return None
        raise Failure(operation=case.operation.label, title="An id the caller may not see did not answer 404",
                      message=f"{sorted(invisible)} answered {response.status_code} ({code})")

    return unknown_and_hidden_ids_are_404


def errors_are_the_envelope(ctx: Any, response: Response, case: Case) -> bool | None:
    """Every refusal is the JSON envelope {"error": {"code", "message"}}."""
    if response.status_code < 400:
        return None
    body = response.json() if "json" in (response.headers.get("content-type") or [""])[0] else None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str) or not isinstance(error.get("message"), str):
        raise Failure(operation=case.operation.label, title="A refusal outside the error envelope",
                      message=f"{response.status_code}: {response.text[:200]!r}")
    return None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_the_api_keeps_its_document(case: Case, world: World) -> None:
    case.call_and_validate(headers=helpers.bearer(world.token),
                           additional_checks=[hidden_ids_check(world), errors_are_the_envelope])
