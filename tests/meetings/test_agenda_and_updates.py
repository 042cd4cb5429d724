"""Agenda links and versions; updated and cancelled invitations; the outbox's send-time check."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.meetings import agenda, service
from portal.errors import Locked
from portal.models import AgendaItem, ItemKind, Meeting
from tests.conftest import post_form
from tests.meetings.conftest import calendars, deliver, form, local, new_meeting, payload, shift_meeting, user


def _document(app: Flask, secretariat: Any, title: str, countries: list[str],
              all_subscribing: bool = False) -> uuid.UUID:
    from portal.sharing import service as sharing

    with app.app_context():
        item = sharing.create_draft(db.session, user(secretariat), ItemKind.DOCUMENT, {
            "title": title, "summary": "Summary.", "body": "Body.", "tlp": "AMBER", "category": "licensing_practice",
            "audience": {"all_subscribing": all_subscribing, "countries": countries, "secretariat": True,
                         "observers": False}})
        sharing.publish(db.session, user(secretariat), item)
        item_id = item.id
        db.session.remove()
    return item_id


def test_links_are_shown_only_to_those_who_may_open_them(app: Flask, people: Any, login_as: Any) -> None:
    for_dk = _document(app, people.sec, "Danish licensing casebook", ["DK"])
    for_all = _document(app, people.sec, "Common due-diligence guide", [], all_subscribing=True)
    meeting_id = new_meeting(app, people.sec, announce=False)
    sec = login_as(app.test_client(), people.sec)
    response = post_form(sec, f"/meetings/{meeting_id}/agenda/new", {
        "title": "Licensing practice", "items": f"{for_dk}\nhttps://portal.example/documents/{for_all}"})
    assert response.status_code == 302
    # An id the secretariat cannot see is refused, naming it.
    hidden = uuid.uuid4()
    page = post_form(sec, f"/meetings/{meeting_id}/agenda/new", {"title": "Other", "items": str(hidden)}) \
        .get_data(as_text=True)
    assert f"Not found among the published items shared with the secretariat: {hidden}" in page
    post_form(sec, f"/meetings/{meeting_id}/announce")
    dk = login_as(app.test_client(), people.dk).get(f"/meetings/{meeting_id}").get_data(as_text=True)
    fr = login_as(app.test_client(), people.fr).get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Danish licensing casebook" in dk and "Common due-diligence guide" in dk
    assert "Danish licensing casebook" not in fr and str(for_dk) not in fr and "Common due-diligence guide" in fr


def test_published_agenda_versions_are_kept(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec, announce=False)
    sec, dk = login_as(app.test_client(), people.sec), login_as(app.test_client(), people.dk)
    post_form(sec, f"/meetings/{meeting_id}/agenda/new", {"title": "Opening"})
    post_form(sec, f"/meetings/{meeting_id}/announce")
    with app.app_context():
        item_id = db.session.scalar(select(AgendaItem.id))
        db.session.remove()
    post_form(sec, f"/meetings/{meeting_id}/agenda/{item_id}/edit", {"title": "Opening and welcome"})
    post_form(sec, f"/meetings/{meeting_id}/agenda/new", {"title": "Any other business"})
    assert "changes the invited states do not see yet" in sec.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    page = dk.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Opening" in page and "Opening and welcome" not in page and "Any other business" not in page
    assert post_form(sec, f"/meetings/{meeting_id}/agenda/publish").status_code == 302
    page = dk.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Opening and welcome" in page and "Any other business" in page
    old = dk.get(f"/meetings/{meeting_id}/agenda/versions/1").get_data(as_text=True)
    assert "Opening" in old and "Any other business" not in old
    assert dk.get(f"/meetings/{meeting_id}/agenda/versions/3").status_code == 404
    # Once held, the agenda is frozen.
    shift_meeting(app, meeting_id, -31)
    post_form(sec, f"/meetings/{meeting_id}/held")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        try:
            agenda.add_item(db.session, user(people.sec), meeting, {"title": "Late"})
        except Locked as error:
            assert "frozen" in error.message
        else:
            raise AssertionError("a held meeting's agenda changed")
        db.session.remove()
    assert post_form(sec, f"/meetings/{meeting_id}/agenda/{item_id}/delete").status_code == 409


def test_updates_and_cancellation_reach_the_invited_spocs(app: Flask, people: Any, login_as: Any, mailbox: Any) -> None:
    meeting_id = new_meeting(app, people.sec)
    deliver(app)
    mailbox.clear()
    sec = login_as(app.test_client(), people.sec)
    moved = payload(venue="Bella Center, Copenhagen", starts_at=local(32, 9), ends_at=local(33, 17))
    assert post_form(sec, f"/meetings/{meeting_id}/edit", form(moved)).status_code == 302
    assert deliver(app) == 3
    [update] = mailbox.to("spoc@fr.example")
    assert update["Subject"] == "Updated: Fourth plenary of the Initiative"
    [event] = calendars(update)[0].events
    assert event["SEQUENCE"] == 1 and event["LOCATION"] == "Bella Center, Copenhagen"
    assert event.start.replace(tzinfo=None) == local(32, 9)
    # Saving without a change sends nothing.
    assert post_form(sec, f"/meetings/{meeting_id}/edit", form(moved)).status_code == 302
    assert deliver(app) == 0
    mailbox.clear()
    assert post_form(sec, f"/meetings/{meeting_id}/cancel", {"reason": "The host withdrew."}).status_code == 302
    assert deliver(app) == 3
    [cancellation] = mailbox.to("spoc@de.example")
    assert cancellation["Subject"] == "Cancelled: Fourth plenary of the Initiative"
    assert "The host withdrew." in mailbox.text(cancellation)
    [ics] = calendars(cancellation)
    assert ics["METHOD"] == "CANCEL"
    [event] = ics.events
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 2
    assert str(event["UID"]) == f"meeting-{meeting_id}@echri-portal"
    page = login_as(app.test_client(), people.dk).get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Cancelled" in page and "The host withdrew." in page
    assert sec.get(f"/meetings/{meeting_id}/edit").status_code == 409


def test_mail_is_checked_again_when_sent(app: Flask, people: Any, mailbox: Any) -> None:
    """An invitation queued for a state that is no longer invited when the worker runs is not sent."""
    meeting_id = new_meeting(app, people.sec)  # queues invitations for DK, FR and DE
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        service.update_meeting(db.session, user(people.sec), meeting,
                               payload(invite_all_subscribing=False, states=["FR"]))
        db.session.remove()
    deliver(app)
    assert {m["To"] for m in mailbox.messages} == {"spoc@fr.example"}
    assert sorted(m["Subject"] for m in mailbox.to("spoc@fr.example")) == [
        "Invitation: Fourth plenary of the Initiative", "Updated: Fourth plenary of the Initiative"]
