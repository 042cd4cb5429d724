"""The country directory and the register's edit pages."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import access
from portal.countries import service
from portal.countries.forms import CountryForm, NewCountryForm
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.extensions import db
from portal.forms import apply_errors
from portal.models.country import CountryStatus
from portal.models.user import Role, User, UserStatus

bp = Blueprint("countries", __name__, url_prefix="/countries")


def _load(code: str) -> Any:
    try:
        return service.get_country(db.session, code)
    except NotFound:
        abort(404)


@bp.get("/")
def directory() -> Any:
    return render_template("countries/directory.html", countries=service.list_countries(db.session),
                           contacts=service.designated_contacts(db.session))


@bp.get("/<code>")
def detail(code: str) -> Any:
    country = _load(code)
    # Points of contact (designated and alternates) are public within the portal.
    spocs = db.session.scalars(select(User).where(
        User.country_code == country.code, User.role == Role.SPOC, User.status == UserStatus.ACTIVE
    ).order_by(User.is_designated_poc.desc(), User.name)).all()
    return render_template("countries/detail.html", country=country, spocs=spocs)


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    if not access.can_edit_register(current_user):
        abort(403)
    form = NewCountryForm()
    if form.validate_on_submit():
        try:
            country = service.add_country(db.session, current_user, code=form.code.data or "", name=form.name.data or "",
                                          status=CountryStatus(form.status.data), endorsed_on=form.endorsed_on.data)
        except ValidationFailed as error:
            apply_errors(form, error)
        except Forbidden:
            abort(403)
        else:
            flash(f"{country.name} has been added to the register.", "success")
            return redirect(url_for("countries.detail", code=country.code))
    return render_template("countries/edit.html", form=form, country=None)


@bp.route("/<code>/edit", methods=["GET", "POST"])
def edit(code: str) -> Any:
    country = _load(code)
    if not access.can_edit_register(current_user):
        abort(403)
    form = CountryForm(obj=country)
    if form.validate_on_submit():
        try:
            service.update_country(db.session, current_user, country, name=form.name.data or "",
                                   status=CountryStatus(form.status.data), endorsed_on=form.endorsed_on.data)
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash(f"{country.name} has been updated.", "success")
            return redirect(url_for("countries.detail", code=country.code))
    return render_template("countries/edit.html", form=form, country=country)
