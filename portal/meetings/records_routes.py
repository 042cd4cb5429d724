"""Pages for delegations, minutes and the action tracker (registered on the meetings blueprint)."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access, downloads
from portal.countries import service as countries
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.extensions import db
from portal.forms import ButtonForm, apply_errors, choices
from portal.meetings import actions, minutes, registration
from portal.meetings.blueprint import bp, detail_url, load_meeting, require_manager, run_action
from portal.meetings.forms import ActionItemForm, CommentForm, DelegateForm, MinutesForm
from portal.models.base import utcnow
from portal.models.meeting import ActionStatus, Meeting
from portal.sharing.markdown import render

# --- delegations ----------------------------------------------------------------------

def _registration_allowed(meeting: Meeting) -> Any:
    """None when the SPOC may change its delegation now; otherwise the answer to give."""
    if not access.can_register_delegation(current_user, meeting):
        raise Forbidden("Only a point of contact of an invited state registers its delegation.")
    if not access.registration_is_open(meeting, utcnow()):
        flash(registration.closed_message(meeting), "error")
        return redirect(detail_url(meeting, "registration"))
    return None


def _delegate_page(meeting: Meeting, delegate_id: uuid.UUID | None) -> Any:
    refusal = _registration_allowed(meeting)
    if refusal is not None:
        return refusal
    current = None if delegate_id is None else registration.get_delegate(db.session, current_user, meeting, delegate_id)
    if current is not None and request.method != "POST":
        form = DelegateForm(data={"name": current.name, "position": current.position, "email": current.email,
                                  "attendance": current.attendance.value, "is_head": current.is_head})
    else:
        form = DelegateForm()
    if request.method != "POST" and current is None:
        form.attendance.data = "in_person" if meeting.venue else "remote"
    if form.validate_on_submit():
        try:
            if current is None:
                delegate = registration.add_delegate(db.session, current_user, meeting, form.payload())
            else:
                registration.update_delegate(db.session, current_user, meeting, current, form.payload())
                delegate = current
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash(f"{delegate.name} is registered.", "success")
            return redirect(detail_url(meeting, "registration"))
    # Only the ways of attending this meeting offers (no "Remote" for an in-person meeting).
    form.attendance.choices = [(a.value, a.label) for a in access.offered_attendance(meeting)]
    return render_template("meetings/delegate_form.html", meeting=meeting, form=form, delegate=current)


@bp.route("/meetings/<uuid:meeting_id>/delegates/new", methods=["GET", "POST"])
def delegate_new(meeting_id: uuid.UUID) -> Any:
    return _delegate_page(load_meeting(meeting_id), None)


@bp.route("/meetings/<uuid:meeting_id>/delegates/<uuid:delegate_id>/edit", methods=["GET", "POST"])
def delegate_edit(meeting_id: uuid.UUID, delegate_id: uuid.UUID) -> Any:
    return _delegate_page(load_meeting(meeting_id), delegate_id)


@bp.post("/meetings/<uuid:meeting_id>/delegates/<uuid:delegate_id>/remove")
def delegate_remove(meeting_id: uuid.UUID, delegate_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    delegate = registration.get_delegate(db.session, current_user, meeting, delegate_id)
    name = delegate.name
    return run_action(meeting, lambda: registration.remove_delegate(db.session, current_user, meeting, delegate),
                      f"{name} is no longer registered.", "registration")


@bp.get("/meetings/<uuid:meeting_id>/registrations.csv")
def registrations_csv(meeting_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    require_manager()
    body = registration.export_csv(db.session, current_user, meeting)
    filename = f"echri-registrations-{meeting.starts_at:%Y-%m-%d}.csv"
    return downloads.download("\ufeff" + body, "text/csv", filename)  # the BOM lets spreadsheet programs read UTF-8


# --- minutes --------------------------------------------------------------------------

@bp.get("/meetings/<uuid:meeting_id>/minutes")
def minutes_page(meeting_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    record = minutes.get_minutes(db.session, meeting)
    can_manage = access.can_manage_meetings(current_user)
    readable = minutes.readable_version(db.session, current_user, record)
    if not can_manage and readable is None:
        raise NotFound()  # nothing circulated yet: there are no minutes to read
    return render_template(
        "meetings/minutes.html", meeting=meeting, minutes=record, readable=readable, can_manage=can_manage,
        working_html=render(record.body) if record and can_manage else None,
        readable_html=render(readable.body) if readable else None,
        uncirculated=bool(record and can_manage and minutes.has_uncirculated_changes(db.session, record)),
        versions=minutes.circulated_versions(db.session, record) if record else [],
        comments=minutes.comments(db.session, current_user, record),
        can_comment=bool(record and access.can_comment_minutes(current_user, meeting, record)),
        can_write=access.can_write_minutes(current_user, meeting, record),
        can_adopt=access.can_adopt_minutes(current_user, meeting, record),
        comment_form=CommentForm(), button=ButtonForm())


@bp.route("/meetings/<uuid:meeting_id>/minutes/edit", methods=["GET", "POST"])
def minutes_edit(meeting_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    require_manager()
    record = minutes.get_minutes(db.session, meeting)
    if not access.can_write_minutes(current_user, meeting, record):
        minutes.check_writable(current_user, meeting, record)  # says why: adopted (409) or not held yet
    form = MinutesForm(data=None if request.method == "POST" else {
        "body": record.body if record else minutes.outline(db.session, current_user, meeting)})
    if form.validate_on_submit():
        try:
            minutes.save_draft(db.session, current_user, meeting, form.body.data or "")
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Minutes saved. Circulate them when the invited states should comment.", "success")
            return redirect(url_for("meetings.minutes_page", meeting_id=meeting.id))
    return render_template("meetings/minutes_form.html", meeting=meeting, form=form)


def _minutes_action(meeting_id: uuid.UUID, operation: Any, done: str) -> Any:
    meeting = load_meeting(meeting_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        version = operation(meeting)
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        flash(done.format(version=version.version), "success")
    return redirect(url_for("meetings.minutes_page", meeting_id=meeting.id))


@bp.post("/meetings/<uuid:meeting_id>/minutes/circulate")
def minutes_circulate(meeting_id: uuid.UUID) -> Any:
    return _minutes_action(meeting_id, lambda m: minutes.circulate(db.session, current_user, m),
                           "Version {version} is circulated to the invited states for comment.")


@bp.post("/meetings/<uuid:meeting_id>/minutes/adopt")
def minutes_adopt(meeting_id: uuid.UUID) -> Any:
    return _minutes_action(meeting_id, lambda m: minutes.adopt(db.session, current_user, m),
                           "The minutes are adopted (version {version}) and locked.")


@bp.post("/meetings/<uuid:meeting_id>/minutes/comments")
def minutes_comment(meeting_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    form = CommentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        minutes.add_comment(db.session, current_user, meeting, form.body.data or "")
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        flash("Your comment is sent to the secretariat.", "success")
    return redirect(url_for("meetings.minutes_page", meeting_id=meeting.id, _anchor="comments"))


@bp.get("/meetings/<uuid:meeting_id>/minutes/versions/<int:number>")
def minutes_version(meeting_id: uuid.UUID, number: int) -> Any:
    meeting = load_meeting(meeting_id)
    record = minutes.get_minutes(db.session, meeting)
    if record is None or not access.can_view_minutes(current_user, record):
        raise NotFound()
    version = minutes.get_version(db.session, record, number)
    return render_template("meetings/minutes_version.html", meeting=meeting, version=version,
                           body_html=render(version.body))


# --- actions and decisions ------------------------------------------------------------

def _action_form(meeting: Meeting, data: dict[str, Any] | None = None) -> ActionItemForm:
    form = ActionItemForm(data=data) if data is not None and request.method != "POST" else ActionItemForm()
    # Say up front when an action may fall due (access.action_due_refusal refuses earlier dates).
    first_day = meeting.starts_at.date()
    form.due_date.render_kw = {"min": first_day.isoformat()}
    first_day_text = first_day.strftime('%d %B %Y').lstrip('0')
    form.due_date.description = f"Actions only: on or after {first_day_text}, the meeting's first day."
    form.owner_state.choices = choices([("", "The secretariat")] + [(c.code, c.name)
                                                                   for c in countries.list_countries(db.session)])
    return form


@bp.route("/meetings/<uuid:meeting_id>/actions/new", methods=["GET", "POST"])
def action_new(meeting_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    require_manager()
    form = _action_form(meeting)
    if form.validate_on_submit():
        try:
            action = actions.add_action(db.session, current_user, meeting, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash(f"{action.kind.value.capitalize()} recorded.", "success")
            return redirect(detail_url(meeting, "actions"))
    return render_template("meetings/action_form.html", meeting=meeting, form=form, action=None)


@bp.route("/meetings/actions/<uuid:action_id>/edit", methods=["GET", "POST"])
def action_edit(action_id: uuid.UUID) -> Any:
    action = actions.get_action(db.session, current_user, action_id)
    require_manager()
    form = _action_form(action.meeting, {"kind": action.kind.value, "text": action.text,
                                         "owner_state": action.owner_state_code or "",
                                         "due_date": action.due_date, "status": action.status.value})
    if form.validate_on_submit():
        try:
            actions.update_action(db.session, current_user, action, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Saved.", "success")
            return redirect(url_for("meetings.tracker") if request.args.get("back") == "tracker"
                            else detail_url(action.meeting, "actions"))
    return render_template("meetings/action_form.html", meeting=action.meeting, form=form, action=action)


@bp.get("/meetings/actions")
def tracker() -> Any:
    page = actions.tracker(db.session, current_user, request.args)
    filters = {name: request.args.get(name, "") for name in actions.TRACKER_FILTERS}
    return render_template("meetings/tracker.html", page=page, filters=filters, today=utcnow().date(),
                           can_manage=access.can_manage_meetings(current_user), statuses=list(ActionStatus),
                           countries=countries.list_countries(db.session))
