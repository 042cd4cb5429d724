"""Security keys in real Chromium, with a virtual authenticator (the DevTools WebAuthn domain).

The portal is opened as http://localhost:PORT: browsers do not accept an IP address as a
relying party id, and localhost is a secure context, so WebAuthn works over plain HTTP there.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, WebAuthnCredential
from tests.browser.conftest import LiveServer
from tests.browser.test_sharing_flow import enter_password
from tests.conftest import Account

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

GENERIC = re.compile(r"That security key or passkey was not accepted\.")


@pytest.fixture
def portal(live_server: LiveServer) -> Iterator[str]:
    """The live server as Chromium must see it for WebAuthn: http://localhost:PORT, RP id localhost."""
    url, app = live_server
    port = url.rsplit(":", 1)[1]
    saved = {key: app.config.get(key) for key in ("WEBAUTHN_RP_ID", "WEBAUTHN_ORIGIN")}
    app.config.update(WEBAUTHN_RP_ID="localhost", WEBAUTHN_ORIGIN=f"http://localhost:{port}")
    try:
        yield f"http://localhost:{port}"
    finally:
        app.config.update(saved)


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Any]:
    """new_page() -> a page in a fresh browser context with its own virtual authenticator.

    `page.authenticator` is (CDP session, authenticator id); console errors (CSP violations
    among them) are collected in `page.console_errors`.
    """
    contexts = []

    def factory() -> Any:
        context = chromium.new_context()
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda m: page.console_errors.append(m.text)
                if m.type == "error" and "favicon.ico" not in (m.location.get("url") or "") else None)
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True}})
        page.authenticator = (cdp, added["authenticatorId"])
        return page

    yield factory
    for context in contexts:
        context.close()


def password_step(page: Any, url: str, account: Account) -> None:
    enter_password(page, url, account)
    page.wait_for_load_state("load")  # static/webauthn.js takes the key button once the page has loaded


def sign_in_with_code(page: Any, url: str, account: Account) -> None:
    password_step(page, url, account)
    page.get_by_label("6-digit code from your authenticator app").fill(account.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/")


def sign_in_with_key(page: Any, url: str, account: Account) -> None:
    password_step(page, url, account)
    expect(page.get_by_role("heading", level=1)).to_have_text("Use your security key")
    page.get_by_role("button", name="Use my security key").click()
    expect(page).to_have_url(url + "/")


def sign_out(page: Any, url: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(url + "/login")


def register_key(page: Any, url: str, name: str) -> None:
    page.goto(url + "/account/")
    page.get_by_role("link", name="Security keys and passkeys").click()
    expect(page).to_have_url(url + "/account/keys")
    page.wait_for_load_state("load")  # static/webauthn.js handles the button once the page has loaded
    page.get_by_label("Name of the key").fill(name)
    page.get_by_role("button", name="Register a key").click()
    expect(page.get_by_role("status")).to_contain_text("Your key is registered.")
    expect(page.get_by_role("table")).to_contain_text(name)


def stored_keys(app: Any, account: Account) -> list[WebAuthnCredential]:
    with app.app_context():
        keys = list(db.session.scalars(select(WebAuthnCredential).where(WebAuthnCredential.user_id == account.id)))
        for key in keys:
            db.session.expunge(key)
        db.session.remove()
    return keys


def audit_of(app: Any, account: Account) -> list[tuple[str, dict[str, Any]]]:
    with app.app_context():
        rows = [(e.action, dict(e.details or {})) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.target_id == str(account.id)).order_by(AuditEntry.id))]
        db.session.remove()
    return rows


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_register_a_key_then_sign_in_with_it(portal: str, live_server: LiveServer, live_user: Any,
                                             new_page: Any) -> None:
    app = live_server.app
    account = live_user("officer", "DK")
    page = new_page()
    sign_in_with_code(page, portal, account)
    register_key(page, portal, "Virtual key")
    [key] = stored_keys(app, account)
    assert key.name == "Virtual key" and key.last_used_at is None
    cdp, authenticator = page.authenticator
    [held] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert base64.b64decode(held["credentialId"]) == key.credential_id
    assert base64.b64decode(held["userHandle"]) == account.id.bytes  # the random account id, nothing personal
    sign_out(page, portal)

    sign_in_with_key(page, portal, account)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    [key] = stored_keys(app, account)
    assert key.last_used_at is not None and key.sign_count >= 1
    assert ("mfa.verified", {"step": "webauthn", "key_id": str(key.id)}) in audit_of(app, account)
    page.goto(portal + "/account/keys")
    expect(page.get_by_role("table")).not_to_contain_text("Never")  # last used is shown
    assert page.console_errors == []  # the script runs under the CSP: no inline code


def test_a_cloned_key_with_a_lower_counter_is_refused(portal: str, live_server: LiveServer, live_user: Any,
                                                      new_page: Any) -> None:
    app = live_server.app
    account = live_user("spoc", "NO")
    page = new_page()
    sign_in_with_code(page, portal, account)
    register_key(page, portal, "Original")
    sign_out(page, portal)
    sign_in_with_key(page, portal, account)
    sign_out(page, portal)
    [key] = stored_keys(app, account)
    assert key.sign_count >= 1

    # The same private key in a second authenticator whose counter starts again at zero.
    cdp, authenticator = page.authenticator
    [held] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    clone_page = new_page()
    clone_cdp, clone_authenticator = clone_page.authenticator
    clone_cdp.send("WebAuthn.addCredential", {"authenticatorId": clone_authenticator,
                                              "credential": {**held, "signCount": 0}})
    password_step(clone_page, portal, account)
    clone_page.get_by_role("button", name="Use my security key").click()
    expect(clone_page.get_by_role("alert")).to_contain_text(GENERIC)
    expect(clone_page).to_have_url(portal + "/login/code")
    assert stored_keys(app, account)[0].sign_count == key.sign_count  # the clone moved nothing
    assert ("login.failure", {"step": "webauthn", "failures": 1}) in audit_of(app, account)

    # The real key still works.
    sign_in_with_key(page, portal, account)


def test_a_key_of_another_user_is_refused(portal: str, live_server: LiveServer, live_user: Any,
                                          new_page: Any) -> None:
    app = live_server.app
    alice, bob = live_user("officer", "FI"), live_user("officer", "FI")
    page = new_page()  # one authenticator holding both users' keys (a shared machine)
    sign_in_with_code(page, portal, alice)
    register_key(page, portal, "Alice's key")
    sign_out(page, portal)
    sign_in_with_code(page, portal, bob)
    register_key(page, portal, "Bob's key")
    sign_out(page, portal)
    [alice_key], [bob_key] = stored_keys(app, alice), stored_keys(app, bob)

    password_step(page, portal, bob)
    # Bob's page asks for Bob's keys; make the browser answer with Alice's credential instead,
    # as a tampered page could: the authenticator signs Bob's challenge with Alice's key.
    form = page.locator("form[data-webauthn=get]")
    options = form.get_attribute("data-options")
    assert b64url(bob_key.credential_id) in options
    form.evaluate("(f, id) => { const o = JSON.parse(f.dataset.options);"
                  " o.allowCredentials = [{type: 'public-key', id}]; f.dataset.options = JSON.stringify(o); }",
                  b64url(alice_key.credential_id))
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.url.endswith("/login/key") else None)
    page.get_by_role("button", name="Use my security key").click()
    expect(page.get_by_role("alert")).to_contain_text(GENERIC)
    expect(page).to_have_url(portal + "/login/code")
    assert posted and "credential=" in posted[0]  # the assertion did reach the server, which refused it
    assert stored_keys(app, alice)[0].last_used_at is None
    assert ("login.failure", {"step": "webauthn", "failures": 1}) in audit_of(app, bob)
    assert not any(details.get("step") == "webauthn"
                   for action, details in audit_of(app, bob) if action == "mfa.verified")


def test_an_assertion_made_for_another_origin_is_refused(portal: str, live_server: LiveServer, live_user: Any,
                                                         new_page: Any) -> None:
    """A relaying page on another origin gets an assertion bound to its own origin: refused."""
    app = live_server.app
    account = live_user("reader", "DE")
    page = new_page()
    sign_in_with_code(page, portal, account)
    register_key(page, portal, "Key")
    sign_out(page, portal)
    password_step(page, portal, account)
    # The browser signs for the page's origin (http://localhost:PORT); the portal now expects
    # another one, as it would if the page the user is on were not the portal.
    app.config["WEBAUTHN_ORIGIN"] = "https://localhost"
    page.get_by_role("button", name="Use my security key").click()
    expect(page.get_by_role("alert")).to_contain_text(GENERIC)
    expect(page).to_have_url(portal + "/login/code")
    assert stored_keys(app, account)[0].last_used_at is None


def test_a_captured_assertion_cannot_be_replayed(portal: str, live_server: LiveServer, live_user: Any,
                                                 new_page: Any) -> None:
    account = live_user("officer", "EE")
    page = new_page()
    sign_in_with_code(page, portal, account)
    register_key(page, portal, "Key")
    sign_out(page, portal)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.url.endswith("/login/key") else None)
    sign_in_with_key(page, portal, account)
    sign_out(page, portal)
    from urllib.parse import parse_qs
    captured = parse_qs(posted[0])["credential"][0]

    # A new login, and the old answer posted through the page's own form (CSRF token and all).
    password_step(page, portal, account)
    page.locator("form[data-webauthn=get] input[name=credential]").evaluate("(i, v) => { i.value = v; }", captured)
    page.locator("form[data-webauthn=get]").evaluate("f => f.submit()")
    expect(page.get_by_role("alert")).to_contain_text(GENERIC)
    expect(page).to_have_url(portal + "/login/code")
