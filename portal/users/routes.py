"""Account administration pages: admins for everyone, a SPOC for its own state."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access
from portal.auth.service import MailNotSent
from portal.auth.sessions import Ended
from portal.countries import service as countries
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.extensions import db
from portal.forms import ButtonForm, apply_errors
from portal.models.user import Role, User, UserStatus
from portal.users import service
from portal.users.forms import InviteForm, RoleForm

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.before_request
def only_user_managers() -> None:
    if not access.can_manage_users(current_user):
        raise NotFound()


def _load(user_id: uuid.UUID) -> User:
    return service.get_visible_user(db.session, current_user, user_id)


@bp.get("/")
def index() -> Any:
    search = (request.args.get("q") or "").strip()
    status = request.args.get("status")
    page = service.list_users(db.session, current_user, search, status, request.args)
    return render_template("users/index.html", page=page, search=search, status=status, statuses=list(UserStatus))


@bp.route("/invite", methods=["GET", "POST"])
def invite() -> Any:
    form = InviteForm()
    form.role.choices = [(r.value, r.label) for r in access.invitable_roles(current_user)]
    if current_user.role is Role.SPOC:
        assert current_user.country is not None
        form.country.choices = [(current_user.country.code, current_user.country.name)]
    else:
        form.country.choices = [("", "No state")] + [(c.code, c.name) for c in countries.list_countries(db.session)]
    if form.validate_on_submit():
        try:
            user = service.invite(db.session, current_user, email=form.email.data or "", name=form.name.data or "",
                                  role=Role(form.role.data), country_code=form.country.data or None,
                                  position=form.position.data)
        except ValidationFailed as error:
            apply_errors(form, error)
        except MailNotSent as error:
            flash(f"The account is created, but the invitation e-mail could not be sent ({error}). "
                  "Use “Send a new invitation” on the account page once mail works again.", "error")
            return redirect(url_for("users.index"))
        else:
            flash(f"An invitation has been sent to {user.email}. The link works once, for 7 days.", "success")
            return redirect(url_for("users.detail", user_id=user.id))
    return render_template("users/invite.html", form=form)


@bp.get("/<uuid:user_id>")
def detail(user_id: uuid.UUID) -> Any:
    user = _load(user_id)
    role_form = RoleForm()
    role_form.role.choices = [(r.value, r.label) for r in access.assignable_roles(current_user, user)]
    role_form.role.data = user.role.value
    return render_template("users/detail.html", user=user, role_form=role_form, action_form=ButtonForm())


def _act(user_id: uuid.UUID, operation: Any, done: str) -> Any:
    user = _load(user_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        result = operation(user)
    except ValidationFailed as error:
        flash(error.message, "error")
    except MailNotSent as error:
        flash(f"Saved, but the e-mail could not be sent ({error}). Try again later.", "error")
    else:
        note = result.tokens_note(f"{user.name}'s") if isinstance(result, Ended) else ""
        flash(done.format(name=user.name) + note, "success")
    return redirect(url_for("users.detail", user_id=user.id))


@bp.post("/<uuid:user_id>/disable")
def disable(user_id: uuid.UUID) -> Any:
    return _act(user_id, lambda u: service.set_status(db.session, current_user, u, UserStatus.DISABLED),
                "{name}'s account is disabled and all their sessions have ended.")


@bp.post("/<uuid:user_id>/enable")
def enable(user_id: uuid.UUID) -> Any:
    return _act(user_id, lambda u: service.set_status(db.session, current_user, u, UserStatus.ACTIVE),
                "{name}'s account is active again.")


@bp.post("/<uuid:user_id>/reset-mfa")
def reset_mfa(user_id: uuid.UUID) -> Any:
    return _act(user_id, lambda u: service.reset_mfa(db.session, current_user, u),
                "{name} will set up two-step verification again at their next sign-in; "
                "their security keys were removed.")


@bp.post("/<uuid:user_id>/designate")
def designate(user_id: uuid.UUID) -> Any:
    return _act(user_id, lambda u: service.designate_poc(db.session, current_user, u),
                "{name} is now the designated point of contact.")


@bp.post("/<uuid:user_id>/resend-invitation")
def resend_invitation(user_id: uuid.UUID) -> Any:
    return _act(user_id, lambda u: service.resend_invitation(db.session, current_user, u),
                "A new invitation has been sent to {name}.")


@bp.post("/<uuid:user_id>/role")
def change_role(user_id: uuid.UUID) -> Any:
    user = _load(user_id)
    form = RoleForm()
    form.role.choices = [(r.value, r.label) for r in access.assignable_roles(current_user, user)]
    if not form.validate_on_submit():
        if not form.role.choices:
            raise Forbidden("You may not change this account's role.")
        abort(400)
    service.change_role(db.session, current_user, user, Role(form.role.data))
    flash(f"{user.name} is now {user.role.label.lower()}; their sessions have ended.", "success")
    return redirect(url_for("users.detail", user_id=user.id))
