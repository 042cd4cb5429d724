"""Sign-in, the second factor, sessions, the password policy, resets and invitations.

Everything goes through HTTP as a browser would (CSRF tokens included); the database is
only read to check what the pages did, or written to simulate the passing of time.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.auth import sessions
from portal.auth.service import CODE_LOGIN_ERROR, GENERIC_LOGIN_ERROR
from portal.extensions import db
from portal.models import AccountToken, AuditEntry, User, UserSession, UserStatus
from portal.models.base import utcnow
from tests.conftest import (
    PASSWORD, Account, audit_actions, flash_errors, load_user, post_form, run_sql, sign_in,
)

NEW_PASSWORD = "river-copper-window-77"
COOKIE = "echri_session"
LINK_PATTERN = re.compile(r"http://[^/\s]+(/(?:password/reset|invitation)/[A-Za-z0-9_-]+)")


def wrong_code_for(secret: str) -> str:
    """A well-formed code that no time step near now produces for `secret`."""
    totp, now = pyotp.TOTP(secret), int(utcnow().timestamp())
    valid = {totp.at(now + 30 * k) for k in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)


def wrong_code(account: Account) -> str:
    return wrong_code_for(account.totp_secret)


def session_rows(app: Flask, user_id: Any) -> list[UserSession]:
    with app.app_context():
        rows = list(db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)))
        db.session.remove()
    return rows


def link_from_mail(mailbox: Any, address: str) -> str:
    messages = mailbox.to(address)
    assert len(messages) == 1, f"expected one message to {address}, got {len(messages)}"
    match = LINK_PATTERN.search(mailbox.text(messages[0]))
    assert match, mailbox.text(messages[0])
    return match.group(1)


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- the normal sign-in ------------------------------------------------------------------

def test_full_login_password_then_code_then_home(app: Flask, client: FlaskClient, make_user: Any) -> None:
    account = make_user("officer", "DK")
    page = client.get("/login")
    assert page.status_code == 200
    assert "<h1>Sign in</h1>" in page.get_data(as_text=True)

    first = sign_in(client, account.email)
    assert first.status_code == 302
    assert first.headers["Location"] == "/login/code"
    # A right password alone is not a login: the home page still asks to sign in.
    assert is_login_redirect(client.get("/"))

    second = post_form(client, "/login/code", {"code": account.code()}, page="/login/code")
    assert second.status_code == 302
    assert second.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert "Denmark (DK)" in html
    assert "<dd>Officer</dd>" in html
    assert audit_actions(app, account.id)[-2:] == ["mfa.verified", "login.success"]
    assert load_user(app, account.id).last_login_at is not None


def test_email_is_matched_case_insensitively(client: FlaskClient, make_user: Any) -> None:
    account = make_user("reader", "NO")
    response = sign_in(client, "  " + account.email.upper() + " ", code=account.code())
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_first_login_enrols_totp_with_qr_code(app: Flask, client: FlaskClient, make_user: Any) -> None:
    account = make_user("spoc", "FR")
    run_sql(app, update(User).where(User.id == account.id).values(totp_secret=None, totp_enrolled_at=None))

    response = sign_in(client, account.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/enrol"
    # The code page is not offered to someone who has no authenticator yet.
    assert is_login_redirect(client.get("/login/code"))
    sign_in(client, account.email)

    page = client.get("/login/enrol")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    qr = re.search(r'<figure class="qr">(.*?)<figcaption>', html, re.S).group(1)  # type: ignore[union-attr]
    assert qr.startswith("<svg") and qr.rstrip().endswith("</svg>") and "<script" not in qr
    secret = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7]+)</code>', html).group(1)  # type: ignore[union-attr]
    # The secret is kept until confirmed: reloading the page shows the same one.
    assert secret in client.get("/login/enrol").get_data(as_text=True)

    refused = post_form(client, "/login/enrol", {"code": wrong_code_for(secret)}, page="/login/enrol")
    assert refused.status_code == 200
    assert flash_errors(refused) == ["That code is not right. Check the time on your device and try the next code."]
    assert load_user(app, account.id).totp_enrolled_at is None

    done = post_form(client, "/login/enrol", {"code": pyotp.TOTP(secret).now()}, page="/login/enrol")
    assert done.status_code == 302
    assert done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    user = load_user(app, account.id)
    assert user.totp_secret == secret
    assert user.totp_enrolled_at is not None
    assert "mfa.enrolled" in audit_actions(app, account.id)


def test_totp_code_is_accepted_once_only(app: Flask, client: FlaskClient, make_user: Any) -> None:
    account = make_user("officer", "DK")
    code = account.code()
    assert sign_in(client, account.email, code=code).headers["Location"] == "/"
    assert post_form(client, "/logout", page="/").status_code == 302

    replay = sign_in(client, account.email, code=code)
    assert replay.status_code == 200
    assert flash_errors(replay) == [CODE_LOGIN_ERROR]
    assert is_login_redirect(client.get("/"))

    # The next code (still inside the accepted drift window) works.
    fresh = post_form(client, "/login/code", {"code": account.code(1)}, page="/login/code")
    assert fresh.status_code == 302
    assert fresh.headers["Location"] == "/"


def test_wrong_password_wrong_code_and_unknown_email_get_the_same_message(app: Flask, make_user: Any) -> None:
    account = make_user("officer", "DK")

    wrong_password = sign_in(app.test_client(), account.email, "not-the-password-at-all")
    unknown = sign_in(app.test_client(), "nobody@nowhere.example", PASSWORD)
    code_client = app.test_client()
    bad_code = sign_in(code_client, account.email, code=wrong_code(account))

    for response in (wrong_password, unknown):
        assert response.status_code == 200
        assert flash_errors(response) == [GENERIC_LOGIN_ERROR]
    # The password step's message says nothing of a code; a wrong code (asked for only after the
    # right password) has its own.
    assert "code" not in GENERIC_LOGIN_ERROR
    assert bad_code.status_code == 200 and flash_errors(bad_code) == [CODE_LOGIN_ERROR]
    assert is_login_redirect(code_client.get("/"))
    # The failure for an unknown address is recorded without a target and without the typed
    # text (it may be anything, even a password; administrators read the log).
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failure",
                                                            AuditEntry.target_id.is_(None))).one()
        assert (entry.actor_label, entry.details) == (None, {"step": "password", "reason": "unknown account"})
        assert not db.session.scalars(select(AuditEntry.id).where(AuditEntry.actor_label.contains("nowhere"))).all()
        db.session.remove()


def test_lockout_after_five_failures_even_with_the_right_password(app: Flask, client: FlaskClient, make_user: Any) -> None:
    account = make_user("officer", "DK")
    for _ in range(5):
        response = sign_in(client, account.email, "wrong-password-guess-1")
        assert response.status_code == 200
        assert flash_errors(response) == [GENERIC_LOGIN_ERROR]
    assert audit_actions(app, account.id) == ["login.failure"] * 4 + ["login.locked"]
    assert load_user(app, account.id).locked_until > utcnow()  # type: ignore[operator]

    # Locked: the right password gets the same generic answer and no second-factor page.
    locked = sign_in(client, account.email, PASSWORD)
    assert locked.status_code == 200
    assert flash_errors(locked) == [GENERIC_LOGIN_ERROR]
    assert audit_actions(app, account.id)[-1] == "login.failure"

    # The lock-out is temporary.
    run_sql(app, update(User).where(User.id == account.id).values(locked_until=utcnow() - timedelta(seconds=1)))
    response = sign_in(client, account.email, PASSWORD, code=account.code())
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_repeated_wrong_codes_lock_the_account(app: Flask, client: FlaskClient, make_user: Any) -> None:
    account = make_user("reader", "DK")
    assert sign_in(client, account.email).headers["Location"] == "/login/code"
    bad = wrong_code(account)
    for _ in range(5):
        response = post_form(client, "/login/code", {"code": bad}, page="/login/code")
        assert flash_errors(response) == [CODE_LOGIN_ERROR]
    assert audit_actions(app, account.id) == ["login.failure"] * 4 + ["login.locked"]
    # Even the right code is refused now, with the same message.
    response = post_form(client, "/login/code", {"code": account.code()}, page="/login/code")
    assert response.status_code == 200
    assert flash_errors(response) == [CODE_LOGIN_ERROR]
    assert is_login_redirect(client.get("/"))


def test_disabled_and_invited_accounts_cannot_sign_in(client: FlaskClient, make_user: Any) -> None:
    for status in (UserStatus.DISABLED, UserStatus.INVITED):
        account = make_user("officer", "DK", status=status)
        response = sign_in(client, account.email, PASSWORD)
        assert response.status_code == 200
        assert flash_errors(response) == [GENERIC_LOGIN_ERROR]


# --- sessions ----------------------------------------------------------------------------

def test_logout_is_post_only_and_ends_the_server_side_session(app: Flask, client: FlaskClient, make_user: Any) -> None:
    account = make_user("officer", "DK")
    sign_in(client, account.email, code=account.code())
    assert client.get("/").status_code == 200
    old_cookie = client.get_cookie(COOKIE).value  # type: ignore[union-attr]

    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.get("/").status_code == 200  # neither of those signed us out

    response = post_form(client, "/logout", page="/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert is_login_redirect(client.get("/"))

    # Replaying the cookie from before sign-out does not bring the session back.
    client.set_cookie(COOKIE, old_cookie)
    assert is_login_redirect(client.get("/"))
    assert [row.revoked_at is not None for row in session_rows(app, account.id)] == [True]
    assert audit_actions(app, account.id)[-1] == "logout"


def _age_session(app: Flask, user_id: Any, *, created: timedelta, idle: timedelta) -> None:
    now = utcnow()
    run_sql(app, update(UserSession).where(UserSession.user_id == user_id)
            .values(created_at=now - created, last_seen_at=now - idle))


def test_idle_timeout_after_30_minutes(app: Flask, client: FlaskClient, make_user: Any, login_as: Any) -> None:
    account = make_user("officer", "DK")
    login_as(client, account)
    _age_session(app, account.id, created=timedelta(minutes=29), idle=timedelta(minutes=29))
    assert client.get("/").status_code == 200  # 29 minutes idle: still signed in (and touched)

    _age_session(app, account.id, created=timedelta(minutes=31), idle=timedelta(minutes=31))
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account/"
    assert [row.revoked_at is not None for row in session_rows(app, account.id)] == [True]
    # Becoming active again does not revive it.
    _age_session(app, account.id, created=timedelta(minutes=31), idle=timedelta(0))
    assert is_login_redirect(client.get("/"))


def test_absolute_timeout_after_12_hours(app: Flask, client: FlaskClient, make_user: Any, login_as: Any) -> None:
    account = make_user("officer", "DK")
    login_as(client, account)
    _age_session(app, account.id, created=timedelta(hours=11, minutes=59), idle=timedelta(minutes=1))
    assert client.get("/").status_code == 200

    _age_session(app, account.id, created=timedelta(hours=12, minutes=1), idle=timedelta(minutes=1))
    assert is_login_redirect(client.get("/"))


def test_disabling_a_user_ends_all_their_sessions(app: Flask, make_user: Any, login_as: Any) -> None:
    admin = make_user("admin", None)
    officer = make_user("officer", "DK")
    admin_client = login_as(app.test_client(), admin)
    laptop = login_as(app.test_client(), officer)
    phone = login_as(app.test_client(), officer)
    assert laptop.get("/").status_code == 200 and phone.get("/").status_code == 200

    response = post_form(admin_client, f"/users/{officer.id}/disable", page=f"/users/{officer.id}")
    assert response.status_code == 302
    assert is_login_redirect(laptop.get("/"))
    assert is_login_redirect(phone.get("/"))
    assert [row.revoked_at is not None for row in session_rows(app, officer.id)] == [True, True]

    # Revoked, not merely hidden: enabling the account again does not revive old sessions.
    assert post_form(admin_client, f"/users/{officer.id}/enable", page=f"/users/{officer.id}").status_code == 302
    assert load_user(app, officer.id).status is UserStatus.ACTIVE
    assert is_login_redirect(laptop.get("/"))


def test_password_change_ends_other_sessions_but_keeps_the_current(app: Flask, make_user: Any, login_as: Any) -> None:
    account = make_user("officer", "DK")
    current = login_as(app.test_client(), account)
    other = login_as(app.test_client(), account)

    response = post_form(current, "/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    }, page="/account/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert "1 other session(s) were signed out." in current.get("/account/").get_data(as_text=True)
    assert is_login_redirect(other.get("/"))
    assert "password.changed" in audit_actions(app, account.id)

    assert flash_errors(sign_in(app.test_client(), account.email, PASSWORD)) == [GENERIC_LOGIN_ERROR]
    assert sign_in(app.test_client(), account.email, NEW_PASSWORD).headers["Location"] == "/login/code"


def test_password_change_needs_the_current_password(app: Flask, client: FlaskClient, make_user: Any, login_as: Any) -> None:
    account = make_user("officer", "DK")
    login_as(client, account)
    response = post_form(client, "/account/password", {
        "current_password": "not-my-password", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    }, page="/account/password")
    assert response.status_code == 200
    assert "Your current password is not right." in response.get_data(as_text=True)
    with app.app_context():
        from portal.auth.service import passwords

        assert passwords().verify(db.session.get(User, account.id).password_hash, PASSWORD)  # type: ignore[union-attr]
        db.session.remove()


def test_session_id_changes_at_login(app: Flask, client: FlaskClient, make_user: Any) -> None:
    account = make_user("officer", "DK")
    # An attacker who planted a session id before sign-in must not share the session after it.
    client.get("/login")
    with client.session_transaction() as session:
        session["sid"] = "planted-by-an-attacker"
    before_cookie = client.get_cookie(COOKIE).value  # type: ignore[union-attr]

    sign_in(client, account.email, code=account.code())
    with client.session_transaction() as session:
        first_sid = session["sid"]
    assert first_sid != "planted-by-an-attacker"
    assert client.get_cookie(COOKIE).value != before_cookie  # type: ignore[union-attr]
    assert [row.id for row in session_rows(app, account.id)] == [sessions.token_digest(first_sid)]

    post_form(client, "/logout", page="/")
    sign_in(client, account.email, code=account.code(1))
    with client.session_transaction() as session:
        second_sid = session["sid"]
    assert second_sid != first_sid
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "javascript:alert(1)",
    "evil.example",
])
def test_open_redirect_in_next_is_refused(client: FlaskClient, make_user: Any, target: str) -> None:
    account = make_user("officer", "DK")
    response = sign_in(client, account.email, code=account.code(), next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_local_next_is_followed(client: FlaskClient, make_user: Any) -> None:
    account = make_user("officer", "DK")
    bounced = client.get("/countries/DK")
    assert bounced.headers["Location"] == "/login?next=/countries/DK"
    response = sign_in(client, account.email, code=account.code(), next_url="/countries/DK")
    assert response.headers["Location"] == "/countries/DK"


# --- the password policy ----------------------------------------------------------------

@pytest.mark.parametrize("password, message", [
    ("short-pass", "Use at least 12 characters."),
    ("qwerty123456", "This password is on a list of commonly used passwords. Choose another."),
    ("QWERTY123456", "This password is on a list of commonly used passwords. Choose another."),
    ("x-{email}", "Choose a password that is harder to guess."),
])
def test_password_policy(app: Flask, client: FlaskClient, make_user: Any, login_as: Any, password: str, message: str) -> None:
    account = make_user("officer", "DK")
    login_as(client, account)
    password = password.format(email=account.email)
    response = post_form(client, "/account/password", {
        "current_password": PASSWORD, "new_password": password, "confirm": password,
    }, page="/account/password")
    assert response.status_code == 200
    error = re.search(r'<p class="error-message" id="new_password-error"><span class="visually-hidden">Error:</span> (.*?)</p>',
                      response.get_data(as_text=True))
    assert error is not None and error.group(1).startswith(message)
    assert "password.changed" not in audit_actions(app, account.id)


def test_the_email_rule_is_about_the_users_own_address(client: FlaskClient, make_user: Any, login_as: Any) -> None:
    # "x-<someone else's address>" is long and not common: acceptable for this user.
    other = make_user("officer", "NO")
    account = make_user("officer", "DK")
    login_as(client, account)
    password = "x-" + other.email
    response = post_form(client, "/account/password", {
        "current_password": PASSWORD, "new_password": password, "confirm": password,
    }, page="/account/password")
    assert response.status_code == 302


# --- password reset by e-mail ----------------------------------------------------------

def request_reset(client: FlaskClient, email: str) -> Any:
    return post_form(client, "/password/forgot", {"email": email}, page="/password/forgot")


def test_password_reset_link_works_once(app: Flask, client: FlaskClient, make_user: Any, login_as: Any, mailbox: Any) -> None:
    account = make_user("officer", "DK")
    elsewhere = login_as(app.test_client(), account)

    sent = request_reset(client, account.email)
    assert sent.status_code == 200
    assert "<h1>Check your e-mail</h1>" in sent.get_data(as_text=True)
    message = mailbox.to(account.email)[0]
    assert message["Subject"] == "Reset your ECHRI Portal password"
    link = link_from_mail(mailbox, account.email)

    page = client.get(link)
    assert page.status_code == 200
    assert f"For {account.email}." in page.get_data(as_text=True)
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page=link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"

    # Single use.
    again = client.get(link)
    assert again.status_code == 404
    assert "<h1>This link is not valid</h1>" in again.get_data(as_text=True)
    # A reset ends every session of the account.
    assert is_login_redirect(elsewhere.get("/"))
    assert flash_errors(sign_in(app.test_client(), account.email, PASSWORD)) == [GENERIC_LOGIN_ERROR]
    assert sign_in(app.test_client(), account.email, NEW_PASSWORD, code=account.code()).headers["Location"] == "/"
    assert "password.reset" in audit_actions(app, account.id)


def test_password_reset_applies_the_policy(app: Flask, client: FlaskClient, make_user: Any, mailbox: Any) -> None:
    account = make_user("officer", "DK")
    request_reset(client, account.email)
    link = link_from_mail(mailbox, account.email)
    response = post_form(client, link, {"password": "qwerty123456", "confirm": "qwerty123456"}, page=link)
    assert response.status_code == 200
    assert "This password is on a list of commonly used passwords. Choose another." in response.get_data(as_text=True)
    # A refused password does not use up the link.
    assert client.get(link).status_code == 200


def test_password_reset_link_expires(app: Flask, client: FlaskClient, make_user: Any, mailbox: Any) -> None:
    account = make_user("officer", "DK")
    request_reset(client, account.email)
    link = link_from_mail(mailbox, account.email)
    run_sql(app, update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    assert client.get(link).status_code == 404
    # The expired page has no form; take a valid CSRF token from the sign-in page instead.
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page="/login")
    assert response.status_code == 404
    assert sign_in(app.test_client(), account.email, PASSWORD).headers["Location"] == "/login/code"


def test_a_newer_reset_link_replaces_the_older(client: FlaskClient, make_user: Any, mailbox: Any) -> None:
    account = make_user("officer", "DK")
    request_reset(client, account.email)
    first = link_from_mail(mailbox, account.email)
    mailbox.clear()
    request_reset(client, account.email)
    second = link_from_mail(mailbox, account.email)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    app: Flask, make_user: Any, mailbox: Any,
) -> None:
    account = make_user("officer", "DK")
    disabled = make_user("officer", "DK", status=UserStatus.DISABLED)
    known = request_reset(app.test_client(), account.email)
    mailbox.clear()
    unknown = request_reset(app.test_client(), "nobody@nowhere.example")
    for_disabled = request_reset(app.test_client(), disabled.email)

    assert known.status_code == unknown.status_code == for_disabled.status_code == 200
    expected = known.get_data(as_text=True).replace(account.email, "ADDRESS")
    assert unknown.get_data(as_text=True).replace("nobody@nowhere.example", "ADDRESS") == expected
    assert for_disabled.get_data(as_text=True).replace(disabled.email, "ADDRESS") == expected
    assert mailbox.messages == []


# --- invitations -------------------------------------------------------------------------

def test_invitation_sets_password_then_first_login_enrols(
    app: Flask, make_user: Any, login_as: Any, mailbox: Any,
) -> None:
    admin = login_as(app.test_client(), make_user("admin", None))
    response = post_form(admin, "/users/invite", {
        "name": "Nora Nilsen", "email": "Nora.Nilsen@mfa.example", "position": "Head of export control",
        "role": "spoc", "country": "NO",
    }, page="/users/invite")
    assert response.status_code == 302
    with app.app_context():
        invited = db.session.scalars(select(User).where(User.email == "nora.nilsen@mfa.example")).one()
        assert (invited.role.value, invited.country_code, invited.status) == ("spoc", "NO", UserStatus.INVITED)
        db.session.remove()
    assert response.headers["Location"] == f"/users/{invited.id}"

    message = mailbox.to("nora.nilsen@mfa.example")[0]
    assert message["Subject"] == "You are invited to the ECHRI Portal"
    link = link_from_mail(mailbox, "nora.nilsen@mfa.example")
    visitor = app.test_client()
    # Not usable before the password is chosen.
    assert flash_errors(sign_in(visitor, "nora.nilsen@mfa.example", NEW_PASSWORD)) == [GENERIC_LOGIN_ERROR]

    page = visitor.get(link)
    assert page.status_code == 200
    assert "<strong>Point of contact, Norway</strong>" in page.get_data(as_text=True)
    accepted = post_form(visitor, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page=link)
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/login"
    assert visitor.get(link).status_code == 404  # single use

    assert sign_in(visitor, "nora.nilsen@mfa.example", NEW_PASSWORD).headers["Location"] == "/login/enrol"
    html = visitor.get("/login/enrol").get_data(as_text=True)
    assert "<svg" in html
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)  # type: ignore[union-attr]
    done = post_form(visitor, "/login/enrol", {"code": pyotp.TOTP(secret).now()}, page="/login/enrol")
    assert done.headers["Location"] == "/"
    home = visitor.get("/").get_data(as_text=True)
    assert "Norway (NO)" in home and "<dd>Point of contact</dd>" in home
    assert audit_actions(app, invited.id) == [
        "user.invited", "login.failure", "invitation.accepted", "mfa.enrolment_started", "mfa.enrolled", "login.success",
    ]


def test_invitation_link_expires(app: Flask, make_user: Any, login_as: Any, mailbox: Any) -> None:
    admin = login_as(app.test_client(), make_user("admin", None))
    post_form(admin, "/users/invite", {"name": "Sam Sekretær", "email": "sam@echri.example", "role": "secretariat",
                                       "country": ""}, page="/users/invite")
    link = link_from_mail(mailbox, "sam@echri.example")
    run_sql(app, update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = app.test_client().get(link)
    assert response.status_code == 404
    assert "Ask whoever invited you to send a new invitation." in response.get_data(as_text=True)


def test_after_an_mfa_reset_the_next_login_enrols_a_new_authenticator(app: Flask, make_user: Any, login_as: Any) -> None:
    account = make_user("spoc", "DK")
    laptop = login_as(app.test_client(), account)
    admin = login_as(app.test_client(), make_user("admin", None))
    assert post_form(admin, f"/users/{account.id}/reset-mfa").status_code == 302
    assert is_login_redirect(laptop.get("/"))  # the reset ends their sessions

    client = app.test_client()
    assert sign_in(client, account.email).headers["Location"] == "/login/enrol"
    html = client.get("/login/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)  # type: ignore[union-attr]
    assert secret != account.totp_secret
    # A code from the old authenticator does not complete the new enrolment.
    old = account.code()
    if old not in {pyotp.TOTP(secret).at(int(utcnow().timestamp()) + 30 * k) for k in (-1, 0, 1)}:
        refused = post_form(client, "/login/enrol", {"code": old}, page="/login/enrol")
        assert refused.status_code == 200
        assert load_user(app, account.id).totp_enrolled_at is None
    done = post_form(client, "/login/enrol", {"code": pyotp.TOTP(secret).now()}, page="/login/enrol")
    assert done.headers["Location"] == "/"


def test_reset_mails_are_throttled_per_account(app: Flask, client: FlaskClient, make_user: Any, mailbox: Any) -> None:
    account = make_user("officer", "DK")
    for _ in range(5):
        response = post_form(client, "/password/forgot", {"email": account.email}, page="/password/forgot")
        assert response.status_code == 200 and "Check your e-mail" in response.get_data(as_text=True)
    assert len(mailbox.to(account.email)) == 3
    assert audit_actions(app).count("password.reset_throttled") == 2
