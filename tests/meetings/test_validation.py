"""The meeting services validate with the one Checker every domain uses: the same text rules as
the sharing API (no control characters in one-line fields), every problem named at once, and
JSON-shaped values (ISO text) accepted as well as a form's parsed dates."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.meetings import actions, agenda, registration, service
from portal.models import Meeting
from tests.meetings.conftest import local, new_meeting, payload, user


def _problems(call: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        call()
    return refused.value.fields


def test_meeting_fields_follow_the_shared_text_rules_and_are_named_together(app: Flask, people: Any) -> None:
    with app.app_context():
        fields = _problems(lambda: service.validate(db.session, payload(
            title="Plenary\u2028injected", kind="summit", venue="", online_url="http://insecure.example",
            states=["dk"], invite_all_subscribing=False, ends_at=local(29))))
    assert fields == {
        "title": "Must be on one line, without control characters.",
        "kind": "Choose the kind of meeting.",
        "online_url": "Enter a full https:// address, e.g. https://meet.example.org/echri-plenary.",
        "ends_at": "The meeting must end after it starts.",
    }


def test_meeting_times_may_come_as_iso_text_and_bad_ones_are_named(app: Flask, people: Any) -> None:
    with app.app_context():
        clean = service.validate(db.session, payload(starts_at=local(30).isoformat(), ends_at=local(31).isoformat()))
        assert clean.ends_at > clean.starts_at
        fields = _problems(lambda: service.validate(db.session, payload(starts_at="next Tuesday", ends_at=None)))
    assert fields["starts_at"] == "Enter the start as a date and time, e.g. 2026-03-10 09:30."
    assert fields["ends_at"] == "Enter the end."


def test_agenda_registration_and_actions_refuse_control_characters(app: Flask, people: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting is not None
        assert _problems(lambda: agenda.add_item(db.session, user(people.sec), meeting, {
            "title": "Opening\x00", "description": "", "lead_state": "zz", "items": ""})) == {
            "title": "Must be on one line, without control characters.",
            "lead_state": "Choose a state from the register."}
        assert _problems(lambda: registration.add_delegate(db.session, user(people.dk), meeting, {
            "name": "Dana\rDane", "position": "", "email": "not-an-address", "attendance": "by pigeon"})) == {
            "name": "Must be on one line, without control characters.",
            "email": "Enter an e-mail address like name@ministry.example.",
            "attendance": "Choose in person or remote."}
        assert _problems(lambda: actions._validate(db.session, {
            "kind": "action", "text": "", "owner_state": "QQ", "due_date": "30/06/2026"}, meeting)) == {
            "text": "Describe the action or decision.",
            "owner_state": "Choose a state from the register, or the secretariat.",
            "due_date": "Enter a date, e.g. 2026-06-30."}
