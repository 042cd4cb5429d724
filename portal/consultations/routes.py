"""Pages for consultations between two states about a denial. Thin: parse, call, render."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access
from portal.attachments import service as attachments
from portal.attachments import web
from portal.consultations import service
from portal.consultations.forms import AnswerForm, CloseForm, MessageForm, OpenForm
from portal.countries import service as countries
from portal.errors import NotFound, ValidationFailed
from portal.extensions import csrf, db
from portal.forms import PortalForm, apply_errors
from portal.models.base import utcnow
from portal.models.consultation import Consultation
from portal.kinds import labels_for

bp = Blueprint("consultations", __name__, url_prefix="/consultations")


def _uuid(raw: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound() from None


@bp.get("/")
def index() -> Any:
    page = service.list_for(db.session, current_user, request.args)
    return render_template("consultations/index.html", page=page, today=utcnow().date())


def _prefill(denial: Any) -> dict[str, Any]:
    d = denial.details
    parties = d.get("parties", [])
    by_role = {p.get("role"): p.get("name", "") for p in parties}
    return {"denial_id": str(denial.id), "item_description": d.get("item_description", ""),
            "control_entries": "\n".join(f"{e['regime']} {e['code']}" for e in d.get("control_entries", [])),
            "destination": d.get("destination", ""), "end_use": d.get("end_use", ""),
            "end_user": by_role.get("end_user", ""), "consignee": by_role.get("consignee", "")}


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    denial_id = _uuid(request.args.get("denial_id") or request.form.get("denial_id"))
    denial = service.denial_for_opening(db.session, current_user, denial_id)
    form = OpenForm(data=_prefill(denial)) if request.method == "GET" else OpenForm()
    if form.validate_on_submit():
        try:
            consultation = service.open_consultation(db.session, current_user, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash(f"Consultation opened. {consultation.denying_state.name} has been told.", "success")
            return redirect(url_for("consultations.detail", consultation_id=consultation.id))
    return render_template("consultations/new.html", form=form, denial=denial)


def _detail(consultation: Consultation, **forms: Any) -> Any:
    return render_template(
        "consultations/detail.html", consultation=consultation, today=utcnow().date(),
        message_form=forms.get("message_form") or MessageForm(), answer_form=forms.get("answer_form") or AnswerForm(),
        close_form=forms.get("close_form") or CloseForm(), labels=labels_for(consultation.denial.kind),
        attachments=attachments.consultation_attachments(db.session, current_user, consultation),
        can_attach=access.can_attach_to_consultation(current_user, consultation),
        country_names={c.code: c.name for c in countries.list_countries(db.session)})


@bp.get("/<uuid:consultation_id>")
def detail(consultation_id: uuid.UUID) -> Any:
    return _detail(service.get_visible(db.session, current_user, consultation_id))


def _thread_form(consultation_id: uuid.UUID, form: PortalForm, slot: str,
                 operation: Callable[[Consultation, dict[str, Any]], object], done: str) -> Any:
    """One form of the consultation page (message, answer, close): act and come back to the page,
    or show the page again with the form's errors where it stands (`slot` names it)."""
    consultation = service.get_visible(db.session, current_user, consultation_id)
    if form.validate_on_submit():
        try:
            operation(consultation, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash(done, "success")
            return redirect(url_for("consultations.detail", consultation_id=consultation.id))
    return _detail(consultation, **{slot: form}), 422


@bp.post("/<uuid:consultation_id>/messages")
def post_message(consultation_id: uuid.UUID) -> Any:
    return _thread_form(consultation_id, MessageForm(), "message_form",
                        lambda c, payload: service.post_message(db.session, current_user, c, payload), "Message sent.")


@bp.post("/<uuid:consultation_id>/answer")
def answer(consultation_id: uuid.UUID) -> Any:
    return _thread_form(consultation_id, AnswerForm(), "answer_form",
                        lambda c, payload: service.answer(db.session, current_user, c, payload),
                        "Your position has been sent.")


@bp.post("/<uuid:consultation_id>/close")
def close(consultation_id: uuid.UUID) -> Any:
    return _thread_form(consultation_id, CloseForm(), "close_form",
                        lambda c, payload: service.close(db.session, current_user, c, payload),
                        "The consultation is closed.")


@bp.post("/<uuid:consultation_id>/attachments")
def upload_attachment(consultation_id: uuid.UUID) -> Any:
    """Attach a file to the thread: encrypted for the two states, signed by the uploader's state."""
    consultation = service.get_visible(db.session, current_user, consultation_id)
    attachment = web.receive_upload(consultation, check_csrf=True)
    flash(f"“{attachment.filename}” was attached: encrypted for the two states and signed.", "success")
    target = url_for("consultations.detail", consultation_id=consultation.id)
    if request.accept_mimetypes.best == "application/json":  # the upload script shows the outcome in place
        return jsonify({"redirect": target, "attachment": {"id": str(attachment.id), "filename": attachment.filename}})
    return redirect(target, 303)


# CSRF is checked by web.open_upload as the body streams in: the global hook would read
# request.form and so buffer the whole file first.
csrf.exempt(upload_attachment)
