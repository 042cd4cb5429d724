"""WebAuthn pages: the key step of sign-in, the account's keys, and a state's requirement."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import access
from portal.auth import service, webauthn
from portal.auth.routes import _finish_login, _pending_user, _refused, per_account, per_address
from portal.auth.webauthn_forms import KeyAssertionForm, KeyRegistrationForm, WebAuthnRequirementForm
from portal.auth.webauthn_pages import LOGIN_CHALLENGE
from portal.countries.service import get_country
from portal.errors import Forbidden, ValidationFailed
from portal.extensions import db
from portal.forms import ButtonForm, apply_errors
from portal.models.country import Country

bp = Blueprint("webauthn", __name__)

REGISTER_CHALLENGE = "webauthn_register"


@bp.app_context_processor
def requirement_form() -> dict[str, Any]:
    """The country page's form for the state's setting, filled with its current value."""
    def webauthn_requirement_form(country: Country) -> WebAuthnRequirementForm:
        return WebAuthnRequirementForm(formdata=None, required=country.webauthn_required)
    return {"webauthn_requirement_form": webauthn_requirement_form}


@bp.errorhandler(RateLimitExceeded)
def over_limit(_error: RateLimitExceeded) -> Any:
    """Over a sign-in limit: the same message as any refused step (and no attempt is charged)."""
    flash(service.KEY_LOGIN_ERROR, "error")
    return redirect(url_for("auth.login_mfa"))


@bp.post("/login/key")
@per_address
@per_account
def login_key() -> Any:
    user = _pending_user()
    if user is None or user.totp_enrolled_at is None:
        return redirect(url_for("auth.login_mfa"))  # which sends a visitor without a pending login to sign in
    form = KeyAssertionForm()
    challenge_id = session.pop(LOGIN_CHALLENGE, None)  # single-use on this side too
    if not form.validate_on_submit():
        _refused()
        return redirect(url_for("auth.login_mfa"))
    try:
        token = webauthn.verify_login(db.session, user, challenge_id=challenge_id,
                                      credential=form.credential.data or "",
                                      ip=request.remote_addr, agent=request.user_agent.string)
    except service.AuthError as error:
        _refused(str(error))
        return redirect(url_for("auth.login_mfa"))
    return _finish_login(user, token)


def _keys_page(form: KeyRegistrationForm) -> str:
    options, challenge_id = webauthn.begin_registration(db.session, current_user)
    session[REGISTER_CHALLENGE] = challenge_id
    return render_template("account/keys.html", form=form, options=options,
                           keys=webauthn.user_keys(db.session, current_user), action_form=ButtonForm(),
                           required=access.webauthn_required(current_user),
                           may_remove_last=access.may_remove_last_key(current_user))


@bp.route("/account/keys", methods=["GET", "POST"])
def keys() -> Any:
    form = KeyRegistrationForm()
    if form.validate_on_submit():
        try:
            if not form.credential.data:
                raise ValidationFailed("Your browser did not answer with a key.",
                                       {"name": "Your browser did not answer with a key: it needs JavaScript "
                                                "and a security key or passkey."})
            webauthn.finish_registration(db.session, current_user, challenge_id=session.pop(REGISTER_CHALLENGE, None),
                                         credential=form.credential.data, name=form.name.data or "")
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Your key is registered. You can use it instead of a code when you sign in.", "success")
            return redirect(url_for("webauthn.keys"))
    return _keys_page(form)


@bp.post("/account/keys/<uuid:key_id>/remove")
def remove_key(key_id: uuid.UUID) -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    webauthn.remove_key(db.session, current_user, key_id)
    flash("The key is removed. It can no longer be used to sign in to your account.", "success")
    return redirect(url_for("webauthn.keys"))


@bp.post("/countries/<code>/webauthn")
def state_requirement(code: str) -> Response:
    country = get_country(db.session, code)
    if not access.can_set_webauthn_requirement(current_user, country):
        raise Forbidden("Only the state's point of contact or an administrator changes this setting.")
    form = WebAuthnRequirementForm()
    if not form.validate_on_submit():
        abort(400)
    if webauthn.set_requirement(db.session, current_user, country, bool(form.required.data)):
        flash(f"{country.name}: security keys are now " + ("required." if country.webauthn_required else "optional."),
              "success")
    return redirect(url_for("countries.detail", code=country.code) + "#sign-in")
