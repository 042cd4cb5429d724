"""Delegations: the deadline, one head per state, the participant list and the CSV export."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Delegate, Meeting
from tests.conftest import post_form
from tests.meetings.conftest import local, new_meeting, shift_meeting


def _register(client: Any, meeting_id: uuid.UUID, **data: Any) -> Any:
    payload = {"name": "Anne Holm", "position": "Head of export control", "email": "anne@dk.example",
               "attendance": "in_person", **data}
    return post_form(client, f"/meetings/{meeting_id}/delegates/new",
                     {k: v for k, v in payload.items() if v is not None})


def _count(app: Flask, meeting_id: uuid.UUID) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Delegate).where(Delegate.meeting_id == meeting_id))
        db.session.remove()
    return count or 0


def test_registration_closes_at_the_deadline(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    dk = login_as(app.test_client(), people.dk)
    assert _register(dk, meeting_id, name="Bo Berg", email="bo@dk.example").status_code == 302
    with app.app_context():
        delegate_id = db.session.scalar(select(Delegate.id))
        db.session.remove()
    shift_meeting(app, meeting_id, -21)  # the deadline (20 days ahead) is now a day past; the meeting is still ahead
    response = _register(dk, meeting_id, name="Late Comer", email="late@dk.example")
    assert response.status_code == 302
    page = dk.get(response.headers["Location"]).get_data(as_text=True)
    assert "Registration closed at the deadline" in page and "Write to the secretariat" in page
    assert "Register a delegate" not in page
    response = post_form(dk, f"/meetings/{meeting_id}/delegates/{delegate_id}/remove", follow_redirects=True)
    notice = '<div class="notice notice-error" role="alert">Registration closed at the deadline'
    assert notice in response.get_data(as_text=True)
    assert _count(app, meeting_id) == 1  # nothing added, nothing removed


def test_only_points_of_contact_register(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    assert _register(login_as(app.test_client(), people.dk_officer), meeting_id).status_code == 403
    assert _register(login_as(app.test_client(), people.sec), meeting_id).status_code == 403
    assert _count(app, meeting_id) == 0


def test_one_head_of_delegation_per_state(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    dk, fr = login_as(app.test_client(), people.dk), login_as(app.test_client(), people.fr)
    assert _register(dk, meeting_id, is_head="y").status_code == 302
    response = _register(dk, meeting_id, name="Bo Berg", email="bo@dk.example", is_head="y")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Anne Holm is already your head of delegation" in page and "There is a problem" in page
    assert _register(fr, meeting_id, name="Claire Roux", email="claire@fr.example", is_head="y").status_code == 302
    # The same person twice in one state's delegation is refused too.
    response = _register(dk, meeting_id, name="Anne again", email="ANNE@dk.example")
    assert "This person is already in your delegation to the meeting." in response.get_data(as_text=True)
    assert _count(app, meeting_id) == 2


def test_an_address_in_another_states_delegation_is_not_confirmed(app: Flask, people: Any, login_as: Any) -> None:
    """Duplicates are checked per state: registering an address France has registered tells
    Denmark nothing (no error), in the form check and in the database constraint alike."""
    meeting_id = new_meeting(app, people.sec)
    dk, fr = login_as(app.test_client(), people.dk), login_as(app.test_client(), people.fr)
    assert _register(fr, meeting_id, name="Claire Roux", email="claire@fr.example").status_code == 302
    response = _register(dk, meeting_id, name="Claire Roux", email="Claire@FR.example")
    assert response.status_code == 302, response.get_data(as_text=True)
    # Editing a Danish delegate to that address is not refused either.
    assert _register(dk, meeting_id, name="Bo Berg", email="bo@dk.example").status_code == 302
    with app.app_context():
        bo = db.session.scalar(select(Delegate.id).where(Delegate.email == "bo@dk.example"))
        db.session.remove()
    response = post_form(dk, f"/meetings/{meeting_id}/delegates/{bo}/edit", {
        "name": "Bo Berg", "email": "claire@fr.example", "attendance": "remote"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "already in your delegation" in page  # Denmark's own duplicate now
    assert "already registered" not in page
    with app.app_context():
        rows = sorted(db.session.execute(select(Delegate.country_code, Delegate.email)
                                         .where(Delegate.meeting_id == meeting_id)).all())
        db.session.remove()
    assert rows == [("DK", "bo@dk.example"), ("DK", "claire@fr.example"), ("FR", "claire@fr.example")]


def test_the_database_allows_one_address_in_two_delegations_but_not_twice_in_one(app: Flask, people: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    with app.app_context():
        for code in ("DK", "FR"):
            db.session.add(Delegate(meeting_id=meeting_id, country_code=code, name="Claire Roux",
                                    email="claire@fr.example", attendance="remote"))
        db.session.commit()
        db.session.add(Delegate(meeting_id=meeting_id, country_code="DK", name="Claire again",
                                email="claire@fr.example", attendance="remote"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.remove()


def test_the_database_keeps_one_head_per_state(app: Flask, people: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    with app.app_context():
        for n in range(2):
            db.session.add(Delegate(meeting_id=meeting_id, country_code="DK", name=f"Head {n}",
                                    email=f"h{n}@dk.example", attendance="remote", is_head=True))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        # Two non-heads and one head are fine.
        for n in range(3):
            db.session.add(Delegate(meeting_id=meeting_id, country_code="DK", name=f"D {n}", email=f"d{n}@dk.example",
                                    attendance="remote", is_head=n == 0))
        db.session.commit()
        db.session.remove()


def test_changing_and_removing_delegates(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    dk = login_as(app.test_client(), people.dk)
    _register(dk, meeting_id, is_head="y")
    _register(dk, meeting_id, name="Bo Berg", email="bo@dk.example")
    with app.app_context():
        bo = db.session.scalar(select(Delegate.id).where(Delegate.name == "Bo Berg"))
        anne = db.session.scalar(select(Delegate.id).where(Delegate.name == "Anne Holm"))
        db.session.remove()
    # Swapping the head: first Anne steps down, then Bo becomes head.
    assert post_form(dk, f"/meetings/{meeting_id}/delegates/{anne}/edit", {
        "name": "Anne Holm", "email": "anne@dk.example", "attendance": "in_person"}).status_code == 302
    assert post_form(dk, f"/meetings/{meeting_id}/delegates/{bo}/edit", {
        "name": "Bo Berg", "email": "bo@dk.example", "attendance": "remote", "is_head": "y"}).status_code == 302
    assert post_form(dk, f"/meetings/{meeting_id}/delegates/{anne}/remove").status_code == 302
    with app.app_context():
        rows = db.session.execute(select(Delegate.name, Delegate.is_head)).all()
        db.session.remove()
    assert rows == [("Bo Berg", True)]


def test_attendance_must_fit_the_meeting(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec, venue="")  # online only
    response = _register(login_as(app.test_client(), people.dk), meeting_id, attendance="in_person")
    assert "This meeting is online only: choose remote." in response.get_data(as_text=True)


def test_participants_and_csv_export(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    dk, fr = login_as(app.test_client(), people.dk), login_as(app.test_client(), people.fr)
    _register(dk, meeting_id, name="=HYPERLINK(\"http://evil\")", email="eve@dk.example", position="+1 cmd",
              is_head="y")
    _register(dk, meeting_id, name="Bo Berg", email="bo@dk.example", position="-minus", attendance="remote")
    _register(fr, meeting_id, name="Claire Roux", email="claire@fr.example", position="@sum")
    # Every invited state sees all delegations; officers and readers too.
    page = login_as(app.test_client(), people.de).get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Bo Berg" in page and "Claire Roux" in page and "bo@dk.example" not in page
    reader = login_as(app.test_client(), people.dk_reader)
    assert "Bo Berg" in reader.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    # Only the secretariat exports.
    assert dk.get(f"/meetings/{meeting_id}/registrations.csv").status_code == 403
    response = login_as(app.test_client(), people.sec).get(f"/meetings/{meeting_id}/registrations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["State", "State code", "Name", "Position", "E-mail"]
    by_email = {r[4]: r for r in rows[1:]}
    assert set(by_email) == {"eve@dk.example", "bo@dk.example", "claire@fr.example"}
    assert by_email["eve@dk.example"][2] == "'=HYPERLINK(\"http://evil\")"  # no formula reaches a spreadsheet
    assert by_email["eve@dk.example"][3] == "'+1 cmd" and by_email["eve@dk.example"][6] == "yes"
    assert by_email["bo@dk.example"][3] == "'-minus" and by_email["bo@dk.example"][5] == "Remote"
    assert by_email["claire@fr.example"][3] == "'@sum" and by_email["claire@fr.example"][0] == "France"


def test_meeting_form_errors_are_explained(app: Flask, people: Any, login_as: Any) -> None:
    sec = login_as(app.test_client(), people.sec)
    response = post_form(sec, "/meetings/new", {
        "kind": "plenary", "title": "", "timezone": "Europe/Copenhagen",
        "starts_at": local(30, 9).strftime("%Y-%m-%dT%H:%M"), "ends_at": local(29, 9).strftime("%Y-%m-%dT%H:%M"),
        "registration_deadline": local(31, 9).strftime("%Y-%m-%dT%H:%M"), "online_url": "http://insecure.example",
        "invite_all_subscribing": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "There is a problem" in page
    for message in ("Enter the meeting&#39;s title.", "The meeting must end after it starts.",
                    "Registration must close before the meeting starts.", "Enter a full https:// address"):
        assert message in page, message
    # A wall-clock time skipped by the change to summer time (last Sunday of March, 02:00-03:00) does not exist.
    last_day = date(local(400).year, 3, 31)
    spring = last_day - timedelta(days=(last_day.weekday() - 6) % 7)
    response = post_form(sec, "/meetings/new", {
        "kind": "plenary", "title": "Spring", "timezone": "Europe/Copenhagen", "venue": "Copenhagen",
        "starts_at": f"{spring}T02:30", "ends_at": f"{spring}T12:00", "registration_deadline": f"{spring}T00:00",
        "invite_all_subscribing": "y"})
    assert "That time does not exist in Europe/Copenhagen" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0
        db.session.remove()
