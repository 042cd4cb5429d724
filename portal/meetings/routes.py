"""Pages for meetings, their agendas and calendars. Thin: parse, call the service, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access, downloads
from portal.countries import service as countries
from portal.errors import Locked, NotFound, ValidationFailed
from portal.extensions import db
from portal.forms import ButtonForm, ReasonForm, apply_errors, choices
from portal.meetings import actions, agenda, calendar, minutes, records_routes, registration, service, times
from portal.meetings.blueprint import bp, detail_url, load_meeting, require_manager, run_action
from portal.meetings.forms import AgendaItemForm, MeetingForm
from portal.models.base import utcnow
from portal.models.country import CountryStatus
from portal.models.item import ItemKind
from portal.models.meeting import Meeting
from portal.sharing.markdown import render
from portal.urls import external_url

__all__ = ["bp", "records_routes"]  # records_routes adds the registration, minutes and action pages to bp


@bp.get("/meetings/")
def index() -> Any:
    when = "past" if request.args.get("when") == "past" else "upcoming"
    page = service.list_meetings(db.session, current_user, when, request.args)
    return render_template("meetings/index.html", page=page, when=when,
                           can_manage=access.can_manage_meetings(current_user))


def _meeting_form(meeting: Meeting | None = None) -> MeetingForm:
    form = MeetingForm() if request.method == "POST" or meeting is None else MeetingForm(data=_form_data(meeting))
    form.states.choices = choices((c.code, c.name) for c in countries.list_countries(db.session)
                                  if c.status is CountryStatus.SUBSCRIBING)
    return form


def _form_data(meeting: Meeting) -> dict[str, Any]:
    zone = meeting.timezone
    return {"kind": meeting.kind.value, "title": meeting.title, "description": meeting.description, "timezone": zone,
            "starts_at": times.local_naive(meeting.starts_at, zone),
            "ends_at": times.local_naive(meeting.ends_at, zone),
            "registration_deadline": times.local_naive(meeting.registration_deadline, zone), "venue": meeting.venue,
            "online_url": meeting.online_url or "", "invite_all_subscribing": meeting.invite_all_subscribing,
            "invite_observers": meeting.invite_observers, "states": meeting.named_states}


@bp.route("/meetings/new", methods=["GET", "POST"])
def new() -> Any:
    require_manager()
    form = _meeting_form()
    if form.validate_on_submit():
        try:
            meeting = service.create_meeting(db.session, current_user, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Meeting saved as a draft. Only the secretariat sees it until you announce it.", "success")
            return redirect(detail_url(meeting))
    return render_template("meetings/form.html", form=form, meeting=None)


@bp.route("/meetings/<uuid:meeting_id>/edit", methods=["GET", "POST"])
def edit(meeting_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    require_manager()
    if not access.can_edit_meeting(current_user, meeting):
        raise Locked("This meeting has been held or cancelled: its details no longer change.")
    form = _meeting_form(meeting)
    if form.validate_on_submit():
        try:
            changed = service.update_meeting(db.session, current_user, meeting, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Saved. The invited points of contact will receive the updated invitation."
                  if changed and meeting.is_announced else "Saved." if changed else "Nothing was changed.", "success")
            return redirect(detail_url(meeting))
    return render_template("meetings/form.html", form=form, meeting=meeting)


@bp.get("/meetings/<uuid:meeting_id>")
def detail(meeting_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    rows = agenda.rows_for(db.session, current_user, meeting)
    documents = {i.id: i for row in rows for i in row.links if i.kind is ItemKind.DOCUMENT}
    own = (registration.delegation(db.session, meeting, current_user.country_code)
           if access.can_register_delegation(current_user, meeting) else None)
    record = minutes.get_minutes(db.session, meeting)
    now = utcnow()
    return render_template(
        "meetings/detail.html", meeting=meeting, rows=rows, documents=list(documents.values()),
        invited=service.invited_countries(db.session, meeting), render=render,
        can_manage=access.can_manage_meetings(current_user), can_edit=access.can_edit_meeting(current_user, meeting),
        steps=access.offered_meeting_steps(current_user, meeting, now),
        without_contact=service.states_without_contact(db.session, meeting)
        if access.can_manage_meetings(current_user) and not meeting.is_announced else [],
        can_write_minutes=access.can_write_minutes(current_user, meeting, record),
        can_record_actions=access.can_record_actions(current_user, meeting),
        unpublished=access.can_edit_meeting(current_user, meeting) and meeting.is_announced
        and agenda.has_unpublished_changes(db.session, meeting),
        agenda_versions=agenda.published_versions(db.session, current_user, meeting), own_delegation=own,
        registration_open=access.registration_is_open(meeting, now),
        closed_message=registration.closed_message(meeting),
        participants=registration.participants(db.session, meeting), minutes=record,
        minutes_version=minutes.readable_version(db.session, current_user, record),
        actions=actions.meeting_actions(db.session, meeting), today=utcnow().date(),
        button=ButtonForm(), country_names={c.code: c.name for c in countries.list_countries(db.session)})


def _button(meeting_id: uuid.UUID) -> Meeting:
    meeting = load_meeting(meeting_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    return meeting


@bp.post("/meetings/<uuid:meeting_id>/announce")
def announce(meeting_id: uuid.UUID) -> Any:
    meeting = _button(meeting_id)
    fallback = request.form.getlist("fallback")
    return run_action(meeting, lambda: service.announce(db.session, current_user, meeting, fallback),
                      lambda n: f"Announced. {n} point(s) of contact will receive the invitation by e-mail.")


@bp.post("/meetings/<uuid:meeting_id>/close-registration")
def close_registration(meeting_id: uuid.UUID) -> Any:
    meeting = _button(meeting_id)
    return run_action(meeting, lambda: service.close_registration(db.session, current_user, meeting),
                      "Registration is closed.")


@bp.post("/meetings/<uuid:meeting_id>/reopen-registration")
def reopen_registration(meeting_id: uuid.UUID) -> Any:
    meeting = _button(meeting_id)
    return run_action(meeting, lambda: service.reopen_registration(db.session, current_user, meeting),
                      "Registration is open again until the deadline.")


@bp.post("/meetings/<uuid:meeting_id>/held")
def mark_held(meeting_id: uuid.UUID) -> Any:
    meeting = _button(meeting_id)
    return run_action(meeting, lambda: service.mark_held(db.session, current_user, meeting),
                      "Recorded as held. You can now write the minutes.")


@bp.route("/meetings/<uuid:meeting_id>/cancel", methods=["GET", "POST"])
def cancel(meeting_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    require_manager()
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            service.cancel(db.session, current_user, meeting, form.reason.data or "")
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("The meeting is cancelled.", "success")
            return redirect(detail_url(meeting))
    return render_template("meetings/cancel.html", meeting=meeting, form=form)


@bp.get("/meetings/<uuid:meeting_id>.ics")
def ics(meeting_id: uuid.UUID) -> Any:
    meeting = load_meeting(meeting_id)
    return downloads.download(calendar.meeting_ics(meeting), "text/calendar", calendar.ics_filename(meeting))


# --- agenda ---------------------------------------------------------------------------

def _agenda_form(data: dict[str, Any] | None = None) -> AgendaItemForm:
    form = AgendaItemForm(data=data) if data is not None and request.method != "POST" else AgendaItemForm()
    form.lead_state.choices = choices([("", "None")] + [(c.code, c.name) for c in countries.list_countries(db.session)])
    return form


def _agenda_page(meeting: Meeting, agenda_item_id: uuid.UUID | None) -> Any:
    require_manager()
    if not access.can_edit_meeting(current_user, meeting):
        raise Locked("The agenda is frozen once the meeting has been held or cancelled.")
    current = None if agenda_item_id is None else agenda.get_item(db.session, meeting, agenda_item_id)
    form = _agenda_form(None if current is None else {
        "title": current.title, "description": current.description, "lead_state": current.lead_state_code or "",
        "starts_at": times.local_naive(current.starts_at, meeting.timezone),
        "ends_at": times.local_naive(current.ends_at, meeting.timezone),
        "items": "\n".join(str(i) for i in current.linked_item_ids)})
    if form.validate_on_submit():
        try:
            if current is None:
                agenda.add_item(db.session, current_user, meeting, form.payload())
            else:
                agenda.update_item(db.session, current_user, meeting, current, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Agenda item saved." + (" Publish the agenda when the invited states should see it."
                                          if meeting.is_announced else ""), "success")
            return redirect(detail_url(meeting, "agenda"))
    return render_template("meetings/agenda_form.html", meeting=meeting, form=form, agenda_item=current)


@bp.route("/meetings/<uuid:meeting_id>/agenda/new", methods=["GET", "POST"])
def agenda_new(meeting_id: uuid.UUID) -> Any:
    return _agenda_page(load_meeting(meeting_id), None)


@bp.route("/meetings/<uuid:meeting_id>/agenda/<uuid:agenda_item_id>/edit", methods=["GET", "POST"])
def agenda_edit(meeting_id: uuid.UUID, agenda_item_id: uuid.UUID) -> Any:
    return _agenda_page(load_meeting(meeting_id), agenda_item_id)


@bp.post("/meetings/<uuid:meeting_id>/agenda/<uuid:agenda_item_id>/move/<direction>")
def agenda_move(meeting_id: uuid.UUID, agenda_item_id: uuid.UUID, direction: str) -> Any:
    meeting = _button(meeting_id)
    row = agenda.get_item(db.session, meeting, agenda_item_id)
    return run_action(meeting, lambda: agenda.move_item(db.session, current_user, meeting, row, direction),
                      "Agenda reordered.", "agenda")


@bp.post("/meetings/<uuid:meeting_id>/agenda/<uuid:agenda_item_id>/delete")
def agenda_delete(meeting_id: uuid.UUID, agenda_item_id: uuid.UUID) -> Any:
    meeting = _button(meeting_id)
    row = agenda.get_item(db.session, meeting, agenda_item_id)
    return run_action(meeting, lambda: agenda.delete_item(db.session, current_user, meeting, row),
                      "Agenda item removed.", "agenda")


@bp.post("/meetings/<uuid:meeting_id>/agenda/publish")
def agenda_publish(meeting_id: uuid.UUID) -> Any:
    meeting = _button(meeting_id)
    return run_action(meeting, lambda: agenda.publish(db.session, current_user, meeting),
                      lambda v: f"Agenda version {v.version} is published to the invited states.", "agenda")


@bp.get("/meetings/<uuid:meeting_id>/agenda/versions/<int:number>")
def agenda_version(meeting_id: uuid.UUID, number: int) -> Any:
    meeting = load_meeting(meeting_id)
    version = agenda.get_version(db.session, current_user, meeting, number)
    return render_template("meetings/agenda_version.html", meeting=meeting, version=version, render=render,
                           rows=agenda.rows_for(db.session, current_user, meeting, version),
                           country_names={c.code: c.name for c in countries.list_countries(db.session)})


# --- calendar feed --------------------------------------------------------------------

@bp.route("/meetings/calendar", methods=["GET", "POST"])
def calendar_settings() -> Any:
    if not access.can_use_calendar_feed(current_user):
        raise NotFound()
    form = ButtonForm()
    new_url = None
    if form.validate_on_submit():
        if request.form.get("action") == "revoke":
            revoked = calendar.revoke_feed_token(db.session, current_user)
            flash("Your calendar address no longer works." if revoked else "You had no calendar address.", "success")
            return redirect(url_for("meetings.calendar_settings"))
        token = calendar.create_feed_token(db.session, current_user)
        new_url = external_url("meetings.calendar_feed", token=token)
    return render_template("meetings/calendar.html", form=form, new_url=new_url,
                           active=calendar.active_token(db.session, current_user))


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str) -> Any:
    """Public by design (calendar clients do not sign in): the private token authenticates."""
    user = calendar.user_for_feed_token(db.session, token)
    if user is None:
        abort(404)
    # Calendar clients read the body whatever the disposition; browsers download it.
    return downloads.download(calendar.feed_ics(db.session, user), "text/calendar", "echri-meetings.ics",
                              {"X-Robots-Tag": "noindex"})
