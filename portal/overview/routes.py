"""/overview: the activity overview page and each of its tables as CSV."""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user

from portal import access
from portal.downloads import download, safe_cell
from portal.errors import NotFound
from portal.extensions import db
from portal.overview import charts, service

bp = Blueprint("overview", __name__)


@bp.get("/overview")
def index() -> Any:
    tables = service.overview(db.session, current_user)
    return render_template("overview/index.html", tables=tables, chart=charts.stacked_bars,
                           whole=access.overview_states(current_user) is None)


@bp.get("/overview/<any('items-by-kind', 'items-by-marking', 'participation', 'attendance', "
        "'overdue-actions'):name>.csv")
def table_csv(name: str) -> Any:
    table = next((t for t in service.overview(db.session, current_user) if t.name == name), None)
    if table is None:
        raise NotFound()
    out = io.StringIO()
    writer = csv.writer(out)
    for row in table.csv_rows():
        writer.writerow([safe_cell(cell) for cell in row])
    return download(out.getvalue(), "text/csv", f"overview-{name}.csv")
