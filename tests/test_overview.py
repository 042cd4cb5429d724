"""The activity overview: counts only (never titles), as SVG charts with their data tables and
CSV downloads; the secretariat sees what was shared with it plus every state's participation, a
SPOC their own state's; nobody else sees it. Both databases."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

from flask import Flask

from portal.models.base import utcnow
from tests.sharing import helpers


def _row(html: str, section: str, label: str) -> list[str]:
    part = html.split(f'id="{section}-heading"', 1)[1].split("</section>", 1)[0]
    found = re.search(rf'<tr><th scope="row">{re.escape(label)}</th>(.*?)</tr>', part)
    assert found is not None, (section, label, part[:1500])
    return re.findall(r"<td>([^<]*)</td>", found.group(1))


def test_overview_for_the_secretariat_and_a_spoc(app: Flask, make_user: Any, login_as: Any) -> None:
    dk, no = make_user("spoc", "DK"), make_user("officer", "NO")
    sec = make_user("secretariat", None)
    secret_title = helpers.unique_word("secret")
    shared = helpers.make_item(app, dk, "threat_notice", tlp="AMBER", title=f"Shared {secret_title}",
                               audience=helpers.audience(all_subscribing=True, secretariat=True))
    helpers.make_item(app, dk, "denial", tlp="RED", title=f"Red {secret_title}",
                      audience=helpers.audience(countries=["NO"]))
    login_as(app.test_client(), no).get(helpers.item_url("threat_notice", shared))  # Norway opens one
    month = utcnow().strftime("%Y-%m")

    page = login_as(app.test_client(), sec).get("/overview")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert secret_title not in html
    assert html.count("<svg") == 3 and "Nothing to count yet." in html and 'role="img"' in html and "<script" not in html.split("<main", 1)[1]
    # Items: only what was shared with the secretariat (the RED denial was not).
    assert sum(int(v) for v in _row(html, "items-by-kind", month)) == 1
    assert _row(html, "items-by-marking", month)[[t for t in ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")]
                                                 .index("AMBER")] == "1"
    # Participation is about taking part: Denmark shared two, Norway opened one.
    assert _row(html, "participation", "Denmark") == ["2", "0"]
    assert _row(html, "participation", "Norway") == ["0", "1"]
    response = login_as(app.test_client(), sec).get("/overview/participation.csv")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["State", "Items shared", "Items opened"] and ["Norway", "0", "1"] in rows

    spoc_html = login_as(app.test_client(), dk).get("/overview").get_data(as_text=True)
    assert secret_title not in spoc_html
    assert sum(int(v) for v in _row(spoc_html, "items-by-kind", month)) == 2  # their own state's, RED included
    assert _row(spoc_html, "participation", "Denmark") == ["2", "0"]
    assert "Norway" not in spoc_html.split('id="participation-heading"', 1)[1].split("</section>", 1)[0]
    rows = list(csv.reader(io.StringIO(login_as(app.test_client(), dk).get("/overview/participation.csv")
                                       .get_data(as_text=True))))
    assert [r[0] for r in rows[1:]] == ["Denmark"]

    for account in (make_user("officer", "DK"), make_user("reader", "DK"), make_user("admin", None), no):
        client = login_as(app.test_client(), account)
        assert client.get("/overview").status_code == 404
        assert client.get("/overview/participation.csv").status_code == 404


def test_consultation_response_times(app: Flask, make_user: Any, login_as: Any) -> None:
    from datetime import timedelta

    from portal.consultations import service as consultations
    from portal.extensions import db
    from portal.models import Consultation
    from tests.consultations.conftest import transaction

    dk, fr, fr_spoc = make_user("spoc", "DK"), make_user("officer", "FR"), make_user("spoc", "FR")
    sec = make_user("secretariat", None)
    denial = helpers.make_item(app, dk, "denial", tlp="AMBER", audience=helpers.audience(countries=["FR"]))
    question = helpers.unique_word("question")
    with app.app_context():
        opened = [consultations.open_consultation(db.session, helpers.user(fr),
                                                  transaction(denial, question=f"Still {question}?")).id
                  for _ in range(3)]
        # Denmark answers two of France's three questions: after 2 and after 5 days; one waits.
        for consultation_id, days in zip(opened[:2], (2, 5), strict=True):
            consultation = db.session.get(Consultation, consultation_id)
            assert consultation is not None
            consultations.answer(db.session, helpers.user(dk), consultation,
                                 {"position": "objection", "reasons": "The end user is unchanged."})
            consultation.created_at = consultation.answered_at - timedelta(days=days)  # type: ignore[operator]
        db.session.commit()
        db.session.remove()

    html = login_as(app.test_client(), sec).get("/overview").get_data(as_text=True)
    assert question not in html and "The end user is unchanged." not in html
    assert "median number of days from opening to its answer" in html
    assert _row(html, "consultation-response-times", "Denmark") == ["2", "3.5", "1"]
    assert "France" not in html.split('id="consultation-response-times-heading"', 1)[1].split("</section>", 1)[0]
    response = login_as(app.test_client(), sec).get("/overview/consultation-response-times.csv")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [["Denying state", "Consultations answered", "Median days to answer", "Awaiting an answer"],
                    ["Denmark", "2", "3.5", "1"]]

    # Denmark's SPOC sees their own state's answers; France's SPOC has none to show (France asked).
    assert _row(login_as(app.test_client(), dk).get("/overview").get_data(as_text=True),
                "consultation-response-times", "Denmark") == ["2", "3.5", "1"]
    fr_html = login_as(app.test_client(), fr_spoc).get("/overview").get_data(as_text=True)
    section = fr_html.split('id="consultation-response-times-heading"', 1)[1].split("</section>", 1)[0]
    assert "Nothing to count yet." in section and "Denmark" not in section
    assert login_as(app.test_client(), fr).get("/overview/consultation-response-times.csv").status_code == 404
