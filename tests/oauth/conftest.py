"""Fixtures for the machine-client tests: a live server (Authlib's own client speaks HTTP)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from portal.extensions import db
from portal.oauth import service
from tests.sharing import helpers
from tests.sharing.conftest import make_item, token_for

__all__ = ["make_item", "token_for"]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app on a free loopback port. Requests here are sequential, so SQLite is fine."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def register(app: Flask) -> Any:
    """register(spoc_account, scopes, method="client_secret_basic", jwks="") -> (client_id, secret)."""

    def do(spoc: Any, scopes: str, method: str = "client_secret_basic", jwks: str = "",
           days: int = 30) -> tuple[str, str | None]:
        with app.app_context():
            client, secret = service.register_client(db.session, helpers.user(spoc), {
                "name": "National licensing system", "scopes": scopes.split(), "auth_method": method,
                "jwks": jwks, "days": days})
            client_id = client.client_id
            db.session.remove()
        return client_id, secret

    return do
