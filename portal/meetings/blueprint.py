"""The meetings blueprint and what its route modules share: loading, refusals, time filters."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import access
from portal.errors import Forbidden, ValidationFailed
from portal.extensions import db
from portal.meetings import service, times
from portal.models.meeting import Meeting

bp = Blueprint("meetings", __name__)

PUBLIC_VIEWS = frozenset({"meetings.calendar_feed"})


@bp.before_request
def no_meetings_for_administrators() -> None:
    """Administrators run the service; meetings do not exist for them (404, like any hidden object)."""
    if request.endpoint in PUBLIC_VIEWS:
        return
    if access.is_admin(current_user):
        abort(404)


@bp.app_template_filter("meeting_time")
def meeting_time(moment: datetime | None, meeting: Meeting) -> str:
    return times.format_moment(moment, meeting.timezone)


@bp.app_template_filter("meeting_span")
def meeting_span(meeting: Meeting) -> str:
    return times.format_span(meeting.starts_at, meeting.ends_at, meeting.timezone)


@bp.app_template_filter("meeting_slot")
def meeting_slot(row: Any, meeting: Meeting) -> str:
    return times.format_slot(row.starts_at, row.ends_at, meeting.timezone,
                             times.to_local(meeting.starts_at, meeting.timezone).date())


@bp.app_context_processor
def meetings_helpers() -> dict[str, Any]:
    def upcoming_meetings(limit: int = 3) -> list[Meeting]:
        if not current_user.is_authenticated or access.is_admin(current_user):
            return []
        return service.upcoming(db.session, current_user, limit)

    return {"upcoming_meetings": upcoming_meetings}


def load_meeting(meeting_id: uuid.UUID) -> Meeting:
    return service.get_visible_meeting(db.session, current_user, meeting_id)


def require_manager() -> None:
    if not access.can_manage_meetings(current_user):
        raise Forbidden("Only the secretariat organises meetings.")


def detail_url(meeting: Meeting, anchor: str | None = None) -> str:
    return url_for("meetings.detail", meeting_id=meeting.id, _anchor=anchor)


def run_action(meeting: Meeting, operation: Callable[[], Any], done: str | Callable[[Any], str],
               anchor: str | None = None) -> Response | Any:
    """Run a button's operation and come back to the meeting page with the outcome (a refusal
    of its input is shown there too; every other refusal is answered by the app's handler)."""
    try:
        result = operation()
    except ValidationFailed as error:
        flash(" ".join(error.fields.values()) or error.message, "error")
    else:
        flash(done(result) if callable(done) else done, "success")
    return redirect(detail_url(meeting, anchor))
