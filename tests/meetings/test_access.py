"""Who sees meetings: invited states do, everyone else gets 404 on every page, file and feed."""
from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import select

from portal import access
from portal.extensions import db
from portal.models import ActionItem, AgendaItem, Delegate, Meeting
from tests.conftest import post_form
from tests.meetings.conftest import add_observer, new_meeting, user

GET_PAGES = [
    "/meetings/{m}", "/meetings/{m}.ics", "/meetings/{m}/edit", "/meetings/{m}/cancel", "/meetings/{m}/agenda/new",
    "/meetings/{m}/agenda/{a}/edit", "/meetings/{m}/agenda/versions/1", "/meetings/{m}/delegates/new",
    "/meetings/{m}/delegates/{d}/edit", "/meetings/{m}/registrations.csv", "/meetings/{m}/minutes",
    "/meetings/{m}/minutes/edit", "/meetings/{m}/minutes/versions/1", "/meetings/{m}/actions/new",
    "/meetings/actions/{x}/edit",
]
POSTS = [
    "/meetings/{m}/edit", "/meetings/{m}/announce", "/meetings/{m}/close-registration",
    "/meetings/{m}/reopen-registration", "/meetings/{m}/held", "/meetings/{m}/cancel", "/meetings/{m}/agenda/new",
    "/meetings/{m}/agenda/{a}/edit", "/meetings/{m}/agenda/{a}/move/up", "/meetings/{m}/agenda/{a}/delete",
    "/meetings/{m}/agenda/publish", "/meetings/{m}/delegates/new", "/meetings/{m}/delegates/{d}/edit",
    "/meetings/{m}/delegates/{d}/remove", "/meetings/{m}/minutes/edit", "/meetings/{m}/minutes/circulate",
    "/meetings/{m}/minutes/adopt", "/meetings/{m}/minutes/comments", "/meetings/{m}/actions/new",
    "/meetings/actions/{x}/edit",
]


@pytest.fixture
def scene(app: Flask, people: Any, login_as: Any) -> SimpleNamespace:
    """A meeting for Denmark and France only, with an agenda item, a Danish delegate and an action."""
    from portal.meetings import actions, agenda, registration

    meeting_id = new_meeting(app, people.sec, announce=False, invite_all_subscribing=False, states=["DK", "FR"])
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        agenda.add_item(db.session, user(people.sec), meeting, {"title": "Opening"})
        from portal.meetings import service

        service.announce(db.session, user(people.sec), meeting)
        registration.add_delegate(db.session, user(people.dk), meeting, {
            "name": "Anne Holm", "email": "anne@dk.example", "attendance": "in_person", "is_head": True})
        actions.add_action(db.session, user(people.sec), meeting, {"kind": "action", "text": "Report back.",
                                                                    "owner_state": "DE"})
        ids = {"m": meeting_id, "a": db.session.scalar(select(AgendaItem.id)),
               "d": db.session.scalar(select(Delegate.id)),
               "x": db.session.scalar(select(ActionItem.id))}
        db.session.remove()
    return SimpleNamespace(**ids)


def _urls(templates: list[str], ids: SimpleNamespace) -> list[str]:
    return [t.format(**vars(ids)) for t in templates]


@pytest.mark.parametrize("who", ["de", "admin", "observer"])
def test_outsiders_get_404_everywhere(app: Flask, people: Any, login_as: Any, make_user: Any, scene: Any,
                                      who: str) -> None:
    account = make_user("spoc", add_observer(app)) if who == "observer" else getattr(people, who)
    client = login_as(app.test_client(), account)
    for url in _urls(GET_PAGES, scene):
        assert client.get(url).status_code == 404, url
    for url in _urls(POSTS, scene):
        assert post_form(client, url, {"body": "x", "reason": "x", "title": "x"}).status_code == 404, url
    if who != "admin":
        assert "Fourth plenary" not in client.get("/meetings/").get_data(as_text=True)
        assert "Report back." not in client.get("/meetings/actions").get_data(as_text=True)  # not even its own action
    else:
        for url in ("/meetings/", "/meetings/actions", "/meetings/calendar"):
            assert client.get(url).status_code == 404, url  # meetings do not exist for administrators


def test_invited_states_may_see_but_not_organise(app: Flask, people: Any, login_as: Any, scene: Any) -> None:
    officer = login_as(app.test_client(), people.dk_officer)
    assert officer.get(f"/meetings/{scene.m}").status_code == 200
    assert officer.get(f"/meetings/{scene.m}.ics").status_code == 200
    assert officer.get("/meetings/new").status_code == 403
    for url in ("/meetings/{m}/edit", "/meetings/{m}/agenda/new", "/meetings/{m}/registrations.csv",
                "/meetings/{m}/actions/new", "/meetings/{m}/minutes/edit"):
        assert officer.get(url.format(**vars(scene))).status_code == 403, url
    for url in ("/meetings/{m}/announce", "/meetings/{m}/held", "/meetings/{m}/agenda/publish",
                "/meetings/{m}/delegates/new"):
        assert post_form(officer, url.format(**vars(scene))).status_code == 403, url
    # A French SPOC sees the meeting but cannot touch Denmark's delegate.
    fr = login_as(app.test_client(), people.fr)
    assert fr.get(f"/meetings/{scene.m}/delegates/{scene.d}/edit").status_code == 404
    assert post_form(fr, f"/meetings/{scene.m}/delegates/{scene.d}/remove").status_code == 404


def test_drafts_are_for_the_secretariat_only(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec, announce=False, title="Working group on surveillance technology",
                             kind="working_group")
    dk = login_as(app.test_client(), people.dk)
    assert dk.get(f"/meetings/{meeting_id}").status_code == 404
    assert "Working group on surveillance" not in dk.get("/meetings/").get_data(as_text=True)
    sec = login_as(app.test_client(), people.sec)
    assert "Working group on surveillance" in sec.get("/meetings/").get_data(as_text=True)


def test_filter_and_predicate_agree(app: Flask, people: Any, make_user: Any) -> None:
    """access.meetings_filter (SQL) and access.can_view_meeting (Python) give the same answers."""
    observer = make_user("reader", add_observer(app))
    named = new_meeting(app, people.sec, invite_all_subscribing=False, states=["FR"])
    everyone = new_meeting(app, people.sec, invite_observers=True)
    draft = new_meeting(app, people.sec, announce=False)
    with app.app_context():
        for account in (people.sec, people.admin, people.dk, people.fr, people.dk_reader, observer):
            viewer = user(account)
            listed = set(db.session.scalars(select(Meeting.id).where(access.meetings_filter(viewer))))
            for meeting_id in (named, everyone, draft):
                meeting = db.session.get(Meeting, meeting_id)
                assert (meeting_id in listed) is access.can_view_meeting(viewer, meeting), (account.email, meeting_id)
        assert named not in set(db.session.scalars(select(Meeting.id).where(access.meetings_filter(user(people.dk)))))
        assert everyone in set(db.session.scalars(select(Meeting.id).where(access.meetings_filter(user(observer)))))
        db.session.remove()


def test_disabled_users_see_nothing(app: Flask, people: Any) -> None:
    from portal.models import UserStatus

    meeting_id = new_meeting(app, people.sec)
    with app.app_context():
        viewer = user(people.dk)
        viewer.status = UserStatus.DISABLED
        query = select(Meeting.id).where(Meeting.id == meeting_id, access.meetings_filter(viewer))
        assert db.session.scalar(query) is None
        db.session.rollback()
        db.session.remove()


def test_calendar_pages_need_no_session_only_the_feed(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/meetings/").status_code == 302  # to the sign-in page
    assert client.get(f"/meetings/{uuid.uuid4()}.ics").status_code == 302
    assert client.get("/calendar/cal_unknown-token.ics").status_code == 404
    assert "meetings.calendar_feed" in access.PUBLIC_ENDPOINTS


def test_ics_of_an_uninvited_meeting_is_404_even_with_a_feed(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec, invite_all_subscribing=False, states=["DK"])
    from portal.meetings import calendar

    with app.app_context():
        token = calendar.create_feed_token(db.session, user(people.de))
        db.session.remove()
    feed = Calendar.from_ical(app.test_client().get(f"/calendar/{token}.ics").data)
    assert not feed.events
    assert login_as(app.test_client(), people.de).get(f"/meetings/{meeting_id}.ics").status_code == 404


def test_every_page_renders_for_those_it_is_for(app: Flask, people: Any, login_as: Any, scene: Any) -> None:
    sec = login_as(app.test_client(), people.sec)
    for url in ("/meetings/", "/meetings/?when=past", "/meetings/new", "/meetings/{m}", "/meetings/{m}/edit",
                "/meetings/{m}/cancel", "/meetings/{m}/agenda/new", "/meetings/{m}/agenda/{a}/edit",
                "/meetings/{m}/agenda/versions/1", "/meetings/{m}/minutes", "/meetings/{m}/actions/new",
                "/meetings/actions/{x}/edit", "/meetings/actions", "/meetings/actions?state=DE&status=open&overdue=1",
                "/meetings/calendar", "/"):
        response = sec.get(url.format(**vars(scene)))
        assert response.status_code == 200, url
    dk = login_as(app.test_client(), people.dk)
    for url in ("/meetings/", "/meetings/{m}", "/meetings/{m}/delegates/new", "/meetings/{m}/delegates/{d}/edit",
                "/meetings/{m}/agenda/versions/1", "/meetings/actions", "/meetings/calendar", "/"):
        response = dk.get(url.format(**vars(scene)))
        assert response.status_code == 200, url
    # The navigation offers meetings to everyone but administrators.
    assert 'href="/meetings/"' in dk.get("/").get_data(as_text=True)
    assert 'href="/meetings/"' not in login_as(app.test_client(), people.admin).get("/").get_data(as_text=True)
