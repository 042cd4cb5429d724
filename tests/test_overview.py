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
