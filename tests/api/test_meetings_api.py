"""Meetings in the JSON API: read only, the meetings' own access rules, for people's tokens
and machine clients (scope meetings:read)."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Flask

from portal.extensions import db
from portal.meetings import agenda, registration
from portal.models import Meeting
from tests.meetings.conftest import new_meeting, people, user  # noqa: F401  (people is a fixture)
from tests.sharing.helpers import bearer

__all__ = ["people"]


def _meeting_with_agenda(app: Flask, people: Any, linked: Any = None, **overrides: Any) -> uuid.UUID:
    """A meeting inviting `overrides` (default all subscribing), with one agenda item, announced."""
    meeting_id = new_meeting(app, people.sec, announce=False, **overrides)
    with app.app_context():
        sec = user(people.sec)
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting is not None
        agenda.add_item(db.session, sec, meeting, {"title": "Opening of the plenary", "description": "Welcome.",
                                                   "lead_state": "DK", "items": str(linked or "")})
        from portal.meetings import service
        service.announce(db.session, sec, meeting)
        db.session.remove()
    return meeting_id


def _register(app: Flask, spoc: Any, meeting_id: uuid.UUID, name: str, email: str) -> None:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting is not None
        registration.add_delegate(db.session, user(spoc), meeting, {
            "name": name, "position": "Head of unit", "email": email, "attendance": "in_person", "is_head": True})
        db.session.remove()


def test_a_person_reads_meetings_agenda_and_participants(app: Flask, client: Any, people: Any, token_for: Any) -> None:
    meeting_id = _meeting_with_agenda(app, people)
    _register(app, people.dk, meeting_id, "Dana Dane", "dana@dk.example")
    _register(app, people.fr, meeting_id, "Francine Franc", "francine@fr.example")
    token = token_for(people.dk_officer)

    listing = client.get("/api/v1/meetings", headers=bearer(token))
    assert listing.status_code == 200
    body = listing.get_json()
    assert [m["id"] for m in body["meetings"]] == [str(meeting_id)]
    assert {"page", "per_page", "total", "pages", "total_is_lower_bound"} <= set(body) and body["total"] == 1

    detail = client.get(f"/api/v1/meetings/{meeting_id}", headers=bearer(token)).get_json()
    assert detail["title"] == "Fourth plenary of the Initiative"
    assert detail["agenda"]["version"] == 1
    assert [(i["position"], i["title"], i["lead_state"]) for i in detail["agenda"]["items"]] == [
        (1, "Opening of the plenary", "DK")]

    who = client.get(f"/api/v1/meetings/{meeting_id}/participants", headers=bearer(token)).get_json()
    assert {"DK", "FR", "DE"} <= {s["code"] for s in who["invited_states"]}
    delegates = {d["name"]: d for g in who["delegations"] for d in g["delegates"]}
    assert set(delegates) == {"Dana Dane", "Francine Franc"}
    # Contacts per access.can_see_delegate_contacts: one's own state's, not another's.
    assert delegates["Dana Dane"]["email"] == "dana@dk.example"
    assert delegates["Francine Franc"]["email"] is None


def test_a_state_not_invited_and_unknown_ids_get_404(app: Flask, client: Any, people: Any, token_for: Any) -> None:
    meeting_id = _meeting_with_agenda(app, people, invite_all_subscribing=False, states=["FR"])
    draft_id = new_meeting(app, people.sec, announce=False)
    dk, fr = token_for(people.dk), token_for(people.fr)
    for path in (f"/api/v1/meetings/{meeting_id}", f"/api/v1/meetings/{meeting_id}/participants",
                 f"/api/v1/meetings/{draft_id}", f"/api/v1/meetings/{uuid.uuid4()}",
                 f"/api/v1/meetings/{uuid.uuid4()}/participants"):
        response = client.get(path, headers=bearer(dk))
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/meetings", headers=bearer(dk)).get_json()["meetings"] == []
    assert client.get(f"/api/v1/meetings/{meeting_id}", headers=bearer(fr)).status_code == 200
    assert client.get(f"/api/v1/meetings/{draft_id}", headers=bearer(fr)).status_code == 404  # drafts: secretariat only
    admin = token_for(people.admin)
    assert client.get(f"/api/v1/meetings/{meeting_id}", headers=bearer(admin)).status_code == 404
    assert client.get(f"/api/v1/meetings/{draft_id}", headers=bearer(token_for(people.sec))).status_code == 200


def test_a_machine_client_needs_meetings_read(app: Flask, client: Any, people: Any, machine_token_for: Any,
                                              make_item: Any) -> None:
    red = make_item(people.fr, "denial", tlp="RED", audience={"countries": ["DK"], "all_subscribing": False,
                                                              "secretariat": True, "observers": False})
    meeting_id = _meeting_with_agenda(app, people, linked=red)
    _register(app, people.dk, meeting_id, "Dana Dane", "dana@dk.example")
    reader = machine_token_for(people.dk, "meetings:read denials:read")
    other = machine_token_for(people.dk, "denials:read")

    detail = client.get(f"/api/v1/meetings/{meeting_id}", headers=bearer(reader))
    assert detail.status_code == 200
    assert detail.get_json()["agenda"]["items"][0]["linked_items"] == []  # TLP:RED never reaches a machine
    who = client.get(f"/api/v1/meetings/{meeting_id}/participants", headers=bearer(reader)).get_json()
    assert [d["email"] for g in who["delegations"] for d in g["delegates"]] == ["dana@dk.example"]
    assert client.get("/api/v1/meetings", headers=bearer(reader)).get_json()["total"] == 1
    assert client.get(f"/api/v1/meetings/{uuid.uuid4()}", headers=bearer(reader)).status_code == 404

    for path in ("/api/v1/meetings", f"/api/v1/meetings/{meeting_id}", f"/api/v1/meetings/{meeting_id}/participants"):
        refused = client.get(path, headers=bearer(other))
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_scope", path


def test_a_machine_client_of_a_state_not_invited_gets_404(app: Flask, client: Any, people: Any,
                                                          machine_token_for: Any) -> None:
    meeting_id = _meeting_with_agenda(app, people, invite_all_subscribing=False, states=["FR"])
    dk = machine_token_for(people.dk, "meetings:read")
    fr = machine_token_for(people.fr, "meetings:read")
    assert client.get(f"/api/v1/meetings/{meeting_id}", headers=bearer(dk)).status_code == 404
    assert client.get(f"/api/v1/meetings/{meeting_id}/participants", headers=bearer(dk)).status_code == 404
    assert client.get("/api/v1/meetings", headers=bearer(dk)).get_json()["meetings"] == []
    assert client.get(f"/api/v1/meetings/{meeting_id}", headers=bearer(fr)).status_code == 200
