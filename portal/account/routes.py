"""The signed-in user's own profile and password."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user

from portal.account import service
from portal.account.forms import ApiTokenForm, ChangePasswordForm, ProfileForm
from portal.api import tokens
from portal.auth import sessions
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.forms import ButtonForm, apply_errors
from portal.models.base import utcnow

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/", methods=["GET", "POST"])
def profile() -> Any:
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            service.update_profile(db.session, current_user, name=form.name.data or "", position=form.position.data)
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Your details have been saved.", "success")
            return redirect(url_for("account.profile"))
    live = sessions.live_sessions(db.session, current_user.id)
    return render_template("account/profile.html", form=form, live_sessions=live)


@bp.route("/password", methods=["GET", "POST"])
def change_password() -> Any:
    form = ChangePasswordForm()
    valid = form.validate_on_submit()
    if form.is_submitted() and not valid and "csrf_token" not in form.errors:
        # Every problem at once: the service's (current password, policy) beside the form's own.
        problems = service.password_change_problems(current_user, current=form.current_password.data or "",
                                                    new=form.new_password.data or "")
        if problems:
            apply_errors(form, ValidationFailed("Some fields need attention.", problems))
    if valid:
        try:
            ended = service.change_password(db.session, current_user, current=form.current_password.data or "",
                                            new=form.new_password.data or "", keep_token=session.get("sid"))
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash(f"Your password has been changed. {ended.sessions} other session(s) were signed out."
                  + ended.tokens_note(), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form)


@bp.route("/tokens", methods=["GET", "POST"])
def api_tokens() -> Any:
    form = ApiTokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            new_token = tokens.create_token(db.session, current_user, form.name.data or "", form.days.data or 90)
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            form = ApiTokenForm(formdata=None)
    return render_template("account/tokens.html", form=form, new_token=new_token,
                           tokens=tokens.user_tokens(db.session, current_user), action_form=ButtonForm(), now=utcnow())


@bp.post("/tokens/<uuid:token_id>/revoke")
def revoke_api_token(token_id: uuid.UUID) -> Any:
    if not ButtonForm().validate_on_submit():
        abort(400)
    tokens.revoke_token(db.session, current_user, token_id)
    flash("The token is revoked. Systems using it are refused from now on.", "success")
    return redirect(url_for("account.api_tokens"))
