"""The consultation authorisation matrix: actor by route (pages and API) by status.

Expected outcomes are written out from the rules, not computed with portal.access:
- only A's (DK, the denying state) and B's (FR, the consulting state) SPOCs and officers see
  a consultation; A's and B's readers, a third state in the denial's audience (NO), an
  observer state, the secretariat (in the denial's audience too) and admins get 404;
- either side writes messages until it is closed; A answers; B closes; after closing: 403.
Mutating calls send an empty payload, so an allowed call is refused by validation (422) and
changes nothing: 404 / 403 / 422 tell "hidden", "seen but not allowed", "allowed".
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import post_form
from tests.consultations.conftest import open_consultation, take_to
from tests.sharing.helpers import api_token, bearer

ACTORS = ["a_spoc", "a_officer", "a_reader", "b_spoc", "b_officer", "b_reader", "c_officer", "observer",
          "secretariat", "admin"]
STATUSES = ["open", "answered", "closed"]
PARTIES = {"a_spoc", "a_officer", "b_spoc", "b_officer"}
A_SIDE = {"a_spoc", "a_officer"}
B_SIDE = {"b_spoc", "b_officer"}

# route -> status -> actor -> expected HTTP status
VIEW = {s: {a: (200 if a in PARTIES else 404) for a in ACTORS} for s in STATUSES}
PAGE_EXPECTED: dict[str, dict[str, dict[str, int]]] = {
    "detail": VIEW,
    "message": {
        "open": {"a_spoc": 422, "a_officer": 422, "b_spoc": 422, "b_officer": 422},
        "answered": {"a_spoc": 422, "a_officer": 422, "b_spoc": 422, "b_officer": 422},
        "closed": {"a_spoc": 403, "a_officer": 403, "b_spoc": 403, "b_officer": 403},
    },
    "answer": {
        "open": {"a_spoc": 422, "a_officer": 422, "b_spoc": 403, "b_officer": 403},
        "answered": {"a_spoc": 422, "a_officer": 422, "b_spoc": 403, "b_officer": 403},
        "closed": {"a_spoc": 403, "a_officer": 403, "b_spoc": 403, "b_officer": 403},
    },
    "close": {
        "open": {"a_spoc": 403, "a_officer": 403, "b_spoc": 422, "b_officer": 422},
        "answered": {"a_spoc": 403, "a_officer": 403, "b_spoc": 422, "b_officer": 422},
        "closed": {"a_spoc": 403, "a_officer": 403, "b_spoc": 403, "b_officer": 403},
    },
}
# Anyone not listed for a mutating route does not see the consultation at all.
for _route in ("message", "answer", "close"):
    for _status in STATUSES:
        for _actor in ACTORS:
            PAGE_EXPECTED[_route][_status].setdefault(_actor, 404)

API_PATHS = {"detail": ("GET", ""), "message": ("POST", "/messages"), "answer": ("POST", "/answer"),
             "close": ("POST", "/close")}
PAGE_PATHS = {"detail": ("GET", ""), "message": ("POST", "/messages"), "answer": ("POST", "/answer"),
              "close": ("POST", "/close")}


@pytest.mark.parametrize("status", STATUSES)
def test_pages_matrix(app: Any, world: Any, login_as: Any, status: str) -> None:
    consultation_id = open_consultation(app, world)
    take_to(app, world, consultation_id, status)
    got: dict[tuple[str, str], int] = {}
    for actor in ACTORS:
        client = login_as(app.test_client(), world.people[actor])
        for route, (method, suffix) in PAGE_PATHS.items():
            url = f"/consultations/{consultation_id}{suffix}"
            response = client.get(url) if method == "GET" else post_form(client, url, {})
            got[(actor, route)] = response.status_code
        listed = str(consultation_id) in client.get("/consultations/").get_data(as_text=True)
        assert listed is (actor in PARTIES), actor
    expected = {(a, r): PAGE_EXPECTED[r][status][a] for a in ACTORS for r in PAGE_PATHS}
    assert got == expected


@pytest.mark.parametrize("status", STATUSES)
def test_api_matrix(app: Any, world: Any, status: str) -> None:
    consultation_id = open_consultation(app, world)
    take_to(app, world, consultation_id, status)
    client = app.test_client()
    got: dict[tuple[str, str], int] = {}
    for actor in ACTORS:
        headers = bearer(api_token(app, world.people[actor]))
        for route, (method, suffix) in API_PATHS.items():
            url = f"/api/v1/consultations/{consultation_id}{suffix}"
            response = (client.get(url, headers=headers) if method == "GET"
                        else client.post(url, json={}, headers=headers))
            got[(actor, route)] = response.status_code
            if response.status_code >= 400:
                assert set(response.get_json()["error"]) >= {"code", "message"}
        listing = client.get("/api/v1/consultations", headers=headers)
        assert listing.status_code == 200
        ids = [c["id"] for c in listing.get_json()["consultations"]]
        assert ids == ([str(consultation_id)] if actor in PARTIES else []), actor
    expected = {(a, r): PAGE_EXPECTED[r][status][a] for a in ACTORS for r in API_PATHS}
    assert got == expected


# Who may start a consultation from the denial's page (B must see the denial and not be A).
NEW_EXPECTED = {"a_spoc": 403, "a_officer": 403, "a_reader": 403, "b_spoc": 200, "b_officer": 200,
                "b_reader": 403, "c_officer": 200, "observer": 404, "secretariat": 403, "admin": 404}


def test_who_may_open_from_the_denial(app: Any, world: Any, login_as: Any) -> None:
    got, button = {}, {}
    for actor in ACTORS:
        client = login_as(app.test_client(), world.people[actor])
        got[actor] = client.get(f"/consultations/new?denial_id={world.denial_id}").status_code
        page = client.get(f"/denials/{world.denial_id}")
        button[actor] = "Consult the denying state" in page.get_data(as_text=True)
    assert got == NEW_EXPECTED
    assert button == {a: code == 200 for a, code in NEW_EXPECTED.items()}


def test_new_needs_a_denial_id(app: Any, world: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), world.people["b_officer"])
    assert client.get("/consultations/new").status_code == 404
    assert client.get("/consultations/new?denial_id=nonsense").status_code == 404


def test_withdrawn_denial_cannot_be_consulted(app: Any, world: Any, make_item: Any, login_as: Any) -> None:
    withdrawn = make_item(world.people["a_spoc"], "denial", "withdrawn")
    client = login_as(app.test_client(), world.people["b_officer"])
    assert client.get(f"/consultations/new?denial_id={withdrawn}").status_code == 403
    headers = bearer(api_token(app, world.people["b_officer"]))
    from tests.consultations.conftest import transaction

    response = client.post("/api/v1/consultations", json=transaction(withdrawn), headers=headers)
    assert response.status_code == 403


def test_denial_outside_the_audience_is_404_to_open(app: Any, world: Any) -> None:
    from tests.consultations.conftest import transaction

    headers = bearer(api_token(app, world.people["outside_officer"]))
    response = app.test_client().post("/api/v1/consultations", json=transaction(world.denial_id), headers=headers)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
