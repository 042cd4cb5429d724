"""The contact inbox: messages from outside, for the secretariat (and SPOCs they were forwarded to)."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.forms import ButtonForm, apply_errors, choices
from portal.public import contact
from portal.public.forms import ForwardForm

bp = Blueprint("contact_inbox", __name__, url_prefix="/contact-inbox")


def _forward_form(form: ForwardForm | None = None) -> ForwardForm:
    form = form or ForwardForm()
    form.country.choices = choices([("", "Choose a state")] + [
        (c.code, c.name) for c in contact.forward_targets(db.session)])
    return form


@bp.get("/")
def index() -> Any:
    return render_template("public/inbox.html", messages=contact.inbox(db.session, current_user))


@bp.get("/<uuid:message_id>")
def detail(message_id: uuid.UUID, forward_form: ForwardForm | None = None) -> Any:
    message = contact.get_message(db.session, current_user, message_id)
    return render_template("public/inbox_message.html", message=message, button=ButtonForm(),
                           forward_form=_forward_form(forward_form), retention=contact.retention_days())


@bp.post("/<uuid:message_id>/handled")
def handled(message_id: uuid.UUID) -> Any:
    message = contact.get_message(db.session, current_user, message_id)
    if ButtonForm().validate_on_submit():
        contact.mark_handled(db.session, current_user, message)
        flash("Marked as handled.", "success")
    return redirect(url_for("contact_inbox.detail", message_id=message_id), 303)


@bp.post("/<uuid:message_id>/reopen")
def reopen(message_id: uuid.UUID) -> Any:
    message = contact.get_message(db.session, current_user, message_id)
    if ButtonForm().validate_on_submit():
        contact.reopen(db.session, current_user, message)
        flash("Reopened.", "success")
    return redirect(url_for("contact_inbox.detail", message_id=message_id), 303)


@bp.post("/<uuid:message_id>/forward")
def forward(message_id: uuid.UUID) -> Any:
    message = contact.get_message(db.session, current_user, message_id)
    form = _forward_form()
    if form.validate_on_submit():
        try:
            contact.forward(db.session, current_user, message, form.country.data)
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Forwarded: the state's point of contact now sees it in their inbox.", "success")
            return redirect(url_for("contact_inbox.detail", message_id=message_id), 303)
    return detail(message_id, forward_form=form), 400


@bp.post("/<uuid:message_id>/delete")
def delete(message_id: uuid.UUID) -> Any:
    message = contact.get_message(db.session, current_user, message_id)
    if ButtonForm().validate_on_submit():
        contact.delete_message(db.session, current_user, message)
        flash("Deleted, with the sender's details.", "success")
    return redirect(url_for("contact_inbox.index"), 303)
