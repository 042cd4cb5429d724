"""The country directory and the register's edit pages."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal import access
from portal.countries import service
from portal.countries.forms import CountryForm, NewCountryForm
from portal.errors import Forbidden, ValidationFailed
from portal.extensions import db
from portal.forms import apply_errors
from portal.models.country import CountryStatus

bp = Blueprint("countries", __name__, url_prefix="/countries")


def _require_register_keeper() -> None:
    if not access.can_edit_register(current_user):
        raise Forbidden("Only the secretariat and administrators keep the register.")


@bp.get("/")
def directory() -> Any:
    return render_template("countries/directory.html", countries=service.list_countries(db.session),
                           contacts=service.designated_contacts(db.session))


@bp.get("/<code>")
def detail(code: str) -> Any:
    country = service.get_country(db.session, code)
    return render_template("countries/detail.html", country=country,
                           spocs=service.points_of_contact(db.session, country))


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    _require_register_keeper()
    form = NewCountryForm()
    if form.validate_on_submit():
        try:
            country = service.add_country(db.session, current_user, code=form.code.data or "",
                                          name=form.name.data or "", status=CountryStatus(form.status.data),
                                          endorsed_on=form.endorsed_on.data)
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash(f"{country.name} has been added to the register.", "success")
            return redirect(url_for("countries.detail", code=country.code))
    return render_template("countries/edit.html", form=form, country=None)


@bp.route("/<code>/edit", methods=["GET", "POST"])
def edit(code: str) -> Any:
    country = service.get_country(db.session, code)
    _require_register_keeper()
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
