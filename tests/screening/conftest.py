"""Fixtures for the screening tests: denials are published through the sharing service."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from portal import access
from portal.extensions import db
from portal.screening.matcher import DEFAULT_THRESHOLD, InputParty, Match, screen
from tests.sharing import helpers


def party(name: str, country: str = "", aliases: list[str] | None = None, role: str = "end_user") -> dict[str, Any]:
    return {"role": role, "name": name, "aliases": aliases or [], "address": "", "country": country}


@pytest.fixture
def publish_denial(app: Flask, make_user: Any) -> Callable[..., uuid.UUID]:
    """publish_denial(parties, state="DK", **payload overrides) -> item id, released by that state's SPOC."""
    spocs: dict[str, Any] = {}

    def do(parties: list[dict[str, Any]], state: str = "DK", **overrides: Any) -> uuid.UUID:
        if state not in spocs:
            spocs[state] = make_user("spoc", state)
        return helpers.make_item(app, spocs[state], "denial", "published", parties=parties, **overrides)

    return do


@pytest.fixture
def screen_as(app: Flask) -> Callable[..., list[list[Match]]]:
    """screen_as(account, [InputParty | str …], threshold=…, include_inactive=…) -> matches per input."""

    def do(account: Any, inputs: list[InputParty | str], threshold: float = DEFAULT_THRESHOLD,
           include_inactive: bool = False) -> list[list[Match]]:
        parties = [p if isinstance(p, InputParty) else InputParty(name=p) for p in inputs]
        with app.app_context():
            user = helpers.user(account)
            result = screen(db.session, access.items_filter(user), parties, threshold, include_inactive)
            db.session.remove()
        return result

    return do
