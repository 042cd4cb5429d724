"""Minutes: what states read, who reads comments, and the lock after adoption."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.errors import Forbidden, ValidationFailed
from portal.extensions import db
from portal.meetings import minutes, service
from portal.errors import Locked
from portal.models import Meeting, MinutesComment
from tests.conftest import post_form
from tests.meetings.conftest import new_meeting, shift_meeting, user


def _held(app: Flask, people: Any) -> uuid.UUID:
    meeting_id = new_meeting(app, people.sec)
    shift_meeting(app, meeting_id, -31)
    with app.app_context():
        service.mark_held(db.session, user(people.sec), db.session.get(Meeting, meeting_id))
        db.session.remove()
    return meeting_id


def _circulate(app: Flask, people: Any, meeting_id: uuid.UUID, body: str = "## 1. Opening\n\nAdopted.") -> None:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        minutes.save_draft(db.session, user(people.sec), meeting, body)
        minutes.circulate(db.session, user(people.sec), meeting)
        db.session.remove()


def test_minutes_wait_for_the_meeting(app: Flask, people: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    with app.app_context():
        with pytest.raises(ValidationFailed, match="once the meeting has been held"):
            minutes.save_draft(db.session, user(people.sec), db.session.get(Meeting, meeting_id), "Too early")
        db.session.remove()


def test_comments_are_seen_by_the_secretariat_and_their_state_only(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = _held(app, people)
    _circulate(app, people, meeting_id)
    dk, fr = login_as(app.test_client(), people.dk_officer), login_as(app.test_client(), people.fr)
    url = f"/meetings/{meeting_id}/minutes"
    assert post_form(dk, f"{url}/comments", {"body": "Danish remark on item 1."}).status_code == 302
    assert post_form(fr, f"{url}/comments", {"body": "French remark on item 1."}).status_code == 302
    dk_page = login_as(app.test_client(), people.dk).get(url).get_data(as_text=True)  # the Danish SPOC
    fr_page = fr.get(url).get_data(as_text=True)
    sec_page = login_as(app.test_client(), people.sec).get(url).get_data(as_text=True)
    assert "Danish remark" in dk_page and "French remark" not in dk_page
    assert "French remark" in fr_page and "Danish remark" not in fr_page
    assert "Danish remark" in sec_page and "French remark" in sec_page
    de_page = login_as(app.test_client(), people.de).get(url).get_data(as_text=True)
    assert "remark" not in de_page
    # Readers read; they do not comment.
    reader = login_as(app.test_client(), people.dk_reader)
    assert "Send the comment" not in reader.get(url).get_data(as_text=True)
    assert post_form(reader, f"{url}/comments", {"body": "reader"}).status_code == 403
    with app.app_context():
        comments = db.session.scalars(select(MinutesComment).order_by(MinutesComment.created_at))
        assert [c.country_code for c in comments] == ["DK", "FR"]
        db.session.remove()


def test_states_read_the_circulated_text_not_the_working_draft(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = _held(app, people)
    sec = login_as(app.test_client(), people.sec)
    dk = login_as(app.test_client(), people.dk)
    first = {"body": "## 1. Opening\n\nFirst text."}
    assert post_form(sec, f"/meetings/{meeting_id}/minutes/edit", first).status_code == 302
    assert dk.get(f"/meetings/{meeting_id}/minutes").status_code == 404
    assert post_form(dk, f"/meetings/{meeting_id}/minutes/comments", {"body": "too early"}).status_code == 403
    assert post_form(sec, f"/meetings/{meeting_id}/minutes/circulate").status_code == 302
    # Circulating the same text twice is refused with a message.
    page = post_form(sec, f"/meetings/{meeting_id}/minutes/circulate", follow_redirects=True).get_data(as_text=True)
    assert "already been circulated" in page
    post_form(sec, f"/meetings/{meeting_id}/minutes/edit", {"body": "## 1. Opening\n\nSecond text."})
    page = dk.get(f"/meetings/{meeting_id}/minutes").get_data(as_text=True)
    assert "First text." in page and "Second text." not in page
    assert "Second text." in sec.get(f"/meetings/{meeting_id}/minutes").get_data(as_text=True)
    assert dk.get(f"/meetings/{meeting_id}/minutes/versions/1").status_code == 200
    assert dk.get(f"/meetings/{meeting_id}/minutes/versions/2").status_code == 404


def test_adopted_minutes_are_locked(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = _held(app, people)
    _circulate(app, people, meeting_id)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        minutes.adopt(db.session, user(people.sec), meeting)
        for operation in (lambda: minutes.save_draft(db.session, user(people.sec), meeting, "changed"),
                          lambda: minutes.circulate(db.session, user(people.sec), meeting),
                          lambda: minutes.adopt(db.session, user(people.sec), meeting),
                          lambda: minutes.add_comment(db.session, user(people.dk), meeting, "late")):
            with pytest.raises(Locked, match="adopted and are locked"):
                operation()
        with pytest.raises(Forbidden):
            minutes.save_draft(db.session, user(people.dk), meeting, "not the secretariat")
        record = minutes.get_minutes(db.session, meeting)
        assert record is not None and record.body == "## 1. Opening\n\nAdopted." and record.version == 2
        db.session.remove()
    sec = login_as(app.test_client(), people.sec)
    response = sec.get(f"/meetings/{meeting_id}/minutes/edit")
    assert response.status_code == 409 and "locked" in response.get_data(as_text=True)
    page = sec.get(f"/meetings/{meeting_id}/minutes").get_data(as_text=True)
    assert "Edit the draft" not in page and "Adopted minutes are locked" in page
    assert login_as(app.test_client(), people.dk).get(f"/meetings/{meeting_id}/minutes/versions/2").status_code == 200
