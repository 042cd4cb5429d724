"""The secretariat's full cycle through the real pages, and what the invited states see of it."""
from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Flask
from icalendar import Calendar
from sqlalchemy import select

from portal.extensions import db
from portal.models import ActionItem, AgendaVersion, Meeting, MeetingStatus, Minutes, MinutesVersion
from tests.conftest import audit_actions, post_form
from tests.meetings.conftest import ZONE, calendars, deliver, form, local, payload, shift_meeting


def _meeting_id(response: Any) -> uuid.UUID:
    match = re.search(r"/meetings/([0-9a-f-]{36})", response.headers["Location"])
    assert match, response.headers["Location"]
    return uuid.UUID(match.group(1))


def _document(app: Flask, make_user: Any, secretariat: Any) -> uuid.UUID:
    """A published best-practice document shared with the secretariat and all subscribing states."""
    from portal.models import ItemKind
    from portal.sharing import service as sharing
    from tests.meetings.conftest import user

    with app.app_context():
        item = sharing.create_draft(db.session, user(secretariat), ItemKind.DOCUMENT, {
            "title": "Guidance on human-rights risk assessment", "summary": "How licensing officers weigh the risks.",
            "body": "Text.", "tlp": "GREEN", "category": "licensing_practice",
            "audience": {"all_subscribing": True, "countries": [], "secretariat": True, "observers": False}})
        sharing.publish(db.session, user(secretariat), item)
        item_id = item.id
        db.session.remove()
    return item_id


def test_full_cycle(app: Flask, client: Any, login_as: Any, make_user: Any, mailbox: Any, people: Any) -> None:
    sec = login_as(app.test_client(), people.sec)
    dk = login_as(app.test_client(), people.dk)
    fr = login_as(app.test_client(), people.fr)

    # Create: a draft that only the secretariat sees.
    response = post_form(sec, "/meetings/new", form(payload()))
    assert response.status_code == 302, response.get_data(as_text=True)
    meeting_id = _meeting_id(response)
    page = sec.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Fourth plenary" in page and "draft: only the secretariat sees it" in page
    assert f"({ZONE})" in page  # times are shown in the meeting's zone, with its name
    assert dk.get(f"/meetings/{meeting_id}").status_code == 404

    # Agenda: two items, one linking a document; reorder them.
    document_id = _document(app, make_user, people.sec)
    agenda_url = f"/meetings/{meeting_id}/agenda/new"
    for title, extra in (("Exchange of information on denials", {}),
                         ("Opening and adoption of the agenda", {"starts_at": local(30, 9).strftime("%Y-%m-%dT%H:%M"),
                                                                 "ends_at": local(30, 9, 30).strftime("%Y-%m-%dT%H:%M"),
                                                                 "lead_state": "DK",
                                                                 "items": f"http://x/documents/{document_id}"})):
        response = post_form(sec, agenda_url, {"title": title, "description": "", **extra})
        assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        from portal.models import AgendaItem

        second = db.session.scalar(select(AgendaItem.id).where(AgendaItem.position == 2))
        db.session.remove()
    assert post_form(sec, f"/meetings/{meeting_id}/agenda/{second}/move/up").status_code == 302
    page = sec.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert page.index("Opening and adoption") < page.index("Exchange of information")
    assert "09:00–09:30" in page and "Guidance on human-rights risk assessment" in page

    # Announce: the SPOCs of invited states get an invitation with an .ics (real SMTP).
    response = post_form(sec, f"/meetings/{meeting_id}/announce")
    assert response.status_code == 302
    assert deliver(app) >= 3
    [invitation] = mailbox.to("spoc@dk.example")
    assert invitation["Subject"] == "Invitation: Fourth plenary of the Initiative"
    assert "register your delegation" in mailbox.text(invitation)
    assert not mailbox.to("officer@dk.example") and not mailbox.to("secretariat@echri.example")
    [ics] = calendars(invitation)
    assert ics["METHOD"] == "REQUEST" and ics["VERSION"] == "2.0" and ics["PRODID"]
    [event] = ics.events
    assert str(event["UID"]) == f"meeting-{meeting_id}@echri-portal"
    assert event["DTSTART"].params["TZID"] == ZONE
    assert event.start.replace(tzinfo=None) == local(30, 9)
    assert event["SUMMARY"] == "Plenary: Fourth plenary of the Initiative"
    assert event["LOCATION"] == "Eigtveds Pakhus, Copenhagen"
    assert str(event["URL"]).endswith(f"/meetings/{meeting_id}") and event["SEQUENCE"] == 0
    assert event.get("DTSTAMP") is not None
    with app.app_context():
        assert db.session.scalar(select(AgendaVersion.version).where(AgendaVersion.meeting_id == meeting_id)) == 1
        db.session.remove()

    # The states' side: invited states see the meeting, its published agenda and the linked document.
    page = dk.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Opening and adoption" in page and "Guidance on human-rights risk assessment" in page
    assert "Register a delegate" in page
    assert "Fourth plenary" in dk.get("/meetings/").get_data(as_text=True)
    assert "Fourth plenary" in dk.get("/").get_data(as_text=True)  # the home page's upcoming meetings

    # Registration: Denmark registers two delegates, France one.
    for who, data in ((dk, {"name": "Anne Holm", "position": "Head of export control", "email": "anne@dk.example",
                            "attendance": "in_person", "is_head": "y"}),
                      (dk, {"name": "Bo Berg", "position": "Licensing officer", "email": "bo@dk.example",
                            "attendance": "remote"}),
                      (fr, {"name": "Claire Roux", "position": "Cheffe de bureau", "email": "claire@fr.example",
                            "attendance": "in_person", "is_head": "y"})):
        response = post_form(who, f"/meetings/{meeting_id}/delegates/new", data)
        assert response.status_code == 302, response.get_data(as_text=True)
    page = fr.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Anne Holm" in page and "Bo Berg" in page and "Claire Roux" in page  # all invited states' participants
    assert "anne@dk.example" not in page  # other states' delegates' addresses stay with their state
    csv_text = sec.get(f"/meetings/{meeting_id}/registrations.csv").get_data(as_text=True)
    assert "Anne Holm" in csv_text and "claire@fr.example" in csv_text

    # Close registration: the SPOC is refused with a clear message.
    assert post_form(sec, f"/meetings/{meeting_id}/close-registration").status_code == 302
    response = post_form(dk, f"/meetings/{meeting_id}/delegates/new", {"name": "Late", "email": "late@dk.example",
                                                                      "attendance": "remote"}, follow_redirects=True)
    assert "Registration for this meeting is closed" in response.get_data(as_text=True)

    # Held (once it has started), then minutes: drafted along the agenda, circulated, commented, adopted.
    response = post_form(sec, f"/meetings/{meeting_id}/held", follow_redirects=True)
    assert "The meeting has not started yet." in response.get_data(as_text=True)
    shift_meeting(app, meeting_id, -33)  # started three days ago: an action may fall due since
    assert post_form(sec, f"/meetings/{meeting_id}/held").status_code == 302
    assert sec.get(f"/meetings/{meeting_id}/agenda/new").status_code == 409  # the agenda is frozen
    outline = sec.get(f"/meetings/{meeting_id}/minutes/edit").get_data(as_text=True)
    assert "## 1. Opening and adoption of the agenda" in outline and "## 2. Exchange of information" in outline
    assert dk.get(f"/meetings/{meeting_id}/minutes").status_code == 404  # nothing circulated yet
    body = "# Minutes\n\n## 1. Opening\n\nThe agenda was adopted.\n\n## 2. Exchange\n\nDenmark presented."
    assert post_form(sec, f"/meetings/{meeting_id}/minutes/edit", {"body": body}).status_code == 302
    assert post_form(sec, f"/meetings/{meeting_id}/minutes/circulate").status_code == 302
    deliver(app)
    [notice] = [m for m in mailbox.to("spoc@fr.example") if m["Subject"].startswith("Draft minutes for comment")]
    assert f"/meetings/{meeting_id}/minutes" in mailbox.text(notice)
    page = dk.get(f"/meetings/{meeting_id}/minutes").get_data(as_text=True)
    assert "Denmark presented." in page and "circulated for comment" in page
    response = post_form(dk, f"/meetings/{meeting_id}/minutes/comments", {"body": "Please add our statement."})
    assert response.status_code == 302
    assert "Please add our statement." in sec.get(f"/meetings/{meeting_id}/minutes").get_data(as_text=True)
    assert post_form(sec, f"/meetings/{meeting_id}/minutes/edit",
                     {"body": body + "\n\nDenmark's statement is annexed."}).status_code == 302
    assert "statement is annexed" not in dk.get(f"/meetings/{meeting_id}/minutes").get_data(as_text=True)
    assert post_form(sec, f"/meetings/{meeting_id}/minutes/adopt").status_code == 302
    page = dk.get(f"/meetings/{meeting_id}/minutes").get_data(as_text=True)
    assert "Adopted minutes (version 2)" in page and "statement is annexed" in page

    # Adopted minutes are locked: every change is refused with a message.
    response = post_form(sec, f"/meetings/{meeting_id}/minutes/edit", {"body": "rewritten"})
    assert response.status_code == 409 and "adopted and are locked" in response.get_data(as_text=True)
    assert post_form(sec, f"/meetings/{meeting_id}/minutes/circulate").status_code == 409
    assert post_form(dk, f"/meetings/{meeting_id}/minutes/comments", {"body": "late"}).status_code == 409
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        minutes = db.session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))
        assert meeting.status is MeetingStatus.MINUTES_ADOPTED and minutes.is_locked
        versions = list(db.session.scalars(select(MinutesVersion.status).where(MinutesVersion.minutes_id == minutes.id)
                                           .order_by(MinutesVersion.version)))
        assert [v.value for v in versions] == ["circulated", "adopted"]
        db.session.remove()

    # Actions and decisions: one overdue action for Denmark, one decision.
    yesterday = local(-2).date().isoformat()  # overdue whatever the clock's zone
    assert post_form(sec, f"/meetings/{meeting_id}/actions/new", {
        "kind": "action", "text": "Circulate the national licensing guidance.", "owner_state": "DK",
        "due_date": yesterday, "status": "open"}).status_code == 302
    assert post_form(sec, f"/meetings/{meeting_id}/actions/new", {
        "kind": "decision", "text": "The next plenary meets in Paris.", "owner_state": "",
        "status": "open"}).status_code == 302
    dk_tracker = dk.get("/meetings/actions").get_data(as_text=True)
    assert "Circulate the national licensing guidance." in dk_tracker and 'class="overdue"' in dk_tracker
    assert "Circulate the national licensing guidance." not in fr.get("/meetings/actions").get_data(as_text=True)
    sec_tracker = sec.get("/meetings/actions?overdue=1").get_data(as_text=True)
    assert "Circulate the national licensing guidance." in sec_tracker and "next plenary" not in sec_tracker
    with app.app_context():
        action_id = db.session.scalar(select(ActionItem.id).where(ActionItem.owner_state_code == "DK"))
        db.session.remove()
    assert post_form(sec, f"/meetings/actions/{action_id}/edit", {
        "kind": "action", "text": "Circulate the national licensing guidance.", "owner_state": "DK",
        "due_date": yesterday, "status": "done"}).status_code == 302
    assert 'class="overdue"' not in dk.get("/meetings/actions").get_data(as_text=True)

    # Every write was audited.
    actions = audit_actions(app, meeting_id)
    for expected in ("meeting.created", "meeting.agenda_item_added", "meeting.agenda_reordered", "meeting.announced",
                     "meeting.delegate_registered", "meeting.registrations_exported", "meeting.registration_closed",
                     "meeting.held", "meeting.minutes_saved", "meeting.minutes_circulated",
                     "meeting.minutes_commented", "meeting.minutes_adopted"):
        assert expected in actions, expected
    assert "meeting.action_updated" in audit_actions(app, action_id)


def test_each_meeting_downloads_as_ics(app: Flask, login_as: Any, people: Any) -> None:
    from tests.meetings.conftest import new_meeting

    meeting_id = new_meeting(app, people.sec, online_url="", venue="Palais des Nations, Geneva",
                             timezone="Europe/Zurich")
    response = login_as(app.test_client(), people.dk_reader).get(f"/meetings/{meeting_id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = Calendar.from_ical(response.data)
    [event] = calendar.events
    assert calendar["METHOD"] == "PUBLISH" and event["LOCATION"] == "Palais des Nations, Geneva"
    assert event["DTSTART"].params["TZID"] == "Europe/Zurich"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Zurich"]
