"""The sharing tests' fixtures (observer_state, make_item, token_for), for the API tests too,
and machine_token_for: an OAuth2 client's access token, fetched through /oauth/token."""
from __future__ import annotations

import base64
from typing import Any

import pytest
from flask import Flask

from portal.extensions import db
from tests.sharing import helpers
from tests.sharing.conftest import make_item, observer_state, token_for

__all__ = ["make_item", "observer_state", "token_for"]


def machine_token(app: Flask, spoc: Any, scopes: str) -> str:
    """Register a client for the SPOC's state with `scopes` and get a token by client credentials."""
    from portal.oauth import service as clients

    with app.app_context():
        registered, secret = clients.register_client(db.session, helpers.user(spoc), {
            "name": "National system", "scopes": scopes.split(), "auth_method": "client_secret_basic", "days": 1})
        client_id = registered.client_id
        db.session.remove()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                      headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["access_token"])


@pytest.fixture
def machine_token_for(app: Flask) -> Any:
    """machine_token_for(spoc_account, "denials:read ...") -> a client access token."""
    return lambda spoc, scopes: machine_token(app, spoc, scopes)
