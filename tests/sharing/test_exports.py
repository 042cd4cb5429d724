"""Denial exports are marked wherever they go: the file name and the first line carry the
strictest marking inside; fields read as on the page (labels and names, every party field)."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Flask

from tests.sharing import helpers

PARTY = {"role": "broker", "name": "Quillfeather Trading", "aliases": ["QF Trading", "Quill"],
         "address": "12 Harbour Road, Yangon", "country": "MM"}


def _export(app: Flask, login_as: Any, account: Any, fmt: str) -> Any:
    client = login_as(app.test_client(), account)
    response = client.get(f"/denials/export.{fmt}")
    assert response.status_code == 200
    return response


def test_export_carries_the_highest_marking_in_name_and_first_line(app: Flask, make_user: Any,
                                                                    login_as: Any) -> None:
    spoc, viewer = make_user("spoc", "DK"), make_user("officer", "NO")
    helpers.make_item(app, spoc, "denial", tlp="GREEN", parties=[PARTY])
    response = _export(app, login_as, viewer, "csv")
    assert 'filename="echri-denials_TLP-GREEN.csv"' in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).splitlines()[0] == "TLP:GREEN"

    helpers.make_item(app, spoc, "denial", tlp="AMBER+STRICT")
    helpers.make_item(app, spoc, "denial", tlp="AMBER")
    for fmt in ("csv", "json"):
        response = _export(app, login_as, viewer, fmt)
        assert f'filename="echri-denials_TLP-AMBER-STRICT.{fmt}"' in response.headers["Content-Disposition"]
        assert "TLP:AMBER+STRICT" in response.get_data(as_text=True).splitlines()[0]
    exported = json.loads(_export(app, login_as, viewer, "json").get_data(as_text=True))
    assert exported["marking"] == "TLP:AMBER+STRICT" and len(exported["denials"]) == 3
    # A printed list is marked the same way: its pages carry the strictest marking it shows.
    client = login_as(app.test_client(), viewer)
    assert '<body class="print-tlp-amber-strict">' in client.get("/denials/").get_data(as_text=True)
    assert '<body class="print-tlp-green">' in client.get("/denials/?tlp=GREEN").get_data(as_text=True)
    assert "<body>" in client.get("/documents/").get_data(as_text=True)  # nothing listed, nothing to mark


def test_export_shows_labels_names_and_every_party_field(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc, viewer = make_user("spoc", "DK"), make_user("officer", "NO")
    helpers.make_item(app, spoc, "denial", tlp="GREEN", parties=[PARTY], destination="MM")
    rows = list(csv.reader(io.StringIO(_export(app, login_as, viewer, "csv").get_data(as_text=True))))
    assert rows[0] == ["TLP:GREEN"]
    record = dict(zip(rows[1], rows[2], strict=True))
    assert record["Marking"] == "TLP:GREEN" and record["Originating state"] == "Denmark"
    assert (record["Decision"], record["Activity"], record["Basis"]) == ("Denial", "Export", "Listed item")
    assert record["Destination"] == "Myanmar" and record["Date of decision"] == "2 March 2026"
    assert record["Reasons"] == "Internal repression"
    assert record["Parties"] == ("Broker: Quillfeather Trading; also known as QF Trading, Quill; "
                                 "address 12 Harbour Road, Yangon; country Myanmar")
    assert "listed_item" not in rows[2] and "internal_repression" not in ";".join(rows[2])

    denial = json.loads(_export(app, login_as, viewer, "json").get_data(as_text=True))["denials"][0]
    assert denial["destination"] == "MM"  # the codes national systems use stay
    assert denial["labels"]["destination"] == "Myanmar"
    assert denial["labels"]["parties"] == [{**PARTY, "role": "Broker", "country": "Myanmar"}]


def test_pages_show_countries_by_name_and_labels(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "DK")
    item_id = helpers.make_item(app, spoc, "denial", tlp="GREEN", parties=[PARTY], destination="MM")
    client = login_as(app.test_client(), make_user("officer", "NO"))
    for suffix in ("", "/versions/1"):
        html = client.get(helpers.item_url("denial", item_id, suffix)).get_data(as_text=True)
        assert "Myanmar" in html and "2 March 2026" in html, suffix
        assert ">MM<" not in html and "listed_item" not in html and '"MM"' not in html, suffix
        assert "Broker" in html and "12 Harbour Road, Yangon" in html, suffix
