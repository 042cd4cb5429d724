"""Private calendar feeds: parseable, limited to the user's state, revocable."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask
from icalendar import Calendar
from sqlalchemy import select

from portal.extensions import db
from portal.models import CalendarToken, UserStatus
from tests.conftest import audit_actions, post_form
from tests.meetings.conftest import add_observer, new_meeting, user

FEED = re.compile(r"(/calendar/cal_[A-Za-z0-9_-]+\.ics)")


def _make_feed(client: Any) -> str:
    response = post_form(client, "/meetings/calendar", {"action": "create"}, page="/meetings/calendar")
    page = response.get_data(as_text=True)
    match = FEED.search(page)
    assert match, page
    return match.group(1)


def test_feed_lists_the_meetings_of_the_users_state(app: Flask, people: Any, login_as: Any, make_user: Any) -> None:
    for_all = new_meeting(app, people.sec, title="Plenary for all")
    for_dk = new_meeting(app, people.sec, title="Expert meeting for Denmark", kind="expert_meeting",
                         invite_all_subscribing=False, states=["DK"])
    for_fr = new_meeting(app, people.sec, title="Working group for France", kind="working_group",
                         invite_all_subscribing=False, states=["FR"])
    draft = new_meeting(app, people.sec, title="Draft plenary", announce=False)
    url = _make_feed(login_as(app.test_client(), people.dk_reader))

    anonymous = app.test_client()  # calendar clients do not sign in
    response = anonymous.get(url)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    feed = Calendar.from_ical(response.data)
    assert feed["VERSION"] == "2.0" and feed["PRODID"] and feed["METHOD"] == "PUBLISH"
    uids = {str(e["UID"]) for e in feed.events}
    assert uids == {f"meeting-{for_all}@echri-portal", f"meeting-{for_dk}@echri-portal"}
    assert {str(e["SUMMARY"]) for e in feed.events} == {"Plenary: Plenary for all",
                                                        "Expert meeting: Expert meeting for Denmark"}
    for event in feed.events:
        assert event.start.tzinfo is not None and event.end > event.start
    # The secretariat's feed has every announced meeting, not the draft.
    sec_feed = Calendar.from_ical(anonymous.get(_make_feed(login_as(app.test_client(), people.sec))).data)
    assert {str(e["UID"]) for e in sec_feed.events} == {f"meeting-{m}@echri-portal" for m in (for_all, for_dk, for_fr)}
    assert f"meeting-{draft}@echri-portal" not in sec_feed.to_ical().decode()
    # An observer state's user sees none of these (observers were not invited).
    observer = make_user("reader", add_observer(app))
    assert not Calendar.from_ical(anonymous.get(_make_feed(login_as(app.test_client(), observer))).data).events


def test_cancelled_meetings_stay_in_the_feed_as_cancelled(app: Flask, people: Any, login_as: Any) -> None:
    from portal.meetings import service
    from portal.models import Meeting

    meeting_id = new_meeting(app, people.sec)
    with app.app_context():
        service.cancel(db.session, user(people.sec), db.session.get(Meeting, meeting_id), "Venue unavailable.")
        db.session.remove()
    feed = Calendar.from_ical(app.test_client().get(_make_feed(login_as(app.test_client(), people.dk))).data)
    [event] = feed.events
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1


def test_revoked_replaced_unknown_and_disabled_feeds_are_404(app: Flask, people: Any, login_as: Any) -> None:
    new_meeting(app, people.sec)
    dk = login_as(app.test_client(), people.dk)
    anonymous = app.test_client()
    first = _make_feed(dk)
    second = _make_feed(dk)  # a new address replaces the old one
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    assert "You have a feed address" in dk.get("/meetings/calendar").get_data(as_text=True)
    assert post_form(dk, "/meetings/calendar", {"action": "revoke"}, page="/meetings/calendar").status_code == 302
    assert anonymous.get(second).status_code == 404
    assert anonymous.get("/calendar/cal_not-a-real-token.ics").status_code == 404
    assert anonymous.get("/calendar/something-else.ics").status_code == 404
    third = _make_feed(dk)
    with app.app_context():
        user(people.dk).status = UserStatus.DISABLED
        db.session.commit()
        db.session.remove()
    assert anonymous.get(third).status_code == 404
    with app.app_context():
        hashes = list(db.session.scalars(select(CalendarToken.token_hash)))
        db.session.remove()
    assert len(hashes) == 3 and all(len(h) == 64 for h in hashes)
    assert not any(third.split("/")[-1].removesuffix(".ics") in h for h in hashes)  # only digests are stored
    assert audit_actions(app).count("calendar_feed.created") == 3 and "calendar_feed.revoked" in audit_actions(app)
