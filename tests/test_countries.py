"""The country directory and the register kept by the secretariat and administrators."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Country, CountryStatus, UserStatus
from tests.conftest import post_form

# The 24 states named when the Code of Conduct was published (DESIGN.md).
FOUNDING = {
    "AL": "Albania", "AU": "Australia", "BG": "Bulgaria", "CA": "Canada", "HR": "Croatia", "CZ": "Czechia",
    "DK": "Denmark", "EC": "Ecuador", "EE": "Estonia", "FI": "Finland", "FR": "France", "DE": "Germany",
    "JP": "Japan", "XK": "Kosovo", "LV": "Latvia", "NL": "Netherlands", "NZ": "New Zealand",
    "MK": "North Macedonia", "NO": "Norway", "KR": "Republic of Korea", "SK": "Slovakia", "ES": "Spain",
    "GB": "United Kingdom", "US": "United States",
}
ROW = re.compile(r'<td><a href="/countries/([A-Z]{2})">([^<]+)</a></td>\s*<td>([A-Z]{2})</td>\s*'
                 r'<td><span class="tag tag-(\w+)">')


def directory_rows(client: Any) -> dict[str, tuple[str, str]]:
    response = client.get("/countries/")
    assert response.status_code == 200
    rows = ROW.findall(response.get_data(as_text=True))
    assert all(link == code for link, _, code, _ in rows)
    return {code: (name, status) for _, name, code, status in rows}


def country_count(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Country))
        db.session.remove()
    return int(count or 0)


def register_audit(app: Flask) -> list[tuple[str, str | None, dict[str, Any]]]:
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(["country.added", "country.changed"]))
                                     .order_by(AuditEntry.id)).all()
        result = [(e.action, e.target_id, e.details) for e in entries]
        db.session.remove()
    return result


@pytest.mark.parametrize("role, country", [("reader", "NO"), ("secretariat", None), ("admin", None)])
def test_directory_lists_the_24_founding_states(app: Flask, make_user: Any, login_as: Any, role: str, country: str | None) -> None:
    client = login_as(app.test_client(), make_user(role, country))
    rows = directory_rows(client)
    assert rows == {code: (name, "subscribing") for code, name in FOUNDING.items()}
    html = client.get("/countries/").get_data(as_text=True)
    assert "24 subscribing states and 0 observer states." in html


def test_country_page_shows_its_points_of_contact(app: Flask, make_user: Any, login_as: Any) -> None:
    designated = make_user("spoc", "XK", designated=True, name="Arta Krasniqi")
    alternate = make_user("spoc", "XK", name="Blerim Gashi")
    make_user("spoc", "XK", name="Gone Away", status=UserStatus.DISABLED)
    client = login_as(app.test_client(), make_user("officer", "DK"))

    page = client.get("/countries/xk")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Kosovo</h1>" in html and "<dd>XK</dd>" in html and "<dd>30 March 2023</dd>" in html
    assert f'{designated.email}</a> <span class="tag">designated</span>' in html
    assert f'{alternate.email}</a> <span class="muted">(alternate)</span>' in html
    assert "Gone Away" not in html
    assert "Arta Krasniqi" in client.get("/countries/").get_data(as_text=True)


@pytest.mark.parametrize("code", ["ZZ", "D1", "DNK", "x"])
def test_unknown_country_is_404(app: Flask, make_user: Any, login_as: Any, code: str) -> None:
    client = login_as(app.test_client(), make_user("officer", "DK"))
    assert client.get(f"/countries/{code}").status_code == 404
    assert client.get(f"/countries/{code}/edit").status_code == 404


@pytest.mark.parametrize("role", ["admin", "secretariat"])
@pytest.mark.parametrize("status, endorsed, shown", [
    ("subscribing", "2025-06-12", "12 June 2025"),
    ("observer", "", "–"),
])
def test_register_keepers_add_costa_rica(app: Flask, make_user: Any, login_as: Any,
                                         role: str, status: str, endorsed: str, shown: str) -> None:
    keeper = make_user(role, None)
    client = login_as(app.test_client(), keeper)
    assert client.get("/countries/new").status_code == 200

    response = post_form(client, "/countries/new", {"code": "cr", "name": " Costa Rica ", "status": status,
                                                   "endorsed_on": endorsed}, page="/countries/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/countries/CR"
    with app.app_context():
        cr = db.session.get(Country, "CR")
        assert cr is not None
        assert (cr.name, cr.status, cr.endorsed_on) == (
            "Costa Rica", CountryStatus(status), date.fromisoformat(endorsed) if endorsed else None)
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "country.added")).one()
        assert (entry.actor_id, entry.target_type, entry.target_id) == (str(keeper.id), "country", "CR")
        assert entry.details == {"status": status, "endorsed_on": endorsed or None}
        db.session.remove()

    page = client.get("/countries/CR").get_data(as_text=True)
    assert f"<dt>Endorsed the Code of Conduct</dt><dd>{shown}</dd>" in page
    assert directory_rows(client)["CR"] == ("Costa Rica", status)
    subscribing = 25 if status == "subscribing" else 24
    assert f"{subscribing} subscribing states and {25 - subscribing} observer states." in client.get("/countries/").get_data(as_text=True)


def test_status_change_is_saved_and_audited(app: Flask, make_user: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("secretariat", None))
    post_form(client, "/countries/new", {"code": "CR", "name": "Costa Rica", "status": "observer"}, page="/countries/new")

    response = post_form(client, "/countries/CR/edit", {"name": "Costa Rica", "status": "subscribing",
                                                        "endorsed_on": "2026-02-01"}, page="/countries/CR/edit")
    assert response.status_code == 302
    assert response.headers["Location"] == "/countries/CR"
    with app.app_context():
        cr = db.session.get(Country, "CR")
        assert cr is not None and (cr.status, cr.endorsed_on) == (CountryStatus.SUBSCRIBING, date(2026, 2, 1))
        db.session.remove()
    # Saving without a change writes no entry.
    post_form(client, "/countries/CR/edit", {"name": "Costa Rica", "status": "subscribing", "endorsed_on": "2026-02-01"},
              page="/countries/CR/edit")
    assert register_audit(app) == [
        ("country.added", "CR", {"status": "observer", "endorsed_on": None}),
        ("country.changed", "CR", {"changed": ["endorsed_on", "status"], "from": "observer", "to": "subscribing",
                                   "endorsed_on": "2026-02-01"}),
    ]


def test_a_founding_state_can_become_an_observer(app: Flask, make_user: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("admin", None))
    response = post_form(client, "/countries/EC/edit", {"name": "Ecuador", "status": "observer", "endorsed_on": "2023-03-30"},
                         page="/countries/EC/edit")
    assert response.status_code == 302
    assert directory_rows(client)["EC"] == ("Ecuador", "observer")
    assert register_audit(app) == [("country.changed", "EC", {"changed": ["status"], "from": "subscribing",
                                                               "to": "observer"})]


@pytest.mark.parametrize("role, country", [("officer", "DK"), ("reader", "DK"), ("spoc", "DK"), ("spoc", "NO")])
def test_state_users_cannot_edit_the_register(app: Flask, make_user: Any, login_as: Any, role: str, country: str) -> None:
    client = login_as(app.test_client(), make_user(role, country))
    assert client.get("/countries/new").status_code == 403
    assert post_form(client, "/countries/new", {"code": "CR", "name": "Costa Rica", "status": "observer"}).status_code == 403
    assert client.get("/countries/DK/edit").status_code == 403
    assert post_form(client, "/countries/DK/edit", {"name": "Danmark", "status": "observer"}).status_code == 403
    assert "Add a state" not in client.get("/countries/").get_data(as_text=True)
    assert country_count(app) == 24
    assert directory_rows(client)["DK"] == ("Denmark", "subscribing")
    assert register_audit(app) == []


@pytest.mark.parametrize("data, field, message", [
    ({"code": "C1", "name": "Costa Rica"}, "code", "Enter a two-letter ISO 3166 code, for example CR."),
    ({"code": "CRI", "name": "Costa Rica"}, "code", "Enter a two-letter ISO 3166 code, for example CR."),
    ({"code": "", "name": "Costa Rica"}, "code", "Enter the state&#39;s two-letter ISO 3166 code, for example CR."),
    ({"code": "dk", "name": "Costa Rica"}, "code", "DK is already in the register."),
    ({"code": "CR", "name": "denmark"}, "name", "denmark is already in the register."),
    ({"code": "CR", "name": ""}, "name", "Enter the state&#39;s name."),
    ({"code": "CR", "name": "Costa\u2028Rica"}, "name", "Must be on one line, without control characters."),
])
def test_invalid_additions_are_refused_and_nothing_is_written(app: Flask, make_user: Any, login_as: Any,
                                                              data: dict[str, str], field: str, message: str) -> None:
    client = login_as(app.test_client(), make_user("secretariat", None))
    response = post_form(client, "/countries/new", {**data, "status": "subscribing"}, page="/countries/new")
    assert response.status_code == 200
    assert f'id="{field}-error"><span class="visually-hidden">Error:</span> {message}</p>' in response.get_data(as_text=True)
    assert country_count(app) == 24
    assert register_audit(app) == []


def test_renaming_onto_another_state_is_refused(app: Flask, make_user: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("admin", None))
    response = post_form(client, "/countries/NO/edit", {"name": "Denmark", "status": "subscribing"}, page="/countries/NO/edit")
    assert response.status_code == 200
    assert 'id="name-error"><span class="visually-hidden">Error:</span> Denmark is already in the register.</p>' in \
        response.get_data(as_text=True)
    assert directory_rows(client)["NO"] == ("Norway", "subscribing")
    assert register_audit(app) == []
