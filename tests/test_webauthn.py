"""Security keys and passkeys on the server side, on SQLite and PostgreSQL: registration, the
key step of sign-in and its refusals, a state's requirement, removal, and the admin MFA reset.

Answers come from tests.webauthn_soft (a software authenticator); the browser tests in
tests/browser/test_webauthn_flow.py do the same with Chromium's virtual authenticator.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.api import tokens
from portal.auth.webauthn import relying_party
from portal.extensions import db
from portal.models import AuditEntry, Country, User, UserSession, WebAuthnChallenge, WebAuthnCredential
from tests.conftest import CSRF_PATTERN, Account, flash_errors, load_user, post_form, sign_in
from tests.webauthn_soft import SoftKey, page_options

GENERIC = "That security key or passkey was not accepted."


def origin(app: Flask) -> str:
    return relying_party(app.config).origin


def csrf(page_html: str) -> str:
    match = CSRF_PATTERN.search(page_html)
    assert match
    return match.group(1) or match.group(2)


def register(app: Flask, client: FlaskClient, key: SoftKey | None = None, name: str = "Blue key", *,
             answer_origin: str | None = None) -> Any:
    """Register `key` through /account/keys as the page's script would; returns the response."""
    key = key or SoftKey()
    page = client.get("/account/keys").get_data(as_text=True)
    credential = key.create(page_options(page, "create"), answer_origin or origin(app))
    return client.post("/account/keys", data={"csrf_token": csrf(page), "name": name, "credential": credential})


def key_step(app: Flask, client: FlaskClient, account: Account, key: SoftKey, **answer: Any) -> Any:
    """Password, then the key step with `key`'s answer to the code page's options."""
    assert sign_in(client, account.email).headers["Location"] == "/login/code"
    page = client.get("/login/code").get_data(as_text=True)
    options = page_options(page, "get")
    credential = key.get(options, answer.pop("answer_origin", origin(app)), **answer)
    return client.post("/login/key", data={"csrf_token": csrf(page), "credential": credential})


def keys_of(app: Flask, user_id: uuid.UUID) -> list[WebAuthnCredential]:
    with app.app_context():
        rows = list(db.session.scalars(select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id)))
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
    return rows


def audit_rows(app: Flask, action: str) -> list[tuple[str | None, dict[str, Any]]]:
    with app.app_context():
        rows = [(e.target_id, dict(e.details or {})) for e in
                db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]
        db.session.remove()
    return rows


def require_keys(app: Flask, code: str, required: bool = True) -> None:
    with app.app_context():
        country = db.session.get(Country, code)
        assert country is not None
        country.webauthn_required = required
        db.session.commit()
        db.session.remove()


@pytest.fixture
def enrolled(app: Flask, make_user: Any, login_as: Any) -> Any:
    """enrolled(role, country) -> (account, its registered SoftKey)."""

    def make(role: str = "officer", country: str | None = "DK") -> tuple[Account, SoftKey]:
        account = make_user(role, country)
        key = SoftKey()
        assert register(app, login_as(app.test_client(), account), key).headers["Location"] == "/account/keys"
        return account, key

    return make


# --- registration and sign-in ---------------------------------------------------------------

def test_register_a_key_and_sign_in_with_it(app: Flask, enrolled: Any) -> None:
    account, key = enrolled()
    [stored] = keys_of(app, account.id)
    assert stored.credential_id == key.credential_id and stored.name == "Blue key" and stored.sign_count == 0
    assert key.user_handle == account.id.bytes
    assert audit_rows(app, "mfa.key_registered") == [
        (str(account.id), {"key_id": str(stored.id), "user_verified": True})]

    client = app.test_client()
    response = key_step(app, client, account, key)
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200  # signed in
    [stored] = keys_of(app, account.id)
    assert stored.sign_count == 1 and stored.last_used_at is not None
    assert audit_rows(app, "mfa.verified")[-1] == (str(account.id), {"step": "webauthn", "key_id": str(stored.id)})
    # The account page lists it, with its last use.
    page = client.get("/account/keys").get_data(as_text=True)
    assert "Blue key" in page and "Never" not in page


def test_a_registration_answer_for_another_origin_or_rp_is_refused(app: Flask, make_user: Any, login_as: Any) -> None:
    account = make_user()
    client = login_as(app.test_client(), account)
    response = register(app, client, answer_origin="https://portal.example.evil")
    assert response.status_code == 200
    assert "The key did not answer the portal&#39;s request" in response.get_data(as_text=True)
    page = client.get("/account/keys").get_data(as_text=True)
    wrong_rp = SoftKey().create(page_options(page, "create"), origin(app), rp_id="evil.example")
    response = client.post("/account/keys", data={"csrf_token": csrf(page), "name": "Key", "credential": wrong_rp})
    assert response.status_code == 200
    assert keys_of(app, account.id) == []


def test_a_registration_challenge_works_once(app: Flask, make_user: Any, login_as: Any) -> None:
    account = make_user()
    client = login_as(app.test_client(), account)
    page = client.get("/account/keys").get_data(as_text=True)
    credential = SoftKey().create(page_options(page, "create"), origin(app))
    data = {"csrf_token": csrf(page), "name": "Key", "credential": credential}
    with client.session_transaction() as saved:
        cookie = dict(saved)
    assert client.post("/account/keys", data=data).status_code == 302
    with client.session_transaction() as session:  # an old copy of the cookie, naming the spent challenge
        session.update(cookie)
    assert client.post("/account/keys", data=data).status_code == 200
    assert len(keys_of(app, account.id)) == 1


def test_one_credential_belongs_to_one_account(app: Flask, enrolled: Any, make_user: Any, login_as: Any) -> None:
    _alice, key = enrolled()
    bob = make_user()
    response = register(app, login_as(app.test_client(), bob), key.clone(5))
    assert response.status_code == 200 and "This key is already registered." in response.get_data(as_text=True)
    assert keys_of(app, bob.id) == []


def test_the_key_step_refuses_a_clone_with_a_lower_counter(app: Flask, enrolled: Any) -> None:
    account, key = enrolled()
    assert key_step(app, app.test_client(), account, key).headers["Location"] == "/"
    assert key_step(app, app.test_client(), account, key).headers["Location"] == "/"
    assert keys_of(app, account.id)[0].sign_count == 2

    for counter in (0, 1):  # the next answers would say 1 and 2: not above the stored 2
        client = app.test_client()
        response = key_step(app, client, account, key.clone(counter))
        assert response.headers["Location"] == "/login/code"
        assert client.get("/").status_code == 302
        assert GENERIC in flash_errors(client.get("/login/code"))[0]
    assert keys_of(app, account.id)[0].sign_count == 2
    assert [d for _, d in audit_rows(app, "login.failure")] == [{"step": "webauthn", "failures": 1},
                                                                  {"step": "webauthn", "failures": 2}]
    assert key_step(app, app.test_client(), account, key).headers["Location"] == "/"


def test_the_key_step_refuses_another_users_credential(app: Flask, enrolled: Any) -> None:
    alice, alice_key = enrolled()
    bob, _bob_key = enrolled()
    # Alice's key answering Bob's challenge: as her own user handle, and claiming Bob's.
    for handle in (None, bob.id.bytes):
        client = app.test_client()
        response = key_step(app, client, bob, alice_key, user_handle=handle)
        assert response.headers["Location"] == "/login/code"
        assert client.get("/").status_code == 302
    assert keys_of(app, alice.id)[0].last_used_at is None


def test_the_key_step_refuses_another_origin_and_another_rp_id(app: Flask, enrolled: Any) -> None:
    account, key = enrolled()
    for answer in ({"answer_origin": "https://echri-portal.example.evil"}, {"rp_id": "evil.example"}):
        client = app.test_client()
        response = key_step(app, client, account, key, **answer)
        assert response.headers["Location"] == "/login/code"
        assert client.get("/").status_code == 302
    assert keys_of(app, account.id)[0].last_used_at is None


def test_a_key_answer_cannot_be_replayed(app: Flask, enrolled: Any) -> None:
    account, key = enrolled()
    client = app.test_client()
    assert sign_in(client, account.email).headers["Location"] == "/login/code"
    page = client.get("/login/code").get_data(as_text=True)
    answer = key.get(page_options(page, "get"), origin(app))
    with client.session_transaction() as saved:
        cookie = dict(saved)
    assert client.post("/login/key", data={"csrf_token": csrf(page), "credential": answer}).headers["Location"] == "/"

    # The same answer with the same (copied) pending-login cookie: the challenge is spent.
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(cookie)
    response = thief.post("/login/key", data={"csrf_token": csrf(page), "credential": answer})
    assert response.headers["Location"] == "/login/code"
    assert thief.get("/").status_code == 302


def test_malformed_answers_are_refused_and_counted(app: Flask, enrolled: Any) -> None:
    account, _key = enrolled()
    client = app.test_client()
    assert sign_in(client, account.email).headers["Location"] == "/login/code"
    for junk in ("{}", "not json", '{"id": "x", "rawId": "x", "type": "public-key", "response": {}}'):
        page = client.get("/login/code").get_data(as_text=True)
        response = client.post("/login/key", data={"csrf_token": csrf(page), "credential": junk})
        assert response.headers["Location"] == "/login/code"
    assert len(audit_rows(app, "login.failure")) == 3
    assert load_user(app, account.id).failed_logins == 3


def test_the_key_step_needs_a_pending_login(app: Flask, client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login/key", data={"csrf_token": csrf(page), "credential": "{}"})
    assert response.headers["Location"] == "/login/code"
    assert client.get("/login/code").headers["Location"] == "/login"


# --- a state's requirement ----------------------------------------------------------------

@pytest.mark.parametrize("who, code, allowed", [
    (("admin", None), "DK", True),
    (("spoc", "DK"), "DK", True),
    (("spoc", "NO"), "DK", False),
    (("officer", "DK"), "DK", False),
    (("secretariat", None), "DK", False),
])
def test_who_sets_a_states_requirement(app: Flask, make_user: Any, login_as: Any, who: tuple[str, str | None],
                                       code: str, allowed: bool) -> None:
    client = login_as(app.test_client(), make_user(*who))
    page = client.get(f"/countries/{code}").get_data(as_text=True)
    assert ("Save sign-in setting" in page) is allowed
    response = post_form(client, f"/countries/{code}/webauthn", {"required": "y"}, page=f"/countries/{code}")
    with app.app_context():
        required = db.session.get(Country, code).webauthn_required  # type: ignore[union-attr]
        db.session.remove()
    assert required is allowed
    if allowed:
        assert response.headers["Location"] == f"/countries/{code}#sign-in"
        assert audit_rows(app, "country.webauthn_requirement_changed") == [(code, {"required": True})]
        post_form(client, f"/countries/{code}/webauthn", {}, page=f"/countries/{code}")
        assert [d for _, d in audit_rows(app, "country.webauthn_requirement_changed")] == [
            {"required": True}, {"required": False}]
    else:
        assert response.status_code == 403
        assert audit_rows(app, "country.webauthn_requirement_changed") == []


def test_a_required_key_turns_totp_off_for_users_who_have_one(app: Flask, enrolled: Any, make_user: Any) -> None:
    with_key, key = enrolled("officer", "DK")
    without_key = make_user("officer", "DK")
    other_state, _ = enrolled("officer", "NO")
    require_keys(app, "DK")

    client = app.test_client()
    assert sign_in(client, with_key.email).headers["Location"] == "/login/code"
    page = client.get("/login/code").get_data(as_text=True)
    assert "Use my security key" in page and "6-digit code" not in page
    refused = post_form(client, "/login/code", {"code": with_key.code()}, page="/login/code")
    assert refused.status_code == 200
    assert "requires you to sign in with your security key" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302
    keyed = app.test_client()
    assert key_step(app, keyed, with_key, key).headers["Location"] == "/"
    assert "asks its users to sign in with a security key" not in keyed.get("/").get_data(as_text=True)

    # No key yet: the code still works, and they are asked, at each sign-in, to register one.
    for step in (0, 1):  # two sign-ins: the next code, as a code is good once
        keyless = app.test_client()
        assert sign_in(keyless, without_key.email, code=without_key.code(step)).headers["Location"] == "/"
        home = keyless.get("/").get_data(as_text=True)
        assert "Your state asks its users to sign in with a security key or passkey." in home
    # Another state without the requirement: key or code, as the user likes, and nothing asked.
    elsewhere = app.test_client()
    assert sign_in(elsewhere, other_state.email, code=other_state.code()).headers["Location"] == "/"
    assert "asks its users to sign in with a security key" not in elsewhere.get("/").get_data(as_text=True)

    require_keys(app, "DK", False)
    assert sign_in(app.test_client(), with_key.email, code=with_key.code(1)).headers["Location"] == "/"


# --- removing keys and the admin reset -----------------------------------------------------

def test_remove_a_key(app: Flask, enrolled: Any, make_user: Any, login_as: Any) -> None:
    account, key = enrolled()
    client = login_as(app.test_client(), account)
    assert register(app, client, SoftKey(), "Spare").status_code == 302
    first, spare = sorted(keys_of(app, account.id), key=lambda k: k.name)
    other = login_as(app.test_client(), make_user())
    response = post_form(other, f"/account/keys/{first.id}/remove", page="/account/keys")
    assert response.status_code == 404  # another user's key is not there for them
    assert post_form(client, f"/account/keys/{first.id}/remove", page="/account/keys").status_code == 302
    assert [k.name for k in keys_of(app, account.id)] == ["Spare"]
    assert audit_rows(app, "mfa.key_removed") == [(str(account.id), {"key_id": str(first.id)})]
    assert key_step(app, app.test_client(), account, key).headers["Location"] == "/login/code"

    # The last key of a state that requires keys stays until an administrator resets.
    require_keys(app, "DK")
    assert post_form(client, f"/account/keys/{spare.id}/remove", page="/account/keys").status_code == 403
    assert len(keys_of(app, account.id)) == 1


def test_mfa_reset_clears_keys_and_ends_sessions_and_tokens(app: Flask, enrolled: Any, make_user: Any,
                                                            login_as: Any) -> None:
    account, _key = enrolled("spoc", "DK")
    laptop = login_as(app.test_client(), account)
    assert register(app, laptop, SoftKey(), "Second").status_code == 302
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user is not None
        token = tokens.create_token(db.session, user, "Import")
        db.session.remove()
    pending = app.test_client()
    assert sign_in(pending, account.email).headers["Location"] == "/login/code"
    pending.get("/login/code")  # a live login challenge

    admin = login_as(app.test_client(), make_user("admin", None))
    assert post_form(admin, f"/users/{account.id}/reset-mfa", page=f"/users/{account.id}").status_code == 302
    assert keys_of(app, account.id) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebAuthnChallenge)
                                 .where(WebAuthnChallenge.user_id == account.id)) == 0
        assert db.session.scalar(select(func.count()).select_from(UserSession).where(
            UserSession.user_id == account.id, UserSession.revoked_at.is_(None))) == 0
        db.session.remove()
    [(_, details)] = audit_rows(app, "mfa.reset")
    assert details["keys_removed"] == 2 and details["api_tokens_revoked"] == 1 and details["sessions_ended"] >= 2
    assert laptop.get("/").status_code == 302
    with app.app_context():
        assert tokens.authenticate(db.session, token) is None
        db.session.remove()
    # The old key is of no use: the next login enrols a new authenticator app.
    assert sign_in(app.test_client(), account.email).headers["Location"] == "/login/enrol"
    assert pending.get("/login/code").headers["Location"] == "/login"  # the pending login has nothing to finish
