"""Fixtures for the STIX and TAXII tests: a live server and machine clients (tests/oauth's)."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.oauth.conftest import live_server, register
from tests.sharing.conftest import make_item, token_for

__all__ = ["live_server", "make_item", "register", "token_for"]


@pytest.fixture
def machine_token(live_server: str, register: Any) -> Any:
    """machine_token(spoc_account, scopes) -> an OAuth2 access token, fetched with Authlib's client."""
    from authlib.integrations.requests_client import OAuth2Session

    def issue(spoc: Any, scopes: str) -> str:
        client_id, secret = register(spoc, scopes)
        session = OAuth2Session(client_id, secret)
        return str(session.fetch_token(f"{live_server}/oauth/token", grant_type="client_credentials")["access_token"])

    return issue


@pytest.fixture
def base_url(app: Flask, live_server: str) -> str:
    return live_server
