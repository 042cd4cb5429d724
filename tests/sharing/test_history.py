"""History is released too (security review, finding 1), and named audiences are the originator's
to know (finding 8). On SQLite and PostgreSQL.

A version, its events and change notes, and the files attached under it are shown only to whom
that version was released: its own marking and its own audience at the time. Lowering (or
widening) an item's marking later never opens its earlier versions.
"""
from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Flask

from portal.attachments import service as attachments
from portal.extensions import db
from portal.meetings import agenda as agenda_service
from portal.meetings import service as meetings
from portal.models import Item
from portal.sharing import service
from tests.attachments.conftest import pdf_bytes, wrap_owners
from tests.sharing import helpers
from tests.sharing.helpers import api_url, bearer, item_url


def amend(app: Flask, author: Any, item_id: uuid.UUID, kind: str = "threat_notice", note: str = "Lowered",
          **overrides: Any) -> None:
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item is not None
        service.amend(db.session, helpers.user(author), item, helpers.payload_for(kind, **overrides), note)
        db.session.remove()


def attach(app: Flask, author: Any, item_id: uuid.UUID, data: bytes) -> uuid.UUID:
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item is not None
        attachment = attachments.store_attachment(db.session, helpers.user(author), item, "file.pdf", io.BytesIO(data))
        attachment_id = attachment.id
        db.session.remove()
    return attachment_id


def signed_in(app: Flask, login_as: Any, account: Any) -> Any:
    return login_as(app.test_client(), account)


def test_amber_to_green_with_observers_keeps_version_1_from_observers(
        app: Flask, make_user: Any, login_as: Any, observer_state: str, token_for: Any) -> None:
    dk = make_user("spoc", "DK")
    v1, v2 = helpers.unique_word(), helpers.unique_word()
    item_id = helpers.make_item(app, dk, "threat_notice", body=f"Amber body {v1}", tlp="AMBER",
                                audience=helpers.audience(all_subscribing=True))
    amend(app, dk, item_id, body=f"Green body {v2}", tlp="GREEN", note=f"Lowered {v2}",
          audience=helpers.audience(all_subscribing=True, observers=True))

    observer = make_user("officer", observer_state)
    client = signed_in(app, login_as, observer)
    page = client.get(item_url("threat_notice", item_id))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert v2 in html and v1 not in html
    assert item_url("threat_notice", item_id, "/versions/2") in html
    assert item_url("threat_notice", item_id, "/versions/1") not in html
    assert "(version 1)" not in html  # the published event of version 1 is not theirs either
    assert client.get(item_url("threat_notice", item_id, "/versions/1")).status_code == 404
    assert client.get(item_url("threat_notice", item_id, "/versions/2")).status_code == 200
    # The API has no version endpoint; its item record is the current (GREEN) version.
    record = client.get(api_url("threat_notice", item_id), headers=bearer(token_for(observer))).get_json()
    assert v2 in record["body"] and v1 not in record["body"]

    # A subscribing state had both versions released to it.
    no = signed_in(app, login_as, make_user("reader", "NO"))
    assert no.get(item_url("threat_notice", item_id, "/versions/1")).status_code == 200
    assert item_url("threat_notice", item_id, "/versions/1") in no.get(item_url("threat_notice", item_id)).get_data(
        as_text=True)


def test_red_to_amber_for_all_keeps_version_1_for_its_named_recipients(app: Flask, make_user: Any,
                                                                        login_as: Any) -> None:
    dk = make_user("spoc", "DK")
    secret = helpers.unique_word()
    item_id = helpers.make_item(app, dk, "denial", body=f"Red body {secret}", tlp="RED",
                                audience=helpers.audience(countries=["NO"]))
    with app.app_context():  # a reason recorded under version 1 (RED) belongs to version 1
        item = db.session.get(Item, item_id)
        assert item is not None
        service.revoke_denial(db.session, helpers.user(dk), item, f"Revoked because {secret}")
        db.session.remove()
    amend(app, dk, item_id, "denial", body="Amber body", tlp="AMBER", audience=helpers.audience(all_subscribing=True),
          national_ref=helpers.load_item(app, item_id).national_ref)

    no_reader = signed_in(app, login_as, make_user("reader", "NO"))
    assert no_reader.get(item_url("denial", item_id)).status_code == 200
    assert no_reader.get(item_url("denial", item_id, "/versions/1")).status_code == 404
    assert no_reader.get(item_url("denial", item_id, "/versions/2")).status_code == 200
    html = no_reader.get(item_url("denial", item_id)).get_data(as_text=True)
    assert secret not in html and item_url("denial", item_id, "/versions/1") not in html

    de_officer = signed_in(app, login_as, make_user("officer", "DE"))
    assert de_officer.get(item_url("denial", item_id, "/versions/1")).status_code == 404
    assert de_officer.get(item_url("denial", item_id, "/versions/2")).status_code == 200
    html = de_officer.get(item_url("denial", item_id)).get_data(as_text=True)
    assert secret not in html and "Revoked" not in html
    assert item_url("denial", item_id, "/versions/2") in html
    assert item_url("denial", item_id, "/versions/1") not in html

    no_officer = signed_in(app, login_as, make_user("officer", "NO"))
    assert no_officer.get(item_url("denial", item_id, "/versions/1")).status_code == 200
    assert secret in no_officer.get(item_url("denial", item_id)).get_data(as_text=True)


def test_a_file_attached_under_red_stays_red_after_lowering(app: Flask, make_user: Any, login_as: Any) -> None:
    dk = make_user("spoc", "DK")
    item_id = helpers.make_item(app, dk, "threat_notice", tlp="RED", audience=helpers.audience(countries=["NO"]))
    red_data = pdf_bytes()
    red_file = attach(app, dk, item_id, red_data)
    amend(app, dk, item_id, tlp="AMBER", audience=helpers.audience(all_subscribing=True))
    amber_data = pdf_bytes()
    amber_file = attach(app, dk, item_id, amber_data)

    assert wrap_owners(app, red_file) == {"DK", "NO"}  # no key for DE was ever made
    for role, code, red_ok in (("reader", "NO", False), ("officer", "DE", False), ("reader", "DE", False),
                               ("officer", "NO", True)):
        client = signed_in(app, login_as, make_user(role, code))
        html = client.get(item_url("threat_notice", item_id)).get_data(as_text=True)
        assert (f"/attachments/{red_file}" in html) is red_ok, (role, code)
        response = client.get(f"/attachments/{red_file}")
        assert response.status_code == (200 if red_ok else 404), (role, code)
        assert client.get(f"/attachments/{red_file}/signature").status_code == (200 if red_ok else 404)
        assert client.get(f"/attachments/{amber_file}").get_data() == amber_data, (role, code)
    assert wrap_owners(app, red_file) == {"DK", "NO"}


def test_lowering_never_opens_earlier_versions_to_the_secretariat(app: Flask, make_user: Any, login_as: Any) -> None:
    dk = make_user("spoc", "DK")
    item_id = helpers.make_item(app, dk, "threat_notice", tlp="AMBER", audience=helpers.audience(countries=["NO"]))
    amend(app, dk, item_id, tlp="GREEN", audience=helpers.audience(all_subscribing=True, secretariat=True))
    sec = signed_in(app, login_as, make_user("secretariat", None))
    assert sec.get(item_url("threat_notice", item_id, "/versions/1")).status_code == 404
    assert sec.get(item_url("threat_notice", item_id, "/versions/2")).status_code == 200


def test_agenda_versions_go_to_the_states_invited_when_published(app: Flask, make_user: Any, login_as: Any) -> None:
    from tests.meetings.conftest import payload as meeting_payload

    sec = make_user("secretariat", None)
    with app.app_context():
        actor = helpers.user(sec)
        meeting = meetings.create_meeting(db.session, actor, meeting_payload(invite_all_subscribing=False,
                                                                             states=["NO"]))
        agenda_service.add_item(db.session, actor, meeting, {"title": "Confidential first point"})
        meetings.announce(db.session, actor, meeting)  # agenda version 1, to NO
        meetings.update_meeting(db.session, actor, meeting, meeting_payload(invite_all_subscribing=False,
                                                                            states=["NO", "DE"]))
        meeting_id = meeting.id
        db.session.remove()
    de = signed_in(app, login_as, make_user("spoc", "DE"))
    no = signed_in(app, login_as, make_user("spoc", "NO"))
    url = f"/meetings/{meeting_id}/agenda/versions"
    # The latest published agenda is the meeting's agenda, for every state invited now.
    assert de.get(f"{url}/1").status_code == 200
    with app.app_context():
        actor = helpers.user(sec)
        meeting = meetings.get_visible_meeting(db.session, actor, meeting_id)
        agenda_service.add_item(db.session, actor, meeting, {"title": "Second point"})
        agenda_service.publish(db.session, actor, meeting)  # version 2, to NO and DE
        db.session.remove()
    assert de.get(f"{url}/1").status_code == 404
    assert de.get(f"{url}/2").status_code == 200
    assert f"{url}/1" not in de.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert no.get(f"{url}/1").status_code == 200
    assert f"{url}/1" in no.get(f"/meetings/{meeting_id}").get_data(as_text=True)


# --- finding 8: the named audience ---------------------------------------------------------

def test_recipients_do_not_see_the_other_named_recipients(app: Flask, make_user: Any, login_as: Any,
                                                          token_for: Any) -> None:
    dk = make_user("spoc", "DK")
    no_officer, dk_reader = make_user("officer", "NO"), make_user("reader", "DK")
    for tlp, others_listed in (("RED", False), ("AMBER+STRICT", False), ("AMBER", False), ("GREEN", True)):
        item_id = helpers.make_item(app, dk, "denial", tlp=tlp, audience=helpers.audience(countries=["NO", "FR"]))
        for account, listed in ((no_officer, others_listed), (dk, True), (dk_reader, tlp != "RED")):
            if account is dk_reader and tlp == "RED":
                continue  # readers do not see RED at all
            html = signed_in(app, login_as, account).get(item_url("denial", item_id)).get_data(as_text=True)
            assert ("France" in html) is listed, (tlp, account.role)
            assert ("named states" in html) is (not listed), (tlp, account.role)
            record = app.test_client().get(api_url("denial", item_id), headers=bearer(token_for(account))).get_json()
            assert record["audience"]["countries"] == (["FR", "NO"] if listed else None), (tlp, account.role)
        if tlp in ("AMBER", "AMBER+STRICT", "GREEN"):
            export = signed_in(app, login_as, no_officer).get("/denials/export.json").get_json()
            mine = [d for d in export["denials"] if d["id"] == str(item_id)]
            assert mine and mine[0]["audience"]["countries"] == (["FR", "NO"] if others_listed else None)
