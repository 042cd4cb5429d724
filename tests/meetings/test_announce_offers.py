"""Announcing a meeting lists the invited states nobody would hear from (no point of contact)
and lets the secretariat send to all their active users instead; actions that would be refused
are not offered, or say when they become available. Both databases."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.meetings import actions
from portal.models import Meeting, OutboxMessage, Role
from tests.conftest import post_form
from tests.meetings.conftest import deliver, form, local, new_meeting, payload


def _recipients(app: Flask) -> set[str]:
    with app.app_context():
        found = {m.recipient.email for m in db.session.scalars(select(OutboxMessage))}
        db.session.remove()
    return found


def test_states_without_contact_are_listed_and_reached_through_the_fallback(
        app: Flask, people: Any, make_user: Any, login_as: Any) -> None:
    # Spain and Finland are invited but have no point of contact; Spain's officer is reachable.
    es_officer = make_user(Role.OFFICER, "ES", email="officer@es.example")
    make_user(Role.READER, "FI", email="reader@fi.example")
    meeting_id = new_meeting(app, people.sec, announce=False, invite_all_subscribing=False,
                             states=["DK", "FR", "ES", "FI"])
    sec = login_as(app.test_client(), people.sec)
    page = sec.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "2 invited states have no point of contact" in page
    assert re.findall(r'name="fallback" value="(\w+)"', page) == ["FI", "ES"] or \
        sorted(re.findall(r'name="fallback" value="(\w+)"', page)) == ["ES", "FI"]
    assert 'value="DK"' not in page.split("no point of contact")[1].split("</fieldset>")[0]

    # A state that has a point of contact cannot be given a fallback.
    response = post_form(sec, f"/meetings/{meeting_id}/announce", {"fallback": ["DK"]}, follow_redirects=True)
    assert "Choose a fallback only for invited states without a point of contact." in response.get_data(as_text=True)
    assert _recipients(app) == set()

    response = post_form(sec, f"/meetings/{meeting_id}/announce", {"fallback": ["ES"]})
    assert response.status_code == 302
    assert _recipients(app) == {"spoc@dk.example", "spoc@fr.example", es_officer.email}
    assert "Meeting invitation" in login_as(app.test_client(), es_officer).get("/notifications/").get_data(as_text=True)


def _subjects(mailbox: Any, address: str) -> list[str]:
    return sorted(m["Subject"] for m in mailbox.to(address))


def test_the_fallback_is_remembered_for_updates_and_the_cancellation(
        app: Flask, people: Any, make_user: Any, login_as: Any, mailbox: Any) -> None:
    # Spain and Finland have no point of contact; the secretariat chooses the fallback for Spain only.
    es_officer = make_user(Role.OFFICER, "ES", email="officer@es.example")
    es_reader = make_user(Role.READER, "ES", email="reader@es.example")
    fi_reader = make_user(Role.READER, "FI", email="reader@fi.example")
    states = ["DK", "ES", "FI"]
    meeting_id = new_meeting(app, people.sec, announce=False, invite_all_subscribing=False, states=states)
    sec = login_as(app.test_client(), people.sec)
    assert post_form(sec, f"/meetings/{meeting_id}/announce", {"fallback": ["ES"]}).status_code == 302
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting is not None and meeting.fallback_states == ["ES"]
        db.session.remove()
    assert deliver(app) == 3
    mailbox.clear()

    moved = payload(invite_all_subscribing=False, states=states, venue="Bella Center, Copenhagen",
                    starts_at=local(32, 9), ends_at=local(33, 17))
    assert post_form(sec, f"/meetings/{meeting_id}/edit", form(moved)).status_code == 302
    assert deliver(app) == 3
    title = "Fourth plenary of the Initiative"
    for account in (es_officer, es_reader, people.dk):
        assert _subjects(mailbox, account.email) == [f"Updated: {title}"]
    assert mailbox.to(fi_reader.email) == []
    mailbox.clear()

    assert post_form(sec, f"/meetings/{meeting_id}/cancel", {"reason": "The host withdrew."}).status_code == 302
    assert deliver(app) == 3
    for account in (es_officer, es_reader, people.dk):
        [cancellation] = mailbox.to(account.email)
        assert cancellation["Subject"] == f"Cancelled: {title}"
        assert "The host withdrew." in mailbox.text(cancellation)
    assert mailbox.to(fi_reader.email) == []


def test_a_point_of_contact_appointed_later_replaces_the_fallback(
        app: Flask, people: Any, make_user: Any, login_as: Any, mailbox: Any) -> None:
    es_officer = make_user(Role.OFFICER, "ES", email="officer@es.example")
    meeting_id = new_meeting(app, people.sec, announce=False, invite_all_subscribing=False, states=["DK", "ES"])
    sec = login_as(app.test_client(), people.sec)
    assert post_form(sec, f"/meetings/{meeting_id}/announce", {"fallback": ["ES"]}).status_code == 302
    deliver(app)
    assert [m["Subject"] for m in mailbox.to(es_officer.email)] == ["Invitation: Fourth plenary of the Initiative"]
    mailbox.clear()
    es_spoc = make_user(Role.SPOC, "ES", email="spoc@es.example")
    assert post_form(sec, f"/meetings/{meeting_id}/cancel", {"reason": "The host withdrew."}).status_code == 302
    assert deliver(app) == 2
    assert [m["Subject"] for m in mailbox.to(es_spoc.email)] == ["Cancelled: Fourth plenary of the Initiative"]
    assert mailbox.to(es_officer.email) == []


def test_refused_actions_are_not_offered_or_say_when(app: Flask, people: Any, login_as: Any) -> None:
    in_person = new_meeting(app, people.sec, online_url="", title="In-person plenary")
    dk = login_as(app.test_client(), people.dk)
    page = dk.get(f"/meetings/{in_person}/delegates/new").get_data(as_text=True)
    assert 'value="in_person"' in page and 'value="remote"' not in page

    sec = login_as(app.test_client(), people.sec)
    page = sec.get(f"/meetings/{in_person}").get_data(as_text=True)
    assert "Mark as held: The meeting has not started yet." in page or "The meeting has not started yet." in page
    assert f'action="/meetings/{in_person}/held"' not in page

    # An action due before the meeting: the form says from when, the service refuses earlier dates.
    form_page = sec.get(f"/meetings/{in_person}/actions/new")
    if form_page.status_code == 200:
        html = form_page.get_data(as_text=True)
        assert "the meeting&#39;s first day" in html or "the meeting's first day" in html
    with app.app_context():
        meeting = db.session.get(Meeting, in_person)
        early = meeting.starts_at.date() - timedelta(days=1)
        with pytest.raises(ValidationFailed) as refused:
            actions._validate(db.session, {"kind": "action", "text": "Report back", "due_date": early.isoformat()},
                              meeting)
        assert "due on or after" in refused.value.fields["due_date"]
        db.session.remove()
