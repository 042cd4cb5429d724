"""Single sign-on pages: choose a state, go to its provider and come back; the admin's settings."""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from portal import access
from portal.auth.routes import safe_next
from portal.auth.webauthn_pages import ask_for_key
from portal.auth.service import GENERIC_LOGIN_ERROR, AuthError
from portal.countries import service as countries
from portal.crypto.errors import KeyUnwrapError
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db, limiter
from portal.forms import ButtonForm, apply_errors
from portal.sso import client, settings, signin
from portal.sso.forms import IdentityProviderForm
from portal.urls import external_url

bp = Blueprint("sso", __name__)

UNAVAILABLE = "Signing in through your state's identity provider is not available just now. Sign in with your password."


# The same per-address allowance as the password step ("login-address"): only failed
# sign-ins count, and a refused request charges nothing.
per_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], scope="login-address",
    key_func=lambda: "address:" + (get_remote_address() or "-"), deduct_when=lambda _r: bool(g.get("login_failed")))


@bp.errorhandler(RateLimitExceeded)
def over_limit(_error: RateLimitExceeded) -> Any:
    flash(GENERIC_LOGIN_ERROR, "error")
    return redirect(url_for("auth.login"))


def _refused(message: str = GENERIC_LOGIN_ERROR) -> Response:
    g.login_failed = True
    flash(message, "error")
    return redirect(url_for("auth.login"))


@bp.get("/login/sso")
def choose() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return render_template("sso/choose.html", providers=settings.enabled_providers(db.session),
                           next_url=request.args.get("next"))


@bp.get("/login/sso/<code>")
def start(code: str) -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    provider = settings.provider_for(db.session, code)
    session["sso_next"] = request.args.get("next")
    try:
        return client.authorization_redirect(provider, external_url("sso.callback", code=provider.country_code))
    except settings.SsoUnavailable as error:
        current_app.logger.error("single sign-on for %s unavailable: %s", provider.country_code, error)
        flash(UNAVAILABLE, "error")
        return redirect(url_for("auth.login"))


@bp.get("/login/sso/<code>/callback")
@per_address
def callback(code: str) -> Any:
    provider = settings.provider_for(db.session, code)
    try:
        claims = client.validated_claims(provider, settings.client_secret(provider))
    except (settings.SsoUnavailable, KeyUnwrapError) as error:
        current_app.logger.error("single sign-on for %s unavailable: %s", provider.country_code, error)
        flash(UNAVAILABLE, "error")
        return redirect(url_for("auth.login"))
    except client.TokenRefused as error:
        current_app.logger.warning("single sign-on for %s refused: %s", provider.country_code, error)
        return _refused(str(signin.refuse_token(db.session, provider)))
    try:
        result = signin.sign_in(db.session, provider, claims, ip=request.remote_addr, agent=request.user_agent.string)
    except AuthError as error:
        return _refused(str(error))
    next_url = safe_next(session.get("sso_next"))
    session.clear()  # a fresh session: nothing from before sign-in (nor the provider's state) carries over
    if result.token is not None:
        session["sid"] = result.token
        login_user(result.user)
        ask_for_key(result.user)
        return redirect(next_url)
    # The portal's own second step, exactly as after a right password.
    session["pending_login"] = {"uid": str(result.user.id), "email": result.user.email, "at": time.time(),
                                "next": next_url}
    return redirect(url_for("auth.login_mfa" if result.user.totp_enrolled_at else "auth.login_enrol"))


# --- administrators: a state's identity provider ------------------------------------------

def _require_admin() -> None:
    if not access.can_manage_identity_providers(current_user):
        raise NotFound()


@bp.get("/admin/sso")
def admin_index() -> Any:
    _require_admin()
    return render_template("sso/admin_index.html", countries=countries.list_countries(db.session),
                           providers=settings.providers(db.session))


@bp.route("/admin/sso/<code>", methods=["GET", "POST"])
def admin_edit(code: str) -> Any:
    _require_admin()
    country = countries.get_country(db.session, code)
    provider = settings.providers(db.session).get(country.code)
    form = IdentityProviderForm(obj=provider)
    if request.method == "GET" and provider is not None:
        form.secret_source.data = "environment" if provider.secret_env else "sealed"
    if form.validate_on_submit():
        try:
            settings.save_provider(db.session, current_user, country.code, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash(f"{country.name}'s identity provider is saved.", "success")
            return redirect(url_for("sso.admin_index"))
    return render_template("sso/admin_edit.html", form=form, country=country, provider=provider,
                           remove_form=ButtonForm(),
                           redirect_uri=external_url("sso.callback", code=country.code))


@bp.post("/admin/sso/<code>/remove")
def admin_remove(code: str) -> Any:
    _require_admin()
    country = countries.get_country(db.session, code)
    if ButtonForm().validate_on_submit():
        settings.remove_provider(db.session, current_user, country.code)
        flash(f"{country.name}'s identity provider is removed; its people sign in with their passwords.", "success")
    return redirect(url_for("sso.admin_index"))
