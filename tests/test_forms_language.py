"""Forms that speak the user's language: one date format, countries by name, "(optional)"
marks, Cancel, specific messages shown once, all password-change problems at once, and a
sign-in refusal that does not talk about a code nobody asked for."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Flask

from portal.auth.service import GENERIC_LOGIN_ERROR
from portal.formats import format_country, format_date, format_datetime
from tests.conftest import PASSWORD, csrf_token, flash_errors, sign_in


def test_one_date_format_and_countries_by_name() -> None:
    assert format_date(date(2026, 11, 30)) == "30 November 2026"
    assert format_date("2026-03-02") == "2 March 2026"
    assert format_date(None) == ""
    assert format_datetime(datetime(2026, 11, 30, 14, 5, tzinfo=UTC)) == "30 November 2026, 14:05 UTC"
    assert format_datetime(datetime(2026, 11, 30, 23, 30)) == "30 November 2026, 23:30 UTC"
    assert (format_country("MM"), format_country("XK"), format_country("")) == ("Myanmar", "Kosovo", "")


def test_pages_declare_british_english(app: Flask, client: Any) -> None:
    assert '<html lang="en-GB">' in client.get("/login").get_data(as_text=True)


def test_the_denial_form_marks_optional_fields_and_offers_cancel(app: Flask, make_user: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("officer", "DK"))
    html = client.get("/denials/new").get_data(as_text=True)
    assert ">Summary (optional)</label>" in html and ">Stated end use (optional)</label>" in html
    assert ">Title</label>" in html and ">Rationale</label>" in html  # needed to publish: not marked
    assert ">Date of decision</label>" in html
    assert '<a class="button secondary" href="/denials/">Cancel</a>' in html
    assert '<option value="MM">Myanmar</option>' in html  # destination and party countries by name
    assert 'name="add_row" value="parties"' in html and "Add another party" in html


def test_wrong_password_message_does_not_mention_a_code(app: Flask, make_user: Any) -> None:
    account = make_user("officer", "DK")
    response = sign_in(app.test_client(), account.email, "not the password")
    assert flash_errors(response) == [GENERIC_LOGIN_ERROR]
    assert "code" not in GENERIC_LOGIN_ERROR
    empty = app.test_client()
    html = empty.post("/login", data={"csrf_token": csrf_token(empty, "/login"), "email": "", "password": ""}
                      ).get_data(as_text=True)
    assert "Enter your e-mail address." in html and "Enter your password." in html
    assert "This field is required" not in html


def test_every_password_change_problem_shows_at_once(app: Flask, make_user: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("officer", "DK"))
    html = client.post("/account/password", data={
        "csrf_token": csrf_token(client, "/account/password"), "current_password": "wrong " + PASSWORD,
        "new_password": "short", "confirm": "different"}).get_data(as_text=True)
    assert "Your current password is not right." in html  # from the service ...
    assert "The two passwords are different." in html  # ... and from the form, together
    assert html.count('class="error-message"') == 3, html  # the policy's refusal of "short" too
    assert '<a class="button secondary" href="/account/">Cancel</a>' in html


def test_errors_name_the_party_as_the_page_numbers_it(app: Flask, make_user: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("officer", "DK"))
    html = client.post("/denials/new", data={
        "csrf_token": csrf_token(client, "/denials/new"), "title": "Parties", "tlp": "AMBER",
        "parties-0-name": "", "parties-1-name": "Acme", "parties-1-country": "QQ"}).get_data(as_text=True)
    # The blank first row is not sent to the service; the message still names the second party.
    message = "Party 2: choose a country from the list (in the API: a two-letter ISO 3166-1 code)."
    assert html.count(message) == 2  # in the summary (linked to the field) and beside the field
    assert 'href="#parties-1-country"' in html and "Party 1:" not in html


def test_a_threat_notice_names_its_states_by_name_and_stores_their_codes(app: Flask, make_user: Any,
                                                                         login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("officer", "DK"))
    form = client.get("/threat-notices/new").get_data(as_text=True)
    assert '<option value="MM">Myanmar</option>' in form and 'name="regions"' in form
    response = client.post("/threat-notices/new", data={
        "csrf_token": csrf_token(client, "/threat-notices/new"), "title": "Regions by name", "tlp": "AMBER",
        "regions": ["MM", "BY"]})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Myanmar, Belarus" in page
