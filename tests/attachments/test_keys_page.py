"""/keys: a page for people (versions, status, fingerprints as the README's OpenSSL check prints
them, rotation dates) and JSON for machines, by content negotiation. Both databases."""
from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
from flask import Flask

from portal.models import Role
from tests.attachments.conftest import pdf_bytes

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_keys_page_for_people_json_for_machines(app: Flask, make_user: Any, login_as: Any, make_item: Any,
                                                store: Any, tmp_path: Any) -> None:
    store(make_item(countries=["NO"]), pdf_bytes())
    with app.app_context():
        from portal.extensions import db
        from portal.keys import service
        service.rotate_owner(db.session, "DK")
        db.session.remove()
    client = login_as(app.test_client(), make_user(Role.ADMIN, None))

    data = client.get("/keys", headers={"Accept": "application/json"})
    assert data.mimetype == "application/json" and "Accept" in data.headers.get("Vary", "")
    keys = data.get_json()["keys"]
    assert client.get("/keys").mimetype == "application/json"  # no preference: machines keep JSON

    page = client.get("/keys", headers={"Accept": BROWSER_ACCEPT})
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<h1>Keys</h1>" in html
    signing = [k for k in keys if k["owner"] == "DK" and k["purpose"] == "signing"]
    assert [k["version"] for k in signing] == [2, 1]
    for key in signing:
        row = re.search(rf'<tr data-owner="DK" data-purpose="signing" data-version="{key["version"]}">(.*?)</tr>',
                        html, re.S)
        assert row is not None
        cells = row.group(1)
        assert key["fingerprint"].replace(":", "") in cells
        assert ("Retired" if key["version"] == 1 else "Active") in cells
        assert key["created_at"][:10] in cells
    retired = next(k for k in signing if k["version"] == 1)
    assert retired["retired_at"] and retired["retired_at"][:10] in html

    # The README's check, with stock OpenSSL, prints exactly the hex on the page.
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    pem = tmp_path / "signer.pem"
    pem.write_text(next(k for k in signing if k["version"] == 2)["public_key_pem"])
    out = subprocess.run(f"openssl pkey -pubin -in {pem} -outform DER | tail -c 32 | openssl dgst -sha256",
                         shell=True, check=True, capture_output=True, text=True).stdout
    digest = out.strip().rsplit(" ", 1)[-1]
    assert f'<code class="fingerprint">{digest}</code>' in html


def test_the_navigation_links_the_keys_page_for_admins(app: Flask, make_user: Any, login_as: Any) -> None:
    nav = re.compile(r'<a[^>]*href="/keys"[^>]*>\s*Keys\s*</a>')
    admin = login_as(app.test_client(), make_user(Role.ADMIN, None))
    assert nav.search(admin.get("/").get_data(as_text=True))
    officer = login_as(app.test_client(), make_user(Role.OFFICER, "DK"))
    assert not nav.search(officer.get("/").get_data(as_text=True))
