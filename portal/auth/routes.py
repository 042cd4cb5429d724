"""Sign-in (password, then TOTP or enrolment), sign-out, password reset, invitations."""
from __future__ import annotations

import math
import time
import uuid
from typing import Any

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from portal.auth import service, sessions, totp
from portal.auth.webauthn_pages import ask_for_key, second_step_context
from portal.auth.forms import CodeForm, ForgotPasswordForm, LoginForm, NewPasswordForm
from portal.auth.passwords import PasswordPolicyError
from portal.extensions import db, limiter
from portal.models.base import utcnow
from portal.models.user import TokenPurpose, User

bp = Blueprint("auth", __name__)

PENDING_LOGIN_SECONDS = 300  # between a right password and the second factor


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    # Browsers drop tabs and newlines inside URLs ("/\t/evil" becomes "//evil"), and a
    # newline cannot go into a header at all: refuse any whitespace or control character.
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(c.isspace() or not c.isprintable() for c in target)):
        return target
    return url_for("main.home")


# --- rate limits on the sign-in steps ----------------------------------------------------
# Only failed attempts count (a whole ministry may sign in from one address). Both limits are
# tested before the step runs and charged after it failed, so a request refused by the
# per-address limit never reaches, nor counts against, any account.

def _attempt_failed(_response: Response) -> bool:
    return bool(g.get("login_failed"))


def _account_key() -> str:
    """The account a sign-in step is about: the e-mail entered, or the pending login's."""
    if request.endpoint == "auth.login":
        email = request.form.get("email", "")
    else:
        email = (session.get("pending_login") or {}).get("email", "")
    return "account:" + (service.normalise_email(email)[:254] or "-")


per_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], scope="login-address",
    key_func=lambda: "address:" + (get_remote_address() or "-"), deduct_when=_attempt_failed, methods=["POST"])
per_account = limiter.shared_limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], scope="login-account",
    key_func=_account_key, deduct_when=_attempt_failed, methods=["POST"])


def _refused(message: str = service.GENERIC_LOGIN_ERROR) -> None:
    g.login_failed = True
    flash(message, "error")


@bp.errorhandler(RateLimitExceeded)
def over_limit(_error: RateLimitExceeded) -> Any:
    """Over a limit: the same page and message as a wrong password or a locked account."""
    # Not marked as a failed attempt: a refused request charges no limit, so one address
    # over its limit cannot use up the accounts' allowances.
    flash(service.CODE_LOGIN_ERROR if request.endpoint in ("auth.login_mfa", "auth.login_enrol")
          else service.GENERIC_LOGIN_ERROR, "error")
    if request.endpoint == "auth.login_mfa":
        return render_template("auth/code.html", form=CodeForm())
    if request.endpoint == "auth.login_enrol":
        user = _pending_user()
        if user is not None and user.totp_enrolled_at is None:
            return _enrol_page(user, CodeForm())
    return render_template("auth/login.html", form=LoginForm())


def _pending_user() -> User | None:
    pending = session.get("pending_login")
    if not pending or time.time() - pending.get("at", 0) > PENDING_LOGIN_SECONDS:
        return None
    return db.session.get(User, uuid.UUID(pending["uid"]))


def _finish_login(user: User, token: str) -> Response:
    next_url = safe_next(session.get("pending_login", {}).get("next"))
    session.clear()  # a fresh session at login: nothing from before sign-in carries over
    session["sid"] = token
    login_user(user)
    ask_for_key(user)
    return redirect(next_url)


@bp.route("/login", methods=["GET", "POST"])
@per_address
@per_account
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = service.check_password(db.session, form.email.data or "", form.password.data or "")
        except service.AuthError as error:
            _refused(str(error))
            return render_template("auth/login.html", form=form), 200
        session.clear()
        session["pending_login"] = {"uid": str(user.id), "email": user.email, "at": time.time(),
                                    "next": request.args.get("next")}
        return redirect(url_for("auth.login_mfa" if user.totp_enrolled_at else "auth.login_enrol"))
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@per_address
@per_account
def login_mfa() -> Any:
    user = _pending_user()
    if user is None or user.totp_enrolled_at is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            token = service.verify_totp_login(db.session, user, form.code.data or "",
                                              ip=request.remote_addr, agent=request.user_agent.string)
        except service.AuthError as error:
            _refused(str(error))
        else:
            return _finish_login(user, token)
    return render_template("auth/code.html", form=form, **second_step_context(user))


def _enrol_page(user: User, form: CodeForm) -> str:
    secret = service.pending_enrolment_secret(db.session, user)
    uri = totp.provisioning_uri(secret, user.email)
    return render_template("auth/enrol.html", form=form, secret=secret, qr_svg=totp.qr_svg(uri))


@bp.route("/login/enrol", methods=["GET", "POST"])
@per_address
@per_account
def login_enrol() -> Any:
    user = _pending_user()
    if user is None or user.totp_enrolled_at is not None:
        return redirect(url_for("auth.login"))
    service.pending_enrolment_secret(db.session, user)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            token = service.confirm_enrolment(db.session, user, form.code.data or "",
                                              ip=request.remote_addr, agent=request.user_agent.string)
        except service.AuthError as error:
            _refused(str(error))
        else:
            flash("Two-step verification is set up. Keep your authenticator app safe.", "success")
            return _finish_login(user, token)
    return _enrol_page(user, form)


@bp.post("/session/extend")  # signed-in users only; the "stay signed in" dialog calls it (WCAG 2.2.1)
def extend_session() -> Any:
    """Restart the idle clock of this session and say how long it now has (`final`: the absolute
    limit, which staying active does not move)."""
    config = current_app.config
    remaining, final = sessions.extend(db.session, session.get("sid", ""), utcnow(),
                                       config["SESSION_IDLE_TIMEOUT"], config["SESSION_ABSOLUTE_TIMEOUT"])
    return jsonify(remaining_seconds=max(0, math.ceil(remaining.total_seconds())), final=final)


@bp.post("/logout")  # signed-in users only: not in access.PUBLIC_ENDPOINTS
def logout() -> Response:
    service.logout(db.session, current_user, session.get("sid", ""))
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        service.request_password_reset(db.session, form.email.data or "")
        # The same answer whether or not the address has an account.
        return render_template("auth/forgot_sent.html", email=form.email.data)
    return render_template("auth/forgot.html", form=form)


def _set_password_page(token: str, purpose: TokenPurpose, template: str) -> Any:
    record = service.find_account_token(db.session, token, purpose)
    if record is None:
        return render_template("auth/link_invalid.html", purpose=purpose), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            _, ended = service.set_password_with_token(db.session, token, purpose, form.password.data or "")
        except PasswordPolicyError as error:
            form.password.errors = [str(error)]
        except service.AuthError as error:
            flash(str(error), "error")
            return redirect(url_for("auth.login"))
        else:
            if purpose is TokenPurpose.INVITATION:
                flash("Your password is set. Sign in with it now.", "success")
            else:
                flash("Your password has been changed and every session has been signed out. Sign in again."
                      + ended.tokens_note(), "success")
            return redirect(url_for("auth.login"))
    return render_template(template, form=form, user=record.user)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    return _set_password_page(token, TokenPurpose.PASSWORD_RESET, "auth/reset.html")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    if current_user.is_authenticated:
        flash("Sign out before accepting an invitation for another account.", "error")
        return redirect(url_for("main.home"))
    return _set_password_page(token, TokenPurpose.INVITATION, "auth/invitation.html")
