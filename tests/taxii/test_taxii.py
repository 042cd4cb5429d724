"""The TAXII 2.1 server against real clients: taxii2-client and stix2's TAXIICollectionSource over
HTTP to the live app, with OAuth2 client tokens (fetched by Authlib's client) and personal tokens."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from flask import Flask
from stix2 import Filter, TAXIICollectionSource
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from portal.extensions import db
from portal.models import Item
from portal.models.item import Tlp
from portal.sharing import service
from portal.stix.objects import EXTENSION_ID, TLP_MARKING_IDS
from portal.taxii.service import COLLECTIONS
from tests.sharing import helpers
from tests.sharing.helpers import audience, bearer
from tests.taxii.test_stix import assert_valid

pytestmark = pytest.mark.usefixtures("app")

TAXII = "application/taxii+json;version=2.1"
NOTICES, DENIALS = (str(c.id) for c in COLLECTIONS.values())


class BearerAuth(requests.auth.AuthBase):
    """How a national system presents its token to taxii2-client."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def collection(base: str, token: str, collection_id: str) -> Collection:
    return Collection(f"{base}/taxii2/api/collections/{collection_id}/", auth=BearerAuth(token))


def get(base: str, token: str | None, path: str, **params: Any) -> requests.Response:
    headers = {"Accept": TAXII, **(bearer(token) if token else {})}
    return requests.get(f"{base}/taxii2{path}", headers=headers, params=params, timeout=10)


def report_ids(objects: list[Any]) -> set[str]:
    return {o["id"] for o in objects if o["type"] == "report"}


def test_discovery_collections_and_objects_through_taxii2_client(
        live_server: str, make_user: Any, make_item: Any, machine_token: Any) -> None:
    spoc = make_user("spoc", "DK")
    notice = make_item(spoc, "threat_notice", tlp="GREEN", audience=audience(all_subscribing=True))
    denial = make_item(spoc, "denial", tlp="AMBER", audience=audience(all_subscribing=True))
    token = machine_token(make_user("spoc", "NO"), "notices:read denials:read")

    server = Server(f"{live_server}/taxii2/", auth=BearerAuth(token))
    assert server.title == "ECHRI Portal TAXII server"
    [root] = server.api_roots
    assert root.url == f"{live_server}/taxii2/api/" and server.default.url == root.url
    assert TAXII in root.versions
    titles = {c.id: c.title for c in root.collections}
    assert titles == {NOTICES: "Threat notices", DENIALS: "Denials"}
    assert all(c.can_read and not c.can_write for c in root.collections)

    notices = next(c for c in root.collections if c.id == NOTICES)
    envelope = notices.get_objects()
    assert report_ids(envelope["objects"]) == {f"report--{notice}"}
    assert_valid(json.dumps({"type": "bundle", "id": "bundle--0b3f7c0e-6f5e-4c8e-9a43-3f1b8f0c2d11",
                                           "objects": envelope["objects"]}))
    denials = collection(live_server, token, DENIALS)
    [report] = [o for o in denials.get_objects(type="report")["objects"]]
    assert report["id"] == f"report--{denial}"
    assert report["object_marking_refs"] == [TLP_MARKING_IDS[Tlp.AMBER]]
    assert report["extensions"][EXTENSION_ID]["national_ref"].startswith("DK-")
    one = denials.get_object(f"report--{denial}")
    assert [o["id"] for o in one["objects"]] == [f"report--{denial}"]
    manifest = denials.get_manifest(type="report")
    assert [(m["id"], m["version"]) for m in manifest["objects"]] == [(report["id"], report["modified"])]
    assert manifest["objects"][0]["media_type"] == "application/stix+json;version=2.1"


def test_ingest_with_stix2_taxii_collection_source(
        live_server: str, make_user: Any, make_item: Any, token_for: Any) -> None:
    spoc = make_user("spoc", "DK")
    ids = [make_item(spoc, "denial", tlp="GREEN", audience=audience(all_subscribing=True)) for _ in range(3)]
    source = TAXIICollectionSource(collection(live_server, token_for(make_user("reader", "FR")), DENIALS),
                                   items_per_page=2)
    reports = source.query([Filter("type", "=", "report")])
    assert {r.id for r in reports} == {f"report--{i}" for i in ids}
    assert all(r.created_by_ref == reports[0].created_by_ref for r in reports)
    denmark = source.get(reports[0].created_by_ref)
    assert denmark.name == "Denmark" and denmark.identity_class == "organization"
    assert source.get(f"report--{ids[0]}").name.startswith("Denial of IMSI catchers")


def test_red_and_unshared_items_never_reach_a_machine(
        live_server: str, make_user: Any, make_item: Any, machine_token: Any, token_for: Any) -> None:
    dk = make_user("spoc", "DK")
    red = make_item(dk, "denial", tlp="RED", audience=audience(countries=["NO"]))
    amber_for_no = make_item(dk, "denial", tlp="AMBER", audience=audience(countries=["NO"]))
    no_client = machine_token(make_user("spoc", "NO"), "denials:read")
    fr_client = machine_token(make_user("spoc", "FR"), "denials:read")
    no_person = token_for(make_user("spoc", "NO"))

    def served(token: str) -> set[str]:
        return report_ids(collection(live_server, token, DENIALS).get_objects()["objects"])

    assert served(no_client) == {f"report--{amber_for_no}"}
    assert served(no_person) == {f"report--{amber_for_no}"}  # a feed is a bulk export: no RED for people either
    assert served(fr_client) == set()  # another state's AMBER item for named states only
    for token, object_id in ((no_client, red), (no_person, red), (fr_client, amber_for_no)):
        assert get(live_server, token, f"/api/collections/{DENIALS}/objects/report--{object_id}/").status_code == 404
    # Nor through the STIX download of the API.
    stix = requests.get(f"{live_server}/api/v1/denials/{red}/stix", headers=bearer(no_client), timeout=10)
    assert stix.status_code == 404


def test_scopes_and_tokens(live_server: str, make_user: Any, make_item: Any, machine_token: Any) -> None:
    spoc = make_user("spoc", "DK")
    make_item(spoc, "denial", tlp="GREEN", audience=audience(all_subscribing=True))
    notices_only = machine_token(spoc, "notices:read")
    root = ApiRoot(f"{live_server}/taxii2/api/", auth=BearerAuth(notices_only))
    assert [c.title for c in root.collections] == ["Threat notices"]
    refused = get(live_server, notices_only, f"/api/collections/{DENIALS}/objects/")
    assert refused.status_code == 404 and refused.headers["Content-Type"] == TAXII
    assert refused.json()["http_status"] == "404"
    with pytest.raises(requests.HTTPError, match="404"):
        collection(live_server, notices_only, DENIALS).get_objects()
    # A client without any reading scope is refused the server altogether (RFC 6750 insufficient_scope).
    meetings = machine_token(spoc, "meetings:read")
    assert get(live_server, meetings, "/").status_code == 403
    writer = machine_token(spoc, "denials:write")
    assert get(live_server, writer, f"/api/collections/{DENIALS}/").status_code == 403
    # No token, a wrong one, or a signed-in browser's cookie: 401 as a TAXII error message.
    for token in (None, "echri_not-a-token"):
        response = get(live_server, token, "/api/collections/")
        assert response.status_code == 401 and response.json()["http_status"] == "401"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert get(live_server, notices_only, "/").headers["Content-Type"] == TAXII
    unacceptable = requests.get(f"{live_server}/taxii2/", headers={"Accept": "text/html", **bearer(notices_only)},
                                timeout=10)
    assert unacceptable.status_code == 406


def test_pagination_and_added_after(
        app: Flask, live_server: str, make_user: Any, make_item: Any, machine_token: Any) -> None:
    spoc = make_user("spoc", "DK")
    first = [make_item(spoc, "threat_notice", tlp="CLEAR", audience=audience(all_subscribing=True)) for _ in range(3)]
    token = machine_token(spoc, "notices:read")
    path = f"/api/collections/{NOTICES}/objects/"

    seen: list[str] = []
    added: list[str] = []
    cursor = None
    for _ in range(20):
        params = {"match[type]": "report", "limit": 2, **({"next": cursor} if cursor else {})}
        response = get(live_server, token, path, **params)
        assert response.status_code == 200 and response.headers["Content-Type"] == TAXII
        body = response.json()
        assert len(body["objects"]) <= 2
        seen += [o["id"] for o in body["objects"]]
        added += [response.headers["X-TAXII-Date-Added-First"], response.headers["X-TAXII-Date-Added-Last"]]
        if not body["more"]:
            assert "next" not in body
            break
        cursor = body["next"]
    assert seen == [f"report--{i}" for i in first]  # in the order they were added, each once
    assert added == sorted(added)

    # Every object of the collection, page by page through taxii2-client.
    pages = list(as_pages(collection(live_server, token, NOTICES).get_objects, per_request=3))
    assert len(pages) > 1
    objects = [o for p in pages for o in p.get("objects", [])]
    assert len({o["id"] for o in objects}) == len(objects)
    assert report_ids(objects) == {f"report--{i}" for i in first}
    assert {"identity", "marking-definition", "extension-definition"} <= {o["type"] for o in objects}

    last = get(live_server, token, path, **{"match[type]": "report"}).headers["X-TAXII-Date-Added-Last"]
    time.sleep(0.01)
    later = make_item(spoc, "threat_notice", tlp="GREEN", audience=audience(all_subscribing=True))
    with app.app_context():  # withdrawing is a new version of the object: it is added again
        service.withdraw(db.session, helpers.user(spoc), db.session.get(Item, first[0]), "Superseded.")
        db.session.remove()
    news = get(live_server, token, path, added_after=last)
    assert [o["id"] for o in news.json()["objects"]] == [f"report--{later}", f"report--{first[0]}"]
    assert news.json()["objects"][1]["revoked"] is True
    forged = "eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpIjoicmVwb3J0LS14In0="  # a cursor whose report id is no UUID
    assert get(live_server, token, path, next=forged).status_code == 400
    assert get(live_server, token, path, added_after=news.headers["X-TAXII-Date-Added-Last"]).json() == {
        "more": False, "objects": []}
    for bad in ({"added_after": "yesterday"}, {"limit": "0"}, {"next": "not-a-cursor"}):
        response = get(live_server, token, path, **bad)
        assert response.status_code == 400 and response.json()["http_status"] == "400"


def test_admins_and_browser_sessions_get_nothing(
        app: Flask, live_server: str, make_user: Any, make_item: Any, token_for: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "DK")
    make_item(spoc, "denial", tlp="CLEAR", audience=audience(all_subscribing=True, secretariat=True))
    admin = token_for(make_user("admin", None))
    assert get(live_server, admin, "/api/collections/").json() == {"collections": []}  # admins read no content
    assert get(live_server, admin, f"/api/collections/{DENIALS}/objects/").status_code == 404
    secretariat = token_for(make_user("secretariat", None))
    assert len(report_ids(get(live_server, secretariat, f"/api/collections/{DENIALS}/objects/").json()["objects"])) == 1
    # A signed-in browser's cookie is not a bearer token: the feed never rides on a session.
    browser = login_as(app.test_client(), make_user("spoc", "DK"))
    assert browser.get("/").status_code == 200
    assert browser.get(f"/taxii2/api/collections/{DENIALS}/objects/").status_code == 401


def test_every_machine_call_is_audited(app: Flask, live_server: str, make_user: Any, machine_token: Any) -> None:
    from sqlalchemy import select

    from portal.models import AuditEntry

    token = machine_token(make_user("spoc", "DK"), "denials:read")
    assert get(live_server, token, f"/api/collections/{DENIALS}/manifest/").status_code == 200
    with app.app_context():
        calls = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "oauth_client.call")).all()
        details = [(e.details["endpoint"], e.details["http_status"], e.details["client_id"]) for e in calls]
        db.session.remove()
    assert [(endpoint, status) for endpoint, status, _ in details] == [("taxii.manifest", 200)]
    assert details[0][2].startswith("ecc_")
