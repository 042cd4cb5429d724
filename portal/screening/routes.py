"""Screening pages: screen parties (typed or a CSV file), a screening's results, the state's history."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access, downloads
from portal.errors import Forbidden, ValidationFailed
from portal.extensions import db
from portal.models.screening import ScreeningSource
from portal.screening import service
from portal.screening.forms import ScreenForm
from portal.country_names import country_names
from portal.screening.schema import MAX_CSV_BYTES, validate_csv

bp = Blueprint("screening", __name__, url_prefix="/screenings")


def _require_screener() -> None:
    if not access.can_screen(current_user):
        raise Forbidden("Only a state's point of contact and officers screen parties.")


def _show_errors(form: ScreenForm, error: ValidationFailed) -> None:
    """Service paths (parties[0].name, file, threshold) onto the form's fields."""
    unplaced = []
    for path, message in error.fields.items():
        name = path.rsplit(".", 1)[-1] if path.startswith("parties[0].") else path
        name = "name" if name == "parties" else name
        field = getattr(form, name, None)
        if field is None:
            unplaced.append(message)
        else:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
    flash(" ".join(unplaced) or error.message, "error")


@bp.route("/", methods=["GET", "POST"])
def screen() -> Any:
    _require_screener()
    form = ScreenForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if upload is not None and upload.filename:
                # Read one byte past the limit, so a larger file is refused without reading it all.
                data = upload.stream.read(MAX_CSV_BYTES + 1)
                clean = validate_csv(data, **form.options())
                screening = service.run_screening(db.session, current_user, clean, ScreeningSource.CSV)
            else:
                screening = service.run_screening(db.session, current_user, form.payload(), ScreeningSource.PAGE)
        except ValidationFailed as error:
            _show_errors(form, error)
        else:
            return redirect(url_for("screening.detail", screening_id=screening.id))
    elif request.method == "POST":
        flash("Some fields need attention.", "error")
    return render_template("screening/screen.html", form=form)


@bp.get("/history")
def history() -> Any:
    page = service.list_screenings(db.session, current_user, request.args)
    return render_template("screening/history.html", page=page)


@bp.get("/<uuid:screening_id>")
def detail(screening_id: uuid.UUID) -> Any:
    screening = service.get_screening(db.session, current_user, screening_id)
    return render_template("screening/detail.html", screening=screening,
                           results=service.shown_results(db.session, current_user, screening),
                           country_names=country_names())


@bp.get("/<uuid:screening_id>.csv")
def download(screening_id: uuid.UUID) -> Any:
    screening = service.get_screening(db.session, current_user, screening_id)
    return downloads.download(service.results_csv(db.session, current_user, screening), "text/csv",
                              f"screening-{screening.id}.csv")

