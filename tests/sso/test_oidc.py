"""Single sign-on through a state's OpenID Connect provider, against a real provider process.

The provider proves who; the portal decides what: an existing active account of that state,
matched by its verified e-mail, bound to the provider's subject; the portal's second step
unless the state accepts the token's amr/acr.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.keys import service as keys
from portal.models import AuditEntry, Role, User
from portal.models.identity import IdentityBinding, StateIdentityProvider
from portal.sso import settings
from tests.conftest import Account, flash_errors, post_form, run_sql
from tests.oidc_provider import OidcProvider

SECRET = "client-secret-of-the-danish-ministry"


def attach(app: Flask, make_user: Any, issuer: str, state: str = "DK", **extra: Any) -> None:
    """An administrator attaches `issuer` to `state` (secret stored sealed unless `extra` says otherwise)."""
    admin = make_user(Role.ADMIN)
    with app.app_context():
        actor = db.session.get(User, admin.id)
        assert actor is not None
        settings.save_provider(db.session, actor, state, {
            "issuer": issuer, "client_id": f"portal-{state.lower()}", "secret_source": "sealed",
            "client_secret": SECRET, **extra})
        db.session.remove()


def _replace_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    query[name] = [value]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def sso(client: FlaskClient, provider: OidcProvider, sub: str, state: str = "DK",
        tamper: Callable[[str], str] | None = None) -> Any:
    """Start at the portal, sign in at the provider as `sub`, come back: the callback's response."""
    response = client.get(f"/login/sso/{state}")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    url = response.headers["Location"]
    assert url.startswith(provider.issuer + "/oauth2/authorize?")
    back = provider.authorize(tamper(url) if tamper else url, sub)
    parts = urlsplit(back)
    assert parts.path == f"/login/sso/{state}/callback"
    return client.get(f"{parts.path}?{parts.query}")


def binding(app: Flask, user_id: uuid.UUID) -> tuple[str, str] | None:
    with app.app_context():
        found = db.session.get(IdentityBinding, user_id)
        result = (found.issuer, found.subject) if found else None
        db.session.remove()
    return result


def audit_entries(app: Flask, prefix: str) -> list[AuditEntry]:
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action.startswith(prefix))
                                          .order_by(AuditEntry.id)))
        for entry in entries:
            db.session.expunge(entry)
        db.session.remove()
    return entries


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/account/")
    return response.status_code == 200


def refused(response: Any, client: FlaskClient) -> None:
    """The generic refusal: back at the sign-in page with the same message as a wrong password, no session."""
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login")
    assert any("is not right" in message for message in flash_errors(page))
    assert not signed_in(client)


@pytest.fixture
def officer(make_user: Any) -> Account:
    return make_user(Role.OFFICER, "DK")


def test_sign_in_binds_the_subject_then_asks_the_portal_second_step(app: Flask, client: FlaskClient, idp: OidcProvider,
                                                                      make_user: Any, officer: Account) -> None:
    attach(app, make_user, idp.issuer)
    idp.set_user("dk-officer-1", {"email": officer.email, "email_verified": True})
    start = client.get("/login/sso/DK", query_string={"next": "/countries/"})
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    # Authorisation code flow with PKCE (S256), state and nonce, for our client and callback.
    assert query["response_type"] == ["code"] and query["client_id"] == ["portal-dk"]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0] and "openid" in query["scope"][0].split()
    assert query["redirect_uri"] == ["http://127.0.0.1:5000/login/sso/DK/callback"]
    back = urlsplit(idp.authorize(start.headers["Location"], "dk-officer-1"))
    response = client.get(f"{back.path}?{back.query}")
    # The provider proved who; the portal's own second factor is still asked for.
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert not signed_in(client)
    assert binding(app, officer.id) == (idp.issuer, "dk-officer-1")
    response = post_form(client, "/login/code", {"code": officer.code()}, page="/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/countries/"
    assert signed_in(client)
    actions = [e.action for e in audit_entries(app, "") if e.target_id == str(officer.id)]
    assert actions[-4:] == ["sso.bound", "sso.verified", "mfa.verified", "login.success"]
    verified = audit_entries(app, "sso.verified")[-1]
    assert verified.details == {"country": "DK", "mfa_by_idp": False}

    # The next time, the same subject signs in again (the binding is checked, not rewritten).
    client.post("/logout", data={"csrf_token": _csrf(client)})
    assert not signed_in(client)
    response = sso(client, idp, "dk-officer-1")
    assert response.headers["Location"] == "/login/code"
    assert len(audit_entries(app, "sso.bound")) == 1


def _csrf(client: FlaskClient) -> str:
    from tests.conftest import csrf_token
    return csrf_token(client, "/account/")


def test_an_amr_the_state_accepts_replaces_the_second_step(app: Flask, client: FlaskClient, idp: OidcProvider,
                                                           make_user: Any, officer: Account) -> None:
    attach(app, make_user, idp.issuer, mfa_amr="hwk mfa")
    idp.set_user("dk-key-user", {"email": officer.email, "email_verified": True, "amr": ["pwd", "hwk"]})
    response = sso(client, idp, "dk-key-user")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(client)
    assert audit_entries(app, "sso.verified")[-1].details == {"country": "DK", "mfa_by_idp": True}
    assert audit_entries(app, "login.success")[-1].target_id == str(officer.id)

    # A password alone at the provider does not count as the second factor.
    other = FlaskClient(app, app.response_class, use_cookies=True)
    idp.set_user("dk-key-user", {"email": officer.email, "email_verified": True, "amr": ["pwd"], "acr": "1"})
    response = sso(other, idp, "dk-key-user")
    assert response.headers["Location"] == "/login/code"


def test_an_acr_the_state_accepts_replaces_the_second_step(app: Flask, client: FlaskClient, idp: OidcProvider,
                                                           make_user: Any, officer: Account) -> None:
    attach(app, make_user, idp.issuer, mfa_acr="https://refeds.org/profile/mfa")
    idp.set_user("dk-acr", {"email": officer.email, "acr": "https://refeds.org/profile/mfa"})
    response = sso(client, idp, "dk-acr")
    assert response.headers["Location"] == "/" and signed_in(client)
    assert "asks its users to sign in with a security key" not in client.get("/").get_data(as_text=True)

    # Signed in by the provider alone, in a state that requires keys: still asked to register one.
    from tests.test_webauthn import require_keys
    require_keys(app, "DK")
    again = FlaskClient(app, app.response_class, use_cookies=True)
    assert sso(again, idp, "dk-acr").headers["Location"] == "/"
    assert "Your state asks its users to sign in with a security key" in again.get("/").get_data(as_text=True)


def test_a_wrong_nonce_is_refused(app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any,
                                  officer: Account) -> None:
    attach(app, make_user, idp.issuer, mfa_amr="hwk")
    idp.set_user("dk-nonce", {"email": officer.email, "amr": ["hwk"]})
    # The provider signs a token for a nonce the portal did not send (a replayed or injected token).
    response = sso(client, idp, "dk-nonce", tamper=lambda url: _replace_param(url, "nonce", "not-the-portals-nonce"))
    refused(response, client)
    assert binding(app, officer.id) is None
    assert audit_entries(app, "login.failure")[-1].details == {"step": "oidc", "reason": "token refused",
                                                               "country": "DK"}


def test_an_expired_id_token_is_refused(app: Flask, client: FlaskClient, expired_idp: OidcProvider, make_user: Any,
                                        officer: Account) -> None:
    attach(app, make_user, expired_idp.issuer, mfa_amr="hwk")
    expired_idp.set_user("dk-expired", {"email": officer.email, "amr": ["hwk"]})
    refused(sso(client, expired_idp, "dk-expired"), client)
    assert binding(app, officer.id) is None
    assert audit_entries(app, "login.failure")[-1].details["reason"] == "token refused"


def test_a_token_from_another_issuer_is_refused(app: Flask, client: FlaskClient, other_issuer_idp: OidcProvider,
                                                make_user: Any, officer: Account) -> None:
    attach(app, make_user, other_issuer_idp.issuer, mfa_amr="hwk")
    other_issuer_idp.set_user("dk-elsewhere", {"email": officer.email, "amr": ["hwk"]})
    refused(sso(client, other_issuer_idp, "dk-elsewhere"), client)
    assert binding(app, officer.id) is None


def test_a_tampered_state_is_refused(app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any,
                                     officer: Account) -> None:
    attach(app, make_user, idp.issuer, mfa_amr="hwk")
    idp.set_user("dk-state", {"email": officer.email, "amr": ["hwk"]})
    # A code obtained for another browser's request (its state is not in this session).
    refused(sso(client, idp, "dk-state", tamper=lambda url: _replace_param(url, "state", "someone-elses")), client)


def test_an_unknown_email_is_refused(app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any) -> None:
    attach(app, make_user, idp.issuer)
    idp.set_user("dk-stranger", {"email": "stranger@ministry.example", "email_verified": True})
    refused(sso(client, idp, "dk-stranger"), client)
    entry = audit_entries(app, "login.failure")[-1]
    assert entry.details == {"step": "oidc", "reason": "unknown account", "country": "DK"}
    assert entry.actor_label is None and entry.target_id is None  # the address is not recorded
    with app.app_context():
        assert db.session.scalar(select(IdentityBinding)) is None
        db.session.remove()


def test_a_different_subject_for_the_same_email_is_refused_and_audited(
        app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any, officer: Account) -> None:
    attach(app, make_user, idp.issuer)
    idp.set_user("dk-original", {"email": officer.email, "email_verified": True})
    assert sso(client, idp, "dk-original").headers["Location"] == "/login/code"
    # Later someone else at the provider holds the same address.
    impostor = FlaskClient(app, app.response_class, use_cookies=True)
    idp.set_user("dk-impostor", {"email": officer.email, "email_verified": True})
    refused(sso(impostor, idp, "dk-impostor"), impostor)
    assert binding(app, officer.id) == (idp.issuer, "dk-original")
    mismatch = audit_entries(app, "sso.subject_mismatch")
    assert len(mismatch) == 1 and mismatch[0].target_id == str(officer.id)
    assert audit_entries(app, "login.failure")[-1].details == {"step": "oidc", "failures": 1}
    with app.app_context():
        user = db.session.get(User, officer.id)
        assert user is not None and user.failed_logins == 1  # counted like a wrong password
        db.session.remove()


def test_a_user_of_another_state_cannot_sign_in_through_this_states_provider(
        app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any) -> None:
    norwegian = make_user(Role.SPOC, "NO")
    attach(app, make_user, idp.issuer, mfa_amr="hwk")
    idp.set_user("no-spoc", {"email": norwegian.email, "email_verified": True, "amr": ["hwk"]})
    refused(sso(client, idp, "no-spoc"), client)
    assert binding(app, norwegian.id) is None
    assert audit_entries(app, "login.failure")[-1].details == {"step": "oidc", "reason": "other state",
                                                               "country": "DK"}


def test_an_unverified_email_is_refused(app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any,
                                        officer: Account) -> None:
    attach(app, make_user, idp.issuer, mfa_amr="hwk")
    idp.set_user("dk-unverified", {"email": officer.email, "email_verified": False, "amr": ["hwk"]})
    refused(sso(client, idp, "dk-unverified"), client)
    assert binding(app, officer.id) is None


def test_a_locked_or_disabled_account_is_refused(app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any,
                                                 officer: Account) -> None:
    attach(app, make_user, idp.issuer, mfa_amr="hwk")
    idp.set_user("dk-locked", {"email": officer.email, "amr": ["hwk"]})
    run_sql(app, "UPDATE users SET locked_until = :until WHERE email = :email",
            {"until": "2999-01-01 00:00:00", "email": officer.email})
    refused(sso(client, idp, "dk-locked"), client)
    run_sql(app, "UPDATE users SET locked_until = NULL, status = 'disabled' WHERE email = :email",
            {"email": officer.email})
    refused(sso(client, idp, "dk-locked"), client)
    assert binding(app, officer.id) is None


def test_client_secret_from_the_environment(app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any,
                                            officer: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    attach(app, make_user, idp.issuer, secret_source="environment", secret_env="SSO_DK_TEST_SECRET",
           client_secret="", mfa_amr="hwk")
    idp.set_user("dk-env", {"email": officer.email, "amr": ["hwk"]})
    # Unset: the state's single sign-on is unavailable, and says so without refusing anyone.
    monkeypatch.delenv("SSO_DK_TEST_SECRET", raising=False)
    response = sso(client, idp, "dk-env")
    assert response.headers["Location"] == "/login"
    assert any("not available" in m for m in flash_errors(client.get("/login")))
    monkeypatch.setenv("SSO_DK_TEST_SECRET", "from-the-environment")
    assert sso(client, idp, "dk-env").headers["Location"] == "/" and signed_in(client)


# --- the administrator's settings --------------------------------------------------------

def test_admin_attaches_a_provider_with_a_sealed_secret(app: Flask, client: FlaskClient, idp: OidcProvider,
                                                        make_user: Any, login_as: Any) -> None:
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    assert client.get("/admin/sso").status_code == 200
    response = post_form(client, "/admin/sso/DK", {
        "issuer": idp.issuer, "client_id": "portal-dk", "secret_source": "sealed", "client_secret": SECRET,
        "email_claim": "email", "mfa_amr": "hwk, mfa", "mfa_acr": "", "enabled": "y"}, page="/admin/sso/DK")
    assert response.status_code == 302, flash_errors(response) or response.get_data(as_text=True)[:2000]
    with app.app_context():
        provider = db.session.get(StateIdentityProvider, "DK")
        assert provider is not None and provider.secret_env is None and provider.secret_sealed is not None
        assert SECRET.encode() not in provider.secret_sealed  # encrypted at rest
        assert settings.client_secret(provider) == SECRET
        assert provider.amr_values == {"hwk", "mfa"}
        db.session.remove()
    entry = audit_entries(app, "sso.provider_attached")[-1]
    assert entry.details["mfa_amr"] == ["hwk", "mfa"] and entry.details["mfa_acr"] == []
    assert entry.details["secret_source"] == "sealed" and entry.actor_id == str(admin.id)
    assert SECRET not in str(entry.details)

    # Changing only the accepted values is recorded as such, and the stored secret is kept.
    response = post_form(client, "/admin/sso/DK", {
        "issuer": idp.issuer, "client_id": "portal-dk", "secret_source": "sealed", "client_secret": "",
        "email_claim": "email", "mfa_amr": "", "mfa_acr": "", "enabled": "y"}, page="/admin/sso/DK")
    assert response.status_code == 302
    entry = audit_entries(app, "sso.provider_changed")[-1]
    assert entry.details["changed"] == ["mfa_amr"] and entry.details["mfa_amr"] == []
    with app.app_context():
        provider = db.session.get(StateIdentityProvider, "DK")
        assert provider is not None and settings.client_secret(provider) == SECRET
        db.session.remove()


def test_admin_form_refuses_bad_settings(app: Flask, client: FlaskClient, make_user: Any, login_as: Any) -> None:
    login_as(client, make_user(Role.ADMIN))
    response = post_form(client, "/admin/sso/DK", {
        "issuer": "http://login.ministry.example", "client_id": "portal-dk", "secret_source": "environment",
        "secret_env": "lower case", "email_claim": "email", "mfa_amr": "mfa <script>"}, page="/admin/sso/DK")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The issuer must use https." in page and "Name the environment variable" in page
    assert "is not valid here" in page
    with app.app_context():
        assert db.session.get(StateIdentityProvider, "DK") is None
        db.session.remove()


def test_only_admins_see_the_settings(app: Flask, client: FlaskClient, make_user: Any, login_as: Any) -> None:
    login_as(client, make_user(Role.SPOC, "DK"))
    assert client.get("/admin/sso").status_code == 404
    assert client.get("/admin/sso/DK").status_code == 404


def test_a_new_issuer_forgets_the_old_bindings_and_removal_detaches(
        app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any, officer: Account, login_as: Any) -> None:
    attach(app, make_user, idp.issuer)
    idp.set_user("dk-bound", {"email": officer.email})
    sso(client, idp, "dk-bound")
    assert binding(app, officer.id) is not None
    attach(app, make_user, idp.issuer.replace("127.0.0.1", "localhost"))
    assert binding(app, officer.id) is None
    assert audit_entries(app, "sso.provider_changed")[-1].details["bindings_removed"] == 1
    admin_client = FlaskClient(app, app.response_class, use_cookies=True)
    login_as(admin_client, make_user(Role.ADMIN))
    assert post_form(admin_client, "/admin/sso/DK/remove", page="/admin/sso/DK").status_code == 302
    assert client.get("/login/sso/DK").status_code == 404
    assert audit_entries(app, "sso.provider_removed")[-1].details == {"country": "DK", "bindings_removed": 0}


def test_master_key_rotation_reseals_the_client_secret(app: Flask, idp: OidcProvider, make_user: Any) -> None:
    attach(app, make_user, idp.issuer)
    result = app.test_cli_runner().invoke(args=["keys", "rotate-master"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        keys.reset_provider()
        provider = db.session.get(StateIdentityProvider, "DK")
        assert provider is not None and provider.secret_master_key_id == keys.provider().key_id()
        assert settings.client_secret(provider) == SECRET
        db.session.remove()
    assert Path(app.instance_path, "master.key").exists()


@pytest.mark.parametrize("issuer", ["http://127.0.0.1:1", "{idp}/"], ids=["unreachable", "discovery-names-another"])
def test_an_unusable_provider_is_unavailable_not_a_refusal(app: Flask, client: FlaskClient, idp: OidcProvider,
                                                           make_user: Any, officer: Account, issuer: str) -> None:
    # Nothing listens on port 1; and a discovery document must name exactly the configured issuer
    # (here the administrator typed a trailing slash the provider does not use).
    attach(app, make_user, issuer.format(idp=idp.issuer))
    response = client.get("/login/sso/DK")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert any("not available" in m for m in flash_errors(client.get("/login")))
    assert audit_entries(app, "login.") == []


def test_repeated_subject_mismatches_lock_the_account_like_wrong_passwords(
        app: Flask, client: FlaskClient, idp: OidcProvider, make_user: Any, officer: Account) -> None:
    attach(app, make_user, idp.issuer, mfa_amr="hwk")
    idp.set_user("dk-owner", {"email": officer.email, "amr": ["hwk"]})
    assert sso(client, idp, "dk-owner").headers["Location"] == "/"
    idp.set_user("dk-intruder", {"email": officer.email, "amr": ["hwk"]})
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        intruder = FlaskClient(app, app.response_class, use_cookies=True)
        refused(sso(intruder, idp, "dk-intruder"), intruder)
    assert [e.action for e in audit_entries(app, "login.locked")] == ["login.locked"]
    # Locked: even the bound subject must wait, as after wrong passwords.
    owner = FlaskClient(app, app.response_class, use_cookies=True)
    refused(sso(owner, idp, "dk-owner"), owner)
