"""The bell carries what a person must act on or know: meeting invitations, minutes out for
comment, minutes adopted, a draft waiting for the SPOC's release, and the item events. Entries
are links (a new tab works: nothing needs a POST), show kind and marking, and are read once
their page is opened. Both databases."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask

from portal.extensions import db
from portal.meetings import minutes, service
from portal.models import Meeting
from tests.meetings.conftest import new_meeting, shift_meeting, user
from tests.meetings.test_minutes import _circulate
from tests.sharing import helpers


def _entries(client: Any) -> list[tuple[str, str, str]]:
    """(kind and marking, href, title) of each bell entry."""
    page = client.get("/notifications/").get_data(as_text=True)
    return [(" ".join(re.sub(r"<[^>]+>", " ", tags).split()), href, title) for tags, href, title in
            re.findall(r'<li class="[^"]*">\s*(.*?)\s*<a href="([^"]+)">([^<]+)</a>', page, re.S)]


def _unread(client: Any) -> int:
    page = client.get("/account/").get_data(as_text=True)
    found = re.search(r'class="count">(\d+)<', page)
    return int(found.group(1)) if found else 0


def test_meeting_invitation_and_minutes_are_in_the_bell(app: Flask, people: Any, login_as: Any) -> None:
    meeting_id = new_meeting(app, people.sec, title="Fifth plenary")
    dk = login_as(app.test_client(), people.dk)
    assert ("Meeting", f"/meetings/{meeting_id}", "Meeting invitation: Fifth plenary") in _entries(dk)
    assert _unread(dk) == 1
    dk.get(f"/meetings/{meeting_id}")  # arriving reads it
    assert _unread(dk) == 0

    shift_meeting(app, meeting_id, -31)
    with app.app_context():
        service.mark_held(db.session, user(people.sec), db.session.get(Meeting, meeting_id))
        db.session.remove()
    _circulate(app, people, meeting_id)
    assert ("Meeting", f"/meetings/{meeting_id}/minutes", "Minutes out for comment: Fifth plenary") in _entries(dk)
    with app.app_context():
        minutes.adopt(db.session, user(people.sec), db.session.get(Meeting, meeting_id))
        db.session.remove()
    titles = [t for _, _, t in _entries(dk)]
    assert "Minutes adopted: Fifth plenary" in titles
    assert _unread(dk) == 2
    dk.get(f"/meetings/{meeting_id}/minutes")
    assert _unread(dk) == 0
    # Only the invited states' points of contact: the reader of Denmark has none of these.
    assert _entries(login_as(app.test_client(), people.dk_reader)) == []


def test_a_submitted_draft_is_in_its_spocs_bell(app: Flask, people: Any, login_as: Any) -> None:
    item_id = helpers.make_item(app, people.dk_officer, "denial", "submitted", tlp="AMBER")
    slug = f"/denials/{item_id}"
    spoc = login_as(app.test_client(), people.dk)
    from portal.kinds import KINDS
    from portal.models import ItemKind
    entries = _entries(spoc)
    assert [(k, h) for k, h, t in entries if t.startswith("Draft submitted for your release")] == [
        (f"{KINDS[ItemKind.DENIAL].label} TLP:AMBER", slug)]
    # Nobody else's bell: not the officer who submitted, not another state's SPOC.
    assert _entries(login_as(app.test_client(), people.dk_officer)) == []
    assert _entries(login_as(app.test_client(), people.fr)) == []
    assert _unread(spoc) == 1
    spoc.get(slug)
    assert _unread(spoc) == 0
