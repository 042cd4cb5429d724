"""Fixtures for the sharing tests (additive: the harness itself lives in tests/conftest.py)."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.sharing import helpers


@pytest.fixture
def observer_state(app: Flask) -> str:
    """Costa Rica joins the register as an observer state."""
    helpers.add_observer_state(app, "CR", "Costa Rica")
    return "CR"


@pytest.fixture
def make_item(app: Flask) -> Any:
    """make_item(author, kind="denial", status="published", publisher=None, **payload overrides) -> item id."""

    def factory(author: Any, kind: Any = "denial", status: str = "published", **kwargs: Any) -> Any:
        return helpers.make_item(app, author, kind, status, **kwargs)

    return factory


@pytest.fixture
def token_for(app: Flask) -> Any:
    """token_for(account) -> a fresh personal API token for the account."""
    return lambda account, **kwargs: helpers.api_token(app, account, **kwargs)
