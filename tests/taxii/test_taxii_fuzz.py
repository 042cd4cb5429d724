"""Whatever a client puts in the TAXII query string, the server answers a TAXII message, never 500."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.taxii.service import COLLECTIONS
from tests.sharing.helpers import audience, bearer

NAMES = ["added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"]
VALUES = st.one_of(
    st.sampled_from(["", "0", "-1", "1", "99999999999999999999", "report", "report--x", "last", "first", "all",
                     "2.1", "2026-01-01T00:00:00Z", "2026-13-40T99:99:99Z", "eyJ0IjogMX0=",
                     # cursors of the right shape holding nonsense: {"t": 1}; a report id that is no UUID
                     "eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpIjoicmVwb3J0LS14In0=",
                     "report--00000000-0000-4000-8000-000000000000,identity--x", "\x00", "%", "☃"]),
    st.text(max_size=20))


@pytest.fixture
def world(app: Flask, make_user: Any, make_item: Any, token_for: Any) -> tuple[Flask, str]:
    spoc = make_user("spoc", "DK")
    make_item(spoc, "denial", tlp="GREEN", audience=audience(all_subscribing=True))
    make_item(spoc, "threat_notice", tlp="AMBER", audience=audience(all_subscribing=True))
    return app, token_for(spoc)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(params=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4),
       collection=st.sampled_from(sorted(str(c) for c in COLLECTIONS)),
       endpoint=st.sampled_from(["objects/", "manifest/", "objects/report--00000000-0000-4000-8000-000000000000/"]))
def test_any_query_is_answered_in_taxii(world: tuple[Flask, str], params: dict[str, str], collection: str,
                                        endpoint: str) -> None:
    app, token = world
    response = app.test_client().get(f"/taxii2/api/collections/{collection}/{endpoint}", query_string=params,
                                     headers={**bearer(token), "Accept": "application/taxii+json;version=2.1"})
    assert response.status_code in (200, 400, 404), (params, response.status_code, response.get_data(as_text=True))
    assert response.headers["Content-Type"] == "application/taxii+json;version=2.1"
    body = response.get_json()
    if response.status_code != 200:
        assert body["http_status"] == str(response.status_code) and body["title"]
    else:
        assert isinstance(body["more"], bool) and isinstance(body["objects"], list)
