"""Screening end to end: the page (typed and CSV), the API, the CLI, kept records and audit,
on SQLite and PostgreSQL. A denial the screener's state may not see never matches anywhere."""
from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import AuditEntry, Item, Screening
from tests.conftest import csrf_token, flash_errors
from tests.screening.conftest import party
from tests.sharing.helpers import api_token, audience, bearer

VISIBLE = "Spetstekhnika Trading LLC"
HIDDEN = "Zolotaya Vershina Holding"
HEADER = "name,aliases,country,address\n"


@pytest.fixture
def world(make_user: Any, publish_denial: Any) -> Any:
    """DK's denial shared with all; NO's TLP:RED denial shared with FR only (DK may not see it)."""
    class World:
        shared = publish_denial([party(VISIBLE, "RU", aliases=["Spetstechnika"]),
                                 party("Spetstekhnika Trading", "RU", role="consignee")], state="DK")
        hidden = publish_denial([party(HIDDEN, "BY"), party(VISIBLE, "RU")], state="NO", tlp="RED",
                                audience=audience(countries=["FR"]))
        spoc = make_user("spoc", "DE")
        officer = make_user("officer", "DE")
        reader = make_user("reader", "DE")
        other = make_user("officer", "FR")
        secretariat = make_user("secretariat", None)
        admin = make_user("admin", None)
    return World


def post_screen(client: FlaskClient, data: dict[str, Any]) -> Any:
    payload = {"csrf_token": csrf_token(client, "/screenings/"), "threshold": "0.8", **data}
    return client.post("/screenings/", data=payload, content_type="multipart/form-data")


def upload(client: FlaskClient, body: bytes, **extra: Any) -> Any:
    return post_screen(client, {"file": (io.BytesIO(body), "parties.csv"), **extra})


def screening_id(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/screenings/")
    return location.rsplit("/", 1)[-1]


def load_screening(app: Flask, sid: str) -> Screening:
    with app.app_context():
        found = db.session.get(Screening, uuid.UUID(sid))
        assert found is not None
        db.session.expunge(found)
        db.session.remove()
    return found


# --- the page -------------------------------------------------------------------------

def test_typed_party_shows_grouped_results_with_explanation(app: Flask, world: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), world.officer)
    page = client.get("/screenings/").get_data(as_text=True)
    assert "Screen parties" in page and 'value="RU">Russian Federation' in page  # the country picker by name
    sid = screening_id(post_screen(client, {"name": "Spetstekhnika Trading", "aliases": "Spetstechnika; STL",
                                            "country": "RU", "address": "Moscow"}))
    html = client.get(f"/screenings/{sid}").get_data(as_text=True)
    assert VISIBLE in html and f"/denials/{world.shared}" in html
    assert "name similarity" in html and "TLP:AMBER" in html
    assert HIDDEN not in html and str(world.hidden) not in html
    kept = load_screening(app, sid)
    assert (kept.party_count, kept.flagged_count, kept.country_code) == (1, 1, "DE")
    assert kept.results[0]["input"]["aliases"] == ["Spetstechnika", "STL"]
    # Both parties of the one denial match: it appears once per matching party.
    assert {m["party"]["role"] for m in kept.results[0]["matches"]} == {"end_user", "consignee"}
    assert kept.match_count == 2


def test_csv_upload_happy_path_and_download(app: Flask, world: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), world.spoc)
    body = (HEADER + f'"{VISIBLE}",STL;Spetstechnika,RU,"Moscow, Lenina 1"\n'
            + "Nobody Like This Name,,FR,\n\n" + f"{HIDDEN},,BY,\n").encode()
    sid = screening_id(upload(client, body))
    kept = load_screening(app, sid)
    assert (kept.party_count, kept.flagged_count, kept.source.value) == (3, 1, "csv")
    response = client.get(f"/screenings/{sid}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["party_number"] for r in rows][:1] == ["1"]
    first = [r for r in rows if r["party_number"] == "1"]
    assert {r["denial_id"] for r in first} == {str(world.shared)}
    assert first[0]["title"] and float(first[0]["score"]) >= 0.8 and first[0]["denial_status"] == "active"
    assert [r["denial_id"] for r in rows if r["party_number"] in ("2", "3")] == ["", ""]  # no match: one row each
    assert str(world.hidden) not in response.get_data(as_text=True)


def test_csv_download_neutralises_formulas(app: Flask, world: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), world.officer)
    sid = screening_id(upload(client, (HEADER + '"=HYPERLINK(""x"")",,,\n').encode()))
    rows = list(csv.reader(io.StringIO(client.get(f"/screenings/{sid}.csv").get_data(as_text=True))))
    assert rows[1][1] == "'=HYPERLINK(\"x\")"


@pytest.mark.parametrize("body, message", [
    (b"nom,alias,pays,adresse\nX,,,\n", "The first row must be the header name,aliases,country,address"),
    ((HEADER + "Acme,,RU,\nBeta,,ZZ,\n").encode(), "Row 3, country: 'ZZ' is not a two-letter ISO country code."),
    ((HEADER + "Acme,,RU,\n,alias only,RU,\n").encode(), "Row 3, name: This field is required."),
    ((HEADER + "Acme,,RU\n").encode(), "Row 2: 3 columns; expected 4"),
    ((HEADER + "Acme,,RU,\n" * 1001).encode(), "Row 1002: at most 1,000 parties per file."),
    ((HEADER + "Acme,,RU,\n").encode("utf-16"), "not UTF-8"),
    (("name,aliases,country,address\nMüller,,DE,\n").encode("latin-1"), "not UTF-8 text (first bad byte on line 2)"),
    (HEADER.encode(), "header but no parties"),
    (b"", "The file is empty"),
    ((HEADER + "Acme,,RU," + "x" * (1024 * 1024) + "\n").encode(), "larger than 1 MiB"),
])
def test_malformed_csv_is_refused_naming_the_row(app: Flask, world: Any, login_as: Any, body: bytes,
                                                   message: str) -> None:
    client = login_as(app.test_client(), world.officer)
    response = upload(client, body)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html.replace("&#39;", "'"), html[:3000]
    with app.app_context():
        assert db.session.scalars(select(Screening)).all() == []
        db.session.remove()


def test_typed_party_without_a_name_is_refused(app: Flask, world: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), world.officer)
    response = post_screen(client, {"name": " ", "country": "RU"})
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)
    response = post_screen(client, {"name": "Acme", "threshold": "1.5"})
    assert response.status_code == 200 and "Some fields need attention." in flash_errors(response)


def test_history_lists_the_states_screenings_with_pagination(app: Flask, world: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), world.officer)
    for _ in range(3):
        screening_id(post_screen(client, {"name": "Spetstekhnika Trading"}))
    other = login_as(app.test_client(), world.other)
    screening_id(post_screen(other, {"name": "Somebody Else"}))
    spoc = login_as(app.test_client(), world.spoc)
    page = spoc.get("/screenings/history?per_page=2").get_data(as_text=True)
    assert page.count("/screenings/") >= 2 and "Page 1 of 2 (3 in all)" in page
    assert "Somebody" not in page


def test_role_matrix_for_the_pages(app: Flask, world: Any, login_as: Any) -> None:
    sid = screening_id(post_screen(login_as(app.test_client(), world.officer), {"name": "Spetstekhnika"}))
    for account in (world.spoc, world.officer):
        client = login_as(app.test_client(), account)
        assert client.get("/screenings/").status_code == 200
        assert client.get("/screenings/history").status_code == 200
        assert client.get(f"/screenings/{sid}").status_code == 200
        assert client.get(f"/screenings/{sid}.csv").status_code == 200
        assert "Screen parties" in client.get("/").get_data(as_text=True)
    for account in (world.reader, world.secretariat, world.admin, world.other):
        client = login_as(app.test_client(), account)
        assert client.get(f"/screenings/{sid}").status_code == 404  # someone else's screening is hidden
        assert client.get(f"/screenings/{sid}.csv").status_code == 404
    for account in (world.reader, world.secretariat, world.admin):
        client = login_as(app.test_client(), account)
        assert client.get("/screenings/").status_code == 403  # the role lacks the action
        assert client.get("/screenings/history").status_code == 403
        assert "Screen parties" not in client.get("/").get_data(as_text=True)
    assert login_as(app.test_client(), world.spoc).get(f"/screenings/{uuid.uuid4()}").status_code == 404


def test_a_match_whose_denial_is_no_longer_shared_is_withheld(app: Flask, world: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), world.officer)
    sid = screening_id(post_screen(client, {"name": VISIBLE}))
    assert str(world.shared) in client.get(f"/screenings/{sid}").get_data(as_text=True)
    # The denying state narrows the audience afterwards: the kept screening no longer shows it.
    with app.app_context():
        db.session.execute(update(Item).where(Item.id == world.shared).values(all_subscribing=False))
        db.session.commit()
        db.session.remove()
    html = client.get(f"/screenings/{sid}").get_data(as_text=True)
    assert str(world.shared) not in html and "Spetstekhnika Trading LLC" not in html.split("</h2>", 2)[-1]
    assert "2 earlier matches concerned denials no longer shared with your state" in html
    assert str(world.shared) not in client.get(f"/screenings/{sid}.csv").get_data(as_text=True)


# --- records and audit ----------------------------------------------------------------

def test_audit_holds_counts_never_screened_names(app: Flask, world: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), world.officer)
    secret = "Quirinius Sandoval-Okonkwo"
    sid = screening_id(post_screen(client, {"name": secret, "aliases": "Q. Sandoval", "address": "Hidden Street 9"}))
    token = api_token(app, world.officer)
    assert client.application.test_client().post(
        "/api/v1/screenings", json={"parties": [{"name": VISIBLE}, {"name": secret}]},
        headers=bearer(token)).status_code == 200
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "screening.run")
                                     .order_by(AuditEntry.id)).all()
        details = [e.details for e in entries]
        db.session.remove()
    assert entries[0].target_id == sid
    assert details[0] == {"source": "page", "parties": 1, "flagged": 0, "matches": 0, "include_inactive": False}
    assert details[1]["parties"] == 2 and details[1]["flagged"] == 1 and details[1]["source"] == "api"
    dumped = json.dumps(details)
    for word in ("Quirinius", "Sandoval", "Hidden Street", "Spetstekhnika"):
        assert word not in dumped


# --- the API --------------------------------------------------------------------------

def api(app: Flask, account: Any, body: Any) -> Any:
    return app.test_client().post("/api/v1/screenings", json=body, headers=bearer(api_token(app, account)))


def test_api_contract(app: Flask, world: Any, publish_denial: Any) -> None:
    revoked = publish_denial([party("Spetstekhnika Trading", "RU")], state="DK")
    from tests.sharing.helpers import user

    with app.app_context():
        from portal.models import Item
        from portal.sharing import service

        item = db.session.get(Item, revoked)
        assert item is not None
        service.revoke_denial(db.session, user(service_spoc(app, item.originator_code)), item, "Court ruling.")
        db.session.remove()
    response = api(app, world.officer, {"parties": [{"name": "Spetstekhnika Trading", "aliases": ["Spetstechnika"],
                                                     "country": "RU", "address": "Moscow"},
                                                    {"name": "Nobody Of That Name"}]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"screening_id", "threshold", "results"}
    assert body["threshold"] == 0.8
    uuid.UUID(body["screening_id"])
    assert [r["index"] for r in body["results"]] == [0, 1] and body["results"][1]["matches"] == []
    matches = body["results"][0]["matches"]
    assert {m["denial_id"] for m in matches} == {str(world.shared)}  # revoked ones only on request
    assert len(matches) == 2  # one per matching party of the denial
    for m in matches:
        assert set(m) == {"denial_id", "title", "originator", "denial_status", "party", "matched_name", "score",
                          "explanation"}
        assert set(m["party"]) == {"role", "name", "country"} and m["originator"] == "DK"
        assert m["denial_status"] == "active" and 0.8 <= m["score"] <= 1
        assert m["explanation"] and all(set(e) == {"feature", "value"} for e in m["explanation"])
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)

    wide = api(app, world.officer, {"parties": [{"name": "Spetstekhnika Trading"}], "threshold": 0.5,
                                    "include_inactive": True}).get_json()
    assert wide["threshold"] == 0.5
    statuses = {m["denial_id"]: m["denial_status"] for m in wide["results"][0]["matches"]}
    assert statuses[str(revoked)] == "revoked" and statuses[str(world.shared)] == "active"
    scores = [m["score"] for m in wide["results"][0]["matches"]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.5


def service_spoc(app: Flask, code: str | None) -> Any:
    from portal.models import Role, User

    account = db.session.scalar(select(User).where(User.role == Role.SPOC, User.country_code == code))
    assert account is not None
    return account


@pytest.mark.parametrize("body, field", [
    ({"parties": []}, "parties"),
    ({}, "parties"),
    ({"parties": [{"aliases": ["x"]}]}, "parties[0].name"),
    ({"parties": [{"name": "  "}]}, "parties[0].name"),
    ({"parties": [{"name": "A"}], "include_inactive": "yes"}, "include_inactive"),
    ({"parties": [{"name": "A"}], "include_inactive": 1}, "include_inactive"),
    ({"parties": [{"name": "A"}], "threshold": "0.8"}, "threshold"),
    ({"parties": [{"name": "A"}], "threshold": 1.5}, "threshold"),
    ({"parties": [{"name": "A"}], "threshold": -0.1}, "threshold"),
    ({"parties": [{"name": "A"}], "threshold": True}, "threshold"),
    ({"parties": [{"name": "A", "country": "Russia"}]}, "parties[0].country"),
    ({"parties": [{"name": "A", "aliases": "B"}]}, "parties[0].aliases"),
    ({"parties": [{"name": f"N{i}"} for i in range(1001)]}, "parties"),
])
def test_api_refuses_invalid_requests_with_422(app: Flask, world: Any, body: Any, field: str) -> None:
    response = api(app, world.officer, body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]
    with app.app_context():
        assert db.session.scalars(select(Screening)).all() == []
        db.session.remove()


def test_api_accepts_a_thousand_parties(app: Flask, world: Any) -> None:
    response = api(app, world.officer, {"parties": [{"name": f"Applicant {i}"} for i in range(1000)]})
    assert response.status_code == 200 and len(response.get_json()["results"]) == 1000


def test_api_roles_and_bad_json(app: Flask, world: Any) -> None:
    for account in (world.reader, world.secretariat, world.admin):
        response = api(app, account, {"parties": [{"name": VISIBLE}]})
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert api(app, world.spoc, {"parties": [{"name": VISIBLE}]}).status_code == 200
    client = app.test_client()
    assert client.post("/api/v1/screenings", json={"parties": [{"name": "A"}]}).status_code == 401
    bad = client.post("/api/v1/screenings", data="{", content_type="application/json",
                      headers=bearer(api_token(app, world.officer)))
    assert bad.status_code == 400


def test_hidden_denial_never_matches_in_api_but_does_for_its_audience(app: Flask, world: Any) -> None:
    body = {"parties": [{"name": HIDDEN, "country": "BY"}], "threshold": 0.0, "include_inactive": True}
    body["parties"].append({"name": VISIBLE, "country": "RU"})  # the RED denial has this party too
    results = api(app, world.officer, body).get_json()["results"]
    assert all(m["denial_id"] != str(world.hidden) for r in results for m in r["matches"])
    assert str(world.shared) in {m["denial_id"] for m in results[1]["matches"]}
    seen = api(app, world.other, body).get_json()["results"][0]["matches"]  # FR is in the RED denial's audience
    assert str(world.hidden) in {m["denial_id"] for m in seen}


# --- the CLI --------------------------------------------------------------------------

def cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner(mix_stderr=False).invoke(args=["screen", *args]) if _mix_stderr_supported() \
        else app.test_cli_runner().invoke(args=["screen", *args])


def _mix_stderr_supported() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def test_cli_writes_results_as_csv(app: Flask, world: Any, tmp_path: Any) -> None:
    file = tmp_path / "parties.csv"
    file.write_text(HEADER + f"{VISIBLE},,RU,\n{HIDDEN},,BY,\n", encoding="utf-8")
    result = cli(app, "--as", world.officer.email, str(file))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["denial_id"] for r in rows if r["party_number"] == "1"} == {str(world.shared)}
    assert [r["denial_id"] for r in rows if r["party_number"] == "2"] == [""]
    assert str(world.hidden) not in result.stdout
    strict = cli(app, "--as", world.officer.email, str(file), "--threshold", "1")
    assert strict.exit_code == 0
    with app.app_context():
        kept = db.session.scalars(select(Screening).order_by(Screening.created_at)).all()
        assert [s.source.value for s in kept] == ["cli", "cli"] and kept[1].threshold == 1.0
        db.session.remove()


def test_cli_exit_codes(app: Flask, world: Any, tmp_path: Any) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "Acme,,RU,\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Acme,,XX,\n", encoding="utf-8")
    cases = [
        (["--as", world.officer.email, str(bad)], "Row 2, country"),
        (["--as", world.officer.email, str(tmp_path / "missing.csv")], "cannot read"),
        (["--as", "nobody@echri.example", str(good)], "no active account"),
        (["--as", world.reader.email, str(good)], "may not screen"),
        (["--as", world.secretariat.email, str(good)], "may not screen"),
        (["--as", world.officer.email, str(good), "--threshold", "2"], "threshold"),
    ]
    for args, message in cases:
        result = cli(app, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
        assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_csv_download_keeps_tlp_red_titles_and_names_in_the_portal(app: Flask, world: Any, login_as: Any,
                                                                     publish_denial: Any) -> None:
    red = publish_denial([party("Krasnaya Zvezda Optika", "RU")], state="NO", tlp="RED",
                         audience=audience(countries=["DE"]), title="Red denial of thermal optics")
    client = login_as(app.test_client(), world.officer)
    sid = screening_id(post_screen(client, {"name": "Krasnaya Zvezda Optika"}))
    assert "Red denial of thermal optics" in client.get(f"/screenings/{sid}").get_data(as_text=True)
    text = client.get(f"/screenings/{sid}.csv").get_data(as_text=True)
    [row] = [r for r in csv.DictReader(io.StringIO(text)) if r["denial_id"] == str(red)]
    assert row["tlp"] == "RED" and row["party_name"] == "" and row["matched_name"] == ""
    assert "Red denial" not in text
