"""After a withdrawal the audience keeps only the notice: the files close to it (page, download,
signature bundle), while the originating state keeps reading its own. SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

from flask import Flask

from portal.models import Role
from tests.attachments.conftest import pdf_bytes, wrap_owners
from tests.conftest import csrf_token
from tests.sharing import helpers


def can_open(client: Any, attachment_id: Any, data: bytes) -> bool:
    """Download and signature bundle both answer, with the file's own bytes; or both are 404."""
    download = client.get(f"/attachments/{attachment_id}")
    bundle = client.get(f"/attachments/{attachment_id}/signature")
    if download.status_code == 404 and bundle.status_code == 404:
        return False
    assert (download.status_code, bundle.status_code) == (200, 200)
    assert download.get_data() == data and bundle.headers["Content-Type"] == "application/zip"
    return True


def test_withdrawal_closes_the_files_to_the_audience_not_the_originator(
        app: Flask, make_user: Any, login_as: Any, spoc: Any, make_item: Any, store: Any) -> None:
    item_id = make_item(countries=["NO", "FR"])
    data = pdf_bytes(70_000)
    attachment_id = store(item_id, data, "Field report.pdf")
    originator = login_as(app.test_client(), spoc)
    dk_officer = login_as(app.test_client(), make_user(Role.OFFICER, "DK"))
    no_officer = login_as(app.test_client(), make_user(Role.OFFICER, "NO"))
    fr_reader = login_as(app.test_client(), make_user(Role.READER, "FR"))
    for client in (originator, dk_officer, no_officer, fr_reader):
        assert can_open(client, attachment_id, data)

    response = originator.post(f"/threat-notices/{item_id}/withdraw",
                               data={"csrf_token": csrf_token(originator), "reason": "Source retracted."})
    assert response.status_code == 302

    for client in (no_officer, fr_reader):
        assert not can_open(client, attachment_id, data)
        page = client.get(f"/threat-notices/{item_id}")
        assert page.status_code == 200 and "Source retracted." in page.get_data(as_text=True)  # the notice stays
        assert f"/attachments/{attachment_id}" not in page.get_data(as_text=True)
    # The wraps are untouched (the audience did not change): only the access rule stands in the way.
    assert wrap_owners(app, attachment_id) == {"DK", "NO", "FR"}

    for client in (originator, dk_officer):
        assert can_open(client, attachment_id, data)


def test_secretariat_keeps_the_files_of_its_withdrawn_document(app: Flask, make_user: Any, login_as: Any,
                                                               store: Any) -> None:
    secretariat = make_user(Role.SECRETARIAT, None)
    doc_id = helpers.make_item(app, secretariat, "document", audience=helpers.audience(all_subscribing=True))
    data = pdf_bytes(5000)
    attachment_id = store(doc_id, data, "Guide.pdf", actor=secretariat)
    sec = login_as(app.test_client(), secretariat)
    no_spoc = login_as(app.test_client(), make_user(Role.SPOC, "NO"))
    assert can_open(sec, attachment_id, data) and can_open(no_spoc, attachment_id, data)

    response = sec.post(f"/documents/{doc_id}/withdraw", data={"csrf_token": csrf_token(sec), "reason": "Superseded."})
    assert response.status_code == 302
    assert not can_open(no_spoc, attachment_id, data)
    assert can_open(sec, attachment_id, data)
