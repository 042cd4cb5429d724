"""Meetings in the JSON API (/api/v1/meetings): read only, for a ministry's calendar or travel
system. The same services and access rules as the pages (access.meetings_filter and friends);
machine clients need `meetings:read` (access.required_scope)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from portal import access
from portal.extensions import csrf, db
from portal.meetings import agenda, registration, service
from portal.models.meeting import Meeting
from portal.models.user import User

bp = Blueprint("meetings_api", __name__, url_prefix="/api/v1/meetings")
csrf.exempt(bp)  # bearer tokens only (portal.guard): no cookie reaches the API


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def meeting_record(meeting: Meeting) -> dict[str, Any]:
    """A meeting as the API shows it (its field names are a contract)."""
    return {
        "id": str(meeting.id), "kind": meeting.kind.value, "status": meeting.status.value, "title": meeting.title,
        "description": meeting.description, "timezone": meeting.timezone,
        "starts_at": _iso(meeting.starts_at), "ends_at": _iso(meeting.ends_at),
        "registration_deadline": _iso(meeting.registration_deadline),
        "venue": meeting.venue, "online_url": meeting.online_url,
        "invitation": {"all_subscribing": meeting.invite_all_subscribing, "observers": meeting.invite_observers,
                       "states": meeting.named_states},
        "announced_at": _iso(meeting.announced_at), "cancelled_at": _iso(meeting.cancelled_at),
    }


def _agenda(meeting: Meeting, viewer: User) -> dict[str, Any]:
    """The agenda the viewer reads: the last published version (the secretariat: its working agenda)."""
    latest = agenda.latest_version(db.session, meeting)
    working = access.can_manage_meetings(viewer)
    rows = agenda.rows_for(db.session, viewer, meeting)
    return {
        "version": None if working or latest is None else latest.version,
        "published_at": None if working or latest is None else _iso(latest.published_at),
        "items": [{"position": r.position, "title": r.title, "description": r.description,
                   "lead_state": r.lead_state, "starts_at": _iso(r.starts_at), "ends_at": _iso(r.ends_at),
                   # only the linked items the viewer may open (rows_for filters them)
                   "linked_items": [{"id": str(i.id), "kind": i.kind.value, "title": i.title} for i in r.links]}
                  for r in rows],
    }


@bp.get("")
def list_meetings() -> Any:
    when = "past" if request.args.get("when") == "past" else "upcoming"
    page = service.list_meetings(db.session, current_user, when, request.args)
    return jsonify(meetings=[meeting_record(m) for m in page.items], page=page.number, per_page=page.size,
                   total=page.total, total_is_lower_bound=page.more, pages=page.pages)


@bp.get("/<uuid:meeting_id>")
def get_meeting(meeting_id: uuid.UUID) -> Any:
    meeting = service.get_visible_meeting(db.session, current_user, meeting_id)
    return jsonify({**meeting_record(meeting), "agenda": _agenda(meeting, current_user)})


@bp.get("/<uuid:meeting_id>/participants")
def participants(meeting_id: uuid.UUID) -> Any:
    """The invited states and the delegations registered so far; e-mail addresses only where
    access.can_see_delegate_contacts allows (the secretariat, the delegate's own state)."""
    meeting = service.get_visible_meeting(db.session, current_user, meeting_id)
    return jsonify(
        meeting_id=str(meeting.id),
        invited_states=[{"code": c.code, "name": c.name} for c in service.invited_countries(db.session, meeting)],
        delegations=[{
            "state": group.country.code, "state_name": group.country.name,
            "delegates": [{"name": d.name, "position": d.position, "attendance": d.attendance.value,
                           "is_head": d.is_head,
                           "email": d.email if access.can_see_delegate_contacts(current_user, d.country_code) else None}
                          for d in group.delegates],
        } for group in registration.participants(db.session, meeting)],
    )
