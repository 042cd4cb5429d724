"""Who saw what: an item's originating state sees every state in its audience as "opened",
"not yet" or "no active users", the count, and who downloaded which attachment when. Nobody
else sees any of it. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask

from portal.models import Role, UserStatus
from tests.attachments.conftest import pdf_bytes


def _states(page: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-state="([A-Z]+)"><td>[^<]+</td><td><span class="tag [^"]+">([^<]+)</span>', page)
    return dict(rows)


def test_audience_and_download_receipts_for_the_originating_state(
        app: Flask, make_user: Any, login_as: Any, spoc: Any, make_item: Any, store: Any) -> None:
    officer = make_user(Role.OFFICER, "DK")
    no_officer = make_user(Role.OFFICER, "NO", name="Nora Officer")
    fr_reader = make_user(Role.READER, "FR")
    make_user(Role.SECRETARIAT, None)
    # Germany is named but has only a disabled account: nobody there can open it.
    make_user(Role.OFFICER, "DE", status=UserStatus.DISABLED)
    item_id = make_item(publish=False, countries=("NO", "FR", "DE"), tlp="GREEN", secretariat=True)
    attachment_id = store(item_id, pdf_bytes(), "assessment.pdf")
    with app.app_context():
        from portal.extensions import db
        from portal.models import Item
        from portal.sharing import service as sharing
        from tests.attachments.conftest import user
        sharing.publish(db.session, user(spoc), db.session.get(Item, item_id))
        db.session.remove()
    url = f"/threat-notices/{item_id}"

    page = login_as(app.test_client(), spoc).get(url).get_data(as_text=True)
    assert "Who saw it" in page and "Opened by 0 of 4 states" in page
    assert _states(page) == {"NO": "Not yet", "FR": "Not yet", "SECRETARIAT": "Not yet", "DE": "No active users"}
    assert "Nobody has downloaded its attachments yet." in page
    assert page.index("Who saw it") < page.index("Attachments")  # near the top

    norway = login_as(app.test_client(), no_officer)
    norway_page = norway.get(url).get_data(as_text=True)
    assert "Who saw it" not in norway_page and "Opened by" not in norway_page
    assert norway.get(f"/attachments/{attachment_id}").status_code == 200
    login_as(app.test_client(), officer).get(url)  # the originating state's own reads are no receipts

    for account in (spoc, officer):
        page = login_as(app.test_client(), account).get(url).get_data(as_text=True)
        assert "Opened by 1 of 4 states" in page
        assert _states(page) == {"NO": "Opened", "FR": "Not yet", "SECRETARIAT": "Not yet", "DE": "No active users"}
        downloads = page.split("Attachment downloads", 1)[1]
        assert re.search(r"<td>assessment\.pdf</td><td>Norway</td><td>Nora Officer</td><td>\d\d? \w+ 20\d\d", downloads)
    for account in (no_officer, fr_reader):
        assert "Who saw it" not in login_as(app.test_client(), account).get(url).get_data(as_text=True)
