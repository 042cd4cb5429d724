"""Fixtures for consultations: a denial of DK (A) shared with FR (B) and NO (C), and the actors."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from portal.consultations import service
from portal.extensions import db
from portal.models import Consultation
from portal.notifications import outbox
from tests.sharing import helpers
from tests.sharing.conftest import make_item, observer_state, token_for

__all__ = ["make_item", "observer_state", "token_for"]

A, B, C, OUTSIDE = "DK", "FR", "NO", "JP"


def transaction(denial_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    """B's transaction and question, in the API's payload shape."""
    payload: dict[str, Any] = {
        "denial_id": str(denial_id), "applicant": "Exemplar Surveillance SA", "consignee": "Golden Gate Trading",
        "end_user": "Ministry of Home Affairs, Special Branch", "item_description": "Two IMSI catchers",
        "control_entries": [{"regime": "Wassenaar", "code": "5A001.j"}], "destination": "MM",
        "end_use": "Police monitoring", "question": "Zqconsultquestion: do you still hold the same concerns?",
    }
    payload.update(overrides)
    return payload


@dataclass
class World:
    denial_id: uuid.UUID
    people: dict[str, Any]


@pytest.fixture
def world(app: Flask, make_user: Any, observer_state: str, mailbox: Any) -> World:
    people = {
        "a_spoc": make_user("spoc", A), "a_officer": make_user("officer", A), "a_reader": make_user("reader", A),
        "b_spoc": make_user("spoc", B), "b_officer": make_user("officer", B), "b_reader": make_user("reader", B),
        "c_officer": make_user("officer", C), "outside_officer": make_user("officer", OUTSIDE),
        "observer": make_user("reader", observer_state), "secretariat": make_user("secretariat", None),
        "admin": make_user("admin", None),
    }
    denial_id = helpers.make_item(app, people["a_spoc"], "denial", "published", tlp="AMBER",
                                  audience=helpers.audience(countries=[B, C], secretariat=True),
                                  title="Denial of IMSI catchers zqdenialtitle")
    with app.app_context():  # the denial's own publication alerts are not what these tests look at
        outbox.deliver_pending(db.session)
        db.session.remove()
    mailbox.clear()
    return World(denial_id, people)


def open_consultation(app: Flask, world: World, by: str = "b_officer", **overrides: Any) -> uuid.UUID:
    with app.app_context():
        consultation = service.open_consultation(db.session, helpers.user(world.people[by]),
                                                 transaction(world.denial_id, **overrides))
        consultation_id = consultation.id
        db.session.remove()
    return consultation_id


def take_to(app: Flask, world: World, consultation_id: uuid.UUID, status: str, outcome: str = "application_withdrawn",
            reasons: str = "The exporter withdrew its application.") -> None:
    """Move a consultation to `status` through the service: A answers; B closes."""
    with app.app_context():
        consultation = db.session.get(Consultation, consultation_id)
        assert consultation is not None
        if status in ("answered", "closed"):
            service.answer(db.session, helpers.user(world.people["a_spoc"]), consultation,
                           {"position": "objection", "reasons": "Zqanswerreason: the end user is unchanged."})
        if status == "closed":
            service.close(db.session, helpers.user(world.people["b_officer"]), consultation,
                          {"outcome": outcome, "reasons": reasons})
        db.session.remove()
