"""Machine clients end to end: Authlib's own client against the live app, on both databases."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import Flask
from joserfc.jwk import RSAKey
from sqlalchemy import select, update

from portal.api import tokens
from portal.extensions import db
from portal.models import AuditEntry, OAuthToken
from portal.models.base import utcnow
from tests.conftest import csrf_token, run_sql
from tests.sharing.helpers import audience, bearer

pytestmark = pytest.mark.usefixtures("app")


def fetch(base: str, client_id: str, secret: str, scope: str | None = None) -> dict[str, Any]:
    session = OAuth2Session(client_id, secret, scope=scope)
    return dict(session.fetch_token(f"{base}/oauth/token", grant_type="client_credentials"))


def api(base: str, token: str, path: str, method: str = "GET", **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{base}/api/v1{path}", headers=bearer(token), timeout=10, **kwargs)


def test_metadata_describes_the_server(live_server: str) -> None:
    meta = requests.get(f"{live_server}/.well-known/oauth-authorization-server", timeout=10).json()
    assert meta["token_endpoint"] == f"{live_server}/oauth/token"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "private_key_jwt"}
    assert "publish" in meta["scopes_supported"] and "denials:read" in meta["scopes_supported"]
    assert meta["revocation_endpoint"].endswith("/oauth/revoke")
    assert meta["introspection_endpoint"].endswith("/oauth/introspect")
    assert meta["issuer"].startswith(live_server)


def test_client_secret_flow_introspection_and_revocation(
        live_server: str, make_user: Any, register: Any, make_item: Any) -> None:
    spoc = make_user("spoc", "DK")
    denial = make_item(spoc, "denial", tlp="GREEN", audience=audience(all_subscribing=True))
    client_id, secret = register(spoc, "denials:read notices:read")
    assert secret and secret.startswith("echrics_")

    token = fetch(live_server, client_id, secret)
    assert token["token_type"].lower() == "bearer"
    assert token["expires_in"] == 900  # 15 minutes by default
    assert token["scope"] == "notices:read denials:read"  # no scope asked: all registered scopes
    access_token = token["access_token"]
    listed = api(live_server, access_token, "/denials")
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["items"]] == [str(denial)]

    session = OAuth2Session(client_id, secret)
    info = session.introspect_token(f"{live_server}/oauth/introspect", token=access_token).json()
    assert info["active"] is True and info["client_id"] == client_id and info["scope"] == token["scope"]

    assert session.revoke_token(f"{live_server}/oauth/revoke", token=access_token).status_code == 200
    assert api(live_server, access_token, "/denials").status_code == 401
    assert session.introspect_token(f"{live_server}/oauth/introspect", token=access_token).json() == {"active": False}

    wrong = OAuth2Session(client_id, secret + "x")
    with pytest.raises(Exception, match="invalid_client"):
        wrong.fetch_token(f"{live_server}/oauth/token", grant_type="client_credentials")


def test_private_key_jwt_flow(live_server: str, make_user: Any, register: Any) -> None:
    spoc = make_user("spoc", "NO")
    key = RSAKey.generate_key(2048)
    public = json.dumps(key.as_dict(private=False))
    client_id, secret = register(spoc, "denials:read", method="private_key_jwt", jwks=public)
    assert secret is None  # nothing secret is stored or shown

    url = f"{live_server}/oauth/token"
    session = OAuth2Session(client_id, key, token_endpoint_auth_method="private_key_jwt")
    session.register_client_auth_method(PrivateKeyJWT(url))
    token = session.fetch_token(url, grant_type="client_credentials")
    assert api(live_server, token["access_token"], "/denials").status_code == 200

    # Another key (not the registered one) is refused; so is a client secret for this client.
    other = OAuth2Session(client_id, RSAKey.generate_key(2048), token_endpoint_auth_method="private_key_jwt")
    other.register_client_auth_method(PrivateKeyJWT(url))
    with pytest.raises(Exception, match="invalid_client"):
        other.fetch_token(url, grant_type="client_credentials")
    with pytest.raises(Exception, match="invalid_client"):
        OAuth2Session(client_id, "echrics_guess").fetch_token(url, grant_type="client_credentials")


def test_a_private_key_is_refused_at_registration(app: Flask, make_user: Any, register: Any) -> None:
    from portal.errors import ValidationFailed

    spoc = make_user("spoc", "NO")
    private = json.dumps(RSAKey.generate_key(2048).as_dict(private=True))
    with pytest.raises(ValidationFailed) as refused:
        register(spoc, "denials:read", method="private_key_jwt", jwks=private)
    assert "jwks" in refused.value.fields


def test_expired_tokens_and_revoked_clients_are_refused(
        app: Flask, live_server: str, make_user: Any, register: Any) -> None:
    spoc = make_user("spoc", "DK")
    client_id, secret = register(spoc, "denials:read")
    first = fetch(live_server, client_id, secret)["access_token"]
    assert api(live_server, first, "/denials").status_code == 200
    run_sql(app, update(OAuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert api(live_server, first, "/denials").status_code == 401

    second = fetch(live_server, client_id, secret)["access_token"]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["clients", "revoke", client_id])
    assert result.exit_code == 0, result.output
    assert api(live_server, second, "/denials").status_code == 401
    with pytest.raises(Exception, match="invalid_client"):
        fetch(live_server, client_id, secret)


def test_scopes_are_enforced_per_route(live_server: str, make_user: Any, register: Any, make_item: Any) -> None:
    spoc = make_user("spoc", "DK")
    client_id, secret = register(spoc, "denials:read denials:write")
    with pytest.raises(Exception, match="invalid_scope"):
        fetch(live_server, client_id, secret, scope="denials:read publish")
    narrow = fetch(live_server, client_id, secret, scope="denials:read")["access_token"]
    full = fetch(live_server, client_id, secret)["access_token"]

    from tests.sharing.helpers import denial_payload
    assert api(live_server, narrow, "/denials").status_code == 200
    refused = api(live_server, narrow, "/denials", "POST", json=denial_payload())
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    for path, method in (("/threat-notices", "GET"), ("/documents", "GET"), ("/consultations", "GET"),
                         ("/screenings", "POST")):
        answer = api(live_server, full, path, method, json={})
        assert answer.status_code == 403, (path, answer.status_code)
        assert answer.json()["error"]["code"] == "insufficient_scope"

    # denials:write drafts, but without `publish` a person releases them.
    created = api(live_server, full, "/denials", "POST", json=denial_payload())
    assert created.status_code == 201, created.text
    draft = created.json()["id"]
    assert api(live_server, full, f"/denials/{draft}/publish", "POST", json={}).status_code == 403

    publisher_id, publisher_secret = register(spoc, "denials:read denials:write publish")
    publisher = fetch(live_server, publisher_id, publisher_secret)["access_token"]
    published = api(live_server, publisher, f"/denials/{draft}/publish", "POST", json={})
    assert published.status_code == 200 and published.json()["status"] == "published"


def test_red_never_reaches_a_client_and_a_client_cannot_mark_red(
        live_server: str, make_user: Any, register: Any, make_item: Any) -> None:
    dk, no, de = make_user("spoc", "DK"), make_user("spoc", "NO"), make_user("spoc", "DE")
    red = make_item(dk, "denial", tlp="RED", audience=audience(countries=["NO"]))
    amber = make_item(dk, "denial", tlp="AMBER", audience=audience(countries=["NO"]))
    own_red_draft = make_item(no, "denial", status="draft", tlp="RED", audience=audience(countries=["DK"]))

    no_id, no_secret = register(no, "denials:read denials:write")
    no_token = fetch(live_server, no_id, no_secret)["access_token"]
    listed = {i["id"] for i in api(live_server, no_token, "/denials").json()["items"]}
    assert listed == {str(amber)}
    assert api(live_server, no_token, f"/denials/{red}").status_code == 404
    assert api(live_server, no_token, f"/denials/{own_red_draft}").status_code == 404
    assert api(live_server, no_token, f"/denials/{amber}").status_code == 200

    from tests.sharing.helpers import denial_payload
    red_payload = denial_payload(tlp="RED", audience=audience(countries=["DK"]))
    made = api(live_server, no_token, "/denials", "POST", json=red_payload)
    assert made.status_code == 422 and "tlp" in made.json()["error"]["fields"]

    # Another state's items not shared with it: nothing listed, 404 by id.
    de_id, de_secret = register(de, "denials:read")
    de_token = fetch(live_server, de_id, de_secret)["access_token"]
    assert api(live_server, de_token, "/denials").json()["items"] == []
    assert api(live_server, de_token, f"/denials/{amber}").status_code == 404


def test_token_kinds_are_not_interchangeable(
        app: Flask, live_server: str, make_user: Any, register: Any, token_for: Any) -> None:
    spoc = make_user("spoc", "DK")
    personal = token_for(spoc)
    client_id, secret = register(spoc, "denials:read")
    machine = fetch(live_server, client_id, secret)["access_token"]

    assert api(live_server, personal, "/denials").status_code == 200
    assert api(live_server, machine, "/denials").status_code == 200
    session = OAuth2Session(client_id, secret)
    # The authorization server does not know personal tokens ...
    assert session.introspect_token(f"{live_server}/oauth/introspect", token=personal).json() == {"active": False}
    # ... a personal token is no client secret ...
    with pytest.raises(Exception, match="invalid_client"):
        fetch(live_server, client_id, personal)
    # ... and the personal-token lookup does not know clients' tokens, nor with its prefix.
    with app.app_context():
        assert tokens.authenticate(db.session, machine) is None
        assert tokens.authenticate(db.session, tokens.PREFIX + machine.split("_", 1)[1]) is None
    assert api(live_server, tokens.PREFIX + machine.split("_", 1)[1], "/denials").status_code == 401
    # Bearer tokens open the API only, never pages.
    page = requests.get(f"{live_server}/clients", headers=bearer(machine), allow_redirects=False, timeout=10)
    assert page.status_code == 302


def test_every_call_is_audited_with_the_client_id(
        app: Flask, live_server: str, make_user: Any, register: Any) -> None:
    spoc = make_user("spoc", "DK")
    client_id, secret = register(spoc, "denials:read")
    token = fetch(live_server, client_id, secret)["access_token"]
    api(live_server, token, "/denials")
    api(live_server, token, "/threat-notices")  # refused: audited too
    with app.app_context():
        calls = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "oauth_client.call")
                                   .order_by(AuditEntry.id)).all()
        assert [(c.details["client_id"], c.details["endpoint"], c.details["http_status"]) for c in calls] == [
            (client_id, "api.list_items", 200), (client_id, "api.list_items", 403)]
        issued = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "oauth_client.token_issued")).all()
        assert [e.details["client_id"] for e in issued] == [client_id]


def test_token_lifetime_is_capped_at_an_hour(app: Flask, live_server: str, make_user: Any, register: Any) -> None:
    app.config["OAUTH2_TOKEN_SECONDS"] = 86_400
    spoc = make_user("spoc", "DK")
    client_id, secret = register(spoc, "denials:read")
    assert fetch(live_server, client_id, secret)["expires_in"] == 3600


def test_spoc_registers_on_the_page_and_admins_oversee(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc, officer, admin = make_user("spoc", "DK"), make_user("officer", "DK"), make_user("admin", None)
    browser = login_as(app.test_client(), spoc)
    token = csrf_token(browser, "/clients")
    page = browser.post("/clients", data={"csrf_token": token, "name": "Licensing", "scopes": ["denials:read"],
                                          "auth_method": "client_secret_basic", "jwks": "", "days": "30"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "echrics_" in html and "ecc_" in html
    assert login_as(app.test_client(), officer).get("/clients").status_code == 404

    overseer = login_as(app.test_client(), admin)
    listing = overseer.get("/clients").get_data(as_text=True)
    assert "Licensing" in listing and "echrics_" not in listing and "Register a client" not in listing
    with app.app_context():
        from portal.models import OAuthClient
        client_id = db.session.scalars(select(OAuthClient.client_id)).one()
    revoked = overseer.post(f"/clients/{client_id}/revoke", data={"csrf_token": csrf_token(overseer, "/clients")})
    assert revoked.status_code == 302
    # Another state's SPOC neither sees nor revokes it.
    other = login_as(app.test_client(), make_user("spoc", "NO"))
    assert client_id not in other.get("/clients").get_data(as_text=True)
    refused = other.post(f"/clients/{client_id}/revoke", data={"csrf_token": csrf_token(other, "/clients")})
    assert refused.status_code == 404


def test_cli_creates_lists_and_refuses_bad_arguments(app: Flask, make_user: Any) -> None:
    make_user("spoc", "DK", designated=True)
    runner = app.test_cli_runner()
    made = runner.invoke(args=["clients", "create", "--country", "DK", "--name", "Licensing",
                                   "--scopes", "denials:read notices:read"])
    assert made.exit_code == 0, made.output
    lines = made.output.splitlines()
    assert lines[0].startswith("client-id: ecc_") and lines[1].startswith("client-secret: echrics_")
    client_id = lines[0].split(": ", 1)[1]
    listed = runner.invoke(args=["clients", "list"])
    assert client_id in listed.output and "echrics_" not in listed.output
    for args in (["--country", "DK", "--name", "X", "--scopes", "everything"],
                 ["--country", "ZZ", "--name", "X", "--scopes", "denials:read"]):
        bad = runner.invoke(args=["clients", "create", *args])
        assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1, bad.output
    assert runner.invoke(args=["clients", "revoke", "ecc_unknown"]).exit_code == 2
