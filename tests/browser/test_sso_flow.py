"""Single sign-on in real Chromium: the sign-in page → the state's provider (a real OpenID
provider process) → back to the portal's second step → home."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Role, User
from portal.sso import settings
from tests.browser.conftest import LiveServer
from tests.oidc_provider import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    provider = OidcProvider()
    provider.start()
    yield provider
    provider.stop()


def test_sign_in_through_the_states_identity_provider(live_server: LiveServer, browser_page: Any, live_user: Any,
                                                      idp: OidcProvider) -> None:
    url, app = live_server
    account = live_user("officer", "FI", name="Fanni Virtanen")
    admin = live_user("admin", None)
    with app.app_context():
        actor = db.session.get(User, admin.id)
        assert actor is not None and actor.role is Role.ADMIN
        settings.save_provider(db.session, actor, "FI", {
            "issuer": idp.issuer, "client_id": "portal-fi", "secret_source": "sealed",
            "client_secret": "finnish-ministry-secret"})
        db.session.remove()
    idp.set_user("fanni.virtanen", {"email": account.email, "email_verified": True})
    page = browser_page
    page.route("https://**", lambda route: route.abort())  # the provider's page asks a CDN for its style sheet

    page.goto(url + "/")
    page.get_by_role("link", name="Sign in through your state's identity provider").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in through your state's identity provider")
    page.get_by_role("link", name="Finland").click()

    # At the ministry's provider.
    expect(page).to_have_url(re.compile("^" + re.escape(idp.issuer + "/oauth2/authorize?")))
    page.get_by_placeholder("sub").fill("fanni.virtanen")
    page.get_by_role("button", name="Authorize").click()

    # Back at the portal: its own second step, then where the person was going.
    expect(page).to_have_url(url + "/login/code")
    page.get_by_label("6-digit code from your authenticator app").fill(account.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Fanni Virtanen")
