"""Personal API tokens die with the credentials they were issued under: a password reset, a
password change, an MFA reset and disabling the account revoke them (re-enabling brings none
back), the page says so, and the audit log counts them."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry
from tests.conftest import PASSWORD, post_form
from tests.sharing.helpers import bearer
from tests.test_auth import NEW_PASSWORD, link_from_mail, request_reset

API = "/api/v1/denials"


def api_status(app: Flask, token: str) -> int:
    return app.test_client().get(API, headers=bearer(token)).status_code


def audit_details(app: Flask, action: str, target_id: Any) -> dict[str, Any]:
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                            AuditEntry.target_id == str(target_id))).one()
        details = dict(entry.details)
        db.session.remove()
    return details


def test_password_reset_revokes_api_tokens(app: Flask, client: FlaskClient, make_user: Any, token_for: Any,
                                           mailbox: Any) -> None:
    account, bystander = make_user("officer", "DK"), make_user("officer", "DK")
    tokens = [token_for(account), token_for(account)]
    kept = token_for(bystander)
    assert [api_status(app, t) for t in tokens] == [200, 200]

    request_reset(client, account.email)
    link = link_from_mail(mailbox, account.email)
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page=link)
    assert response.headers["Location"] == "/login"
    assert "Your API tokens were revoked." in client.get("/login").get_data(as_text=True)

    assert [api_status(app, t) for t in tokens] == [401, 401]
    assert api_status(app, kept) == 200  # only the account's own tokens
    assert audit_details(app, "password.reset", account.id) == {"sessions_ended": 0, "api_tokens_revoked": 2}


def test_password_change_revokes_api_tokens(app: Flask, client: FlaskClient, make_user: Any, login_as: Any,
                                            token_for: Any) -> None:
    account = make_user("officer", "DK")
    token = token_for(account)
    assert api_status(app, token) == 200
    login_as(client, account)

    response = post_form(client, "/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    }, page="/account/password")
    assert response.status_code == 302
    page = client.get("/account/").get_data(as_text=True)
    assert "0 other session(s) were signed out. Your API tokens were revoked." in page

    assert api_status(app, token) == 401
    assert audit_details(app, "password.changed", account.id) == {"sessions_ended": 0, "api_tokens_revoked": 1}
    # A token made after the change works: only the earlier ones were revoked.
    assert api_status(app, token_for(account)) == 200


def test_password_change_without_tokens_says_nothing_about_them(client: FlaskClient, make_user: Any,
                                                                login_as: Any) -> None:
    account = make_user("officer", "DK")
    login_as(client, account)
    post_form(client, "/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    }, page="/account/password")
    page = client.get("/account/").get_data(as_text=True)
    assert "other session(s) were signed out." in page and "tokens were revoked" not in page


def test_mfa_reset_revokes_api_tokens(app: Flask, make_user: Any, login_as: Any, token_for: Any) -> None:
    account = make_user("spoc", "DK", name="Dana Dane")
    token = token_for(account)
    assert api_status(app, token) == 200
    admin = login_as(app.test_client(), make_user("admin", None))

    response = post_form(admin, f"/users/{account.id}/reset-mfa", page=f"/users/{account.id}")
    assert response.status_code == 302
    page = admin.get(f"/users/{account.id}").get_data(as_text=True)
    assert "Dana Dane&#39;s API tokens were revoked." in page

    assert api_status(app, token) == 401
    assert audit_details(app, "mfa.reset", account.id) == {"sessions_ended": 0, "api_tokens_revoked": 1, "keys_removed": 0}


def test_disabling_revokes_api_tokens_and_enabling_brings_none_back(
    app: Flask, make_user: Any, login_as: Any, token_for: Any,
) -> None:
    account = make_user("officer", "DK", name="Olaf Officer")
    token = token_for(account)
    assert api_status(app, token) == 200
    admin = login_as(app.test_client(), make_user("admin", None))

    assert post_form(admin, f"/users/{account.id}/disable", page=f"/users/{account.id}").status_code == 302
    assert "Olaf Officer&#39;s API tokens were revoked." in admin.get(f"/users/{account.id}").get_data(as_text=True)
    assert api_status(app, token) == 401
    assert audit_details(app, "user.disabled", account.id) == {
        "from": "active", "to": "disabled", "sessions_ended": 0, "api_tokens_revoked": 1}

    assert post_form(admin, f"/users/{account.id}/enable", page=f"/users/{account.id}").status_code == 302
    assert api_status(app, token) == 401  # revoked, not merely refused while disabled
