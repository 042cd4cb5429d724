"""Home page and health check."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from portal import access
from portal.countries import service as countries
from portal.sharing import queries
from portal.extensions import db

bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> Any:
    contacts = countries.designated_contacts(db.session)
    own_contact = contacts.get(current_user.country_code) if current_user.country_code else None
    board = None if access.is_admin(current_user) else queries.dashboard(db.session, current_user)
    return render_template("main/home.html", own_contact=own_contact, board=board)


@bp.get("/health")
def health() -> Any:
    """For load balancers: the app answers and the database is reachable. Reveals nothing else."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
