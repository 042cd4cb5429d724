"""Signed-in pages of a state's point of contact: its public consultations (calls for input)."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.forms import ButtonForm, apply_errors
from portal.models.base import utcnow
from portal.public import consultations
from portal.public.forms import CallForm, SummaryForm

bp = Blueprint("public_consultations", __name__, url_prefix="/public-consultations")


@bp.get("/")
def index() -> Any:
    return render_template("public/calls.html", calls=consultations.own(db.session, current_user))


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    consultations.own(db.session, current_user)  # NotFound for anyone who may not run one
    form = CallForm()
    if form.validate_on_submit():
        try:
            call = consultations.create(db.session, current_user, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("The consultation is open and on the public pages.", "success")
            return redirect(url_for("public_consultations.detail", call_id=call.id), 303)
    return render_template("public/call_form.html", form=form)


@bp.get("/<uuid:call_id>")
def detail(call_id: uuid.UUID, summary_form: SummaryForm | None = None) -> Any:
    call = consultations.get_own(db.session, current_user, call_id)
    return render_template("public/call_detail.html", call=call, button=ButtonForm(),
                           summary_form=summary_form or SummaryForm(), today=utcnow().date())


@bp.post("/<uuid:call_id>/close")
def close(call_id: uuid.UUID) -> Any:
    call = consultations.get_own(db.session, current_user, call_id)
    if ButtonForm().validate_on_submit():
        consultations.close(db.session, current_user, call)
        flash("Closed: it no longer takes responses.", "success")
    return redirect(url_for("public_consultations.detail", call_id=call_id), 303)


@bp.post("/<uuid:call_id>/summary")
def summary(call_id: uuid.UUID) -> Any:
    call = consultations.get_own(db.session, current_user, call_id)
    form = SummaryForm()
    if form.validate_on_submit():
        try:
            consultations.publish_summary(db.session, current_user, call, {"summary": form.summary.data})
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("The summary is published on the consultation's public page.", "success")
            return redirect(url_for("public_consultations.detail", call_id=call_id), 303)
    return detail(call_id, summary_form=form), 400
