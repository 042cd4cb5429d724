"""Wraps follow the audience: narrowing deletes them, widening adds them, in the same transaction."""
from __future__ import annotations

from typing import Any

from flask import Flask

from portal.attachments.download import NoWrapForOwner
from portal.attachments.service import sync_wraps
from portal.extensions import db
from portal.models import Item, ItemKind, Role, User
from portal.sharing import service as sharing
from tests.attachments.conftest import decrypt_as_owner, pdf_bytes, threat_payload, wrap_owners


def _change_audience(app: Flask, account: Any, item_id: Any, **payload: Any) -> None:
    """Amend the published item with a new audience: the sharing service re-syncs the wraps itself."""
    with app.app_context():
        actor = db.session.get(User, account.id)
        item = db.session.get(Item, item_id)
        sharing.amend(db.session, actor, item, threat_payload(**payload), "Audience changed")
        db.session.remove()


def test_narrowing_the_audience_deletes_wraps(app: Flask, spoc: Any, make_user: Any, login_as: Any,
                                              make_item: Any, store: Any) -> None:
    item_id = make_item(countries=["NO", "FR"])
    data = pdf_bytes()
    attachment_id = store(item_id, data)
    assert wrap_owners(app, attachment_id) == {"DK", "NO", "FR"}
    _change_audience(app, spoc, item_id, countries=["NO"])
    assert wrap_owners(app, attachment_id) == {"DK", "NO"}
    try:
        decrypt_as_owner(app, attachment_id, "FR")
    except NoWrapForOwner:
        pass
    else:
        raise AssertionError("France can still decrypt")
    french = app.test_client()
    login_as(french, make_user(Role.OFFICER, "FR"))
    assert french.get(f"/attachments/{attachment_id}").status_code == 404
    assert decrypt_as_owner(app, attachment_id, "NO") == data


def test_widening_the_audience_releases_only_later_files(app: Flask, spoc: Any, make_user: Any, login_as: Any,
                                                         make_item: Any, store: Any) -> None:
    """A file is released with the version it was attached under (DESIGN: history is released too):
    states added by a later amendment get no wrap of it; files attached after the change reach them."""
    item_id = make_item(countries=["NO"])
    earlier = store(item_id, pdf_bytes())
    _change_audience(app, spoc, item_id, countries=["NO", "FI"], secretariat=True)
    assert wrap_owners(app, earlier) == {"DK", "NO"}
    data = pdf_bytes()
    later = store(item_id, data)
    assert wrap_owners(app, later) == {"DK", "NO", "FI", "SECRETARIAT"}
    finnish = app.test_client()
    login_as(finnish, make_user(Role.READER, "FI"))
    assert finnish.get(f"/attachments/{earlier}").status_code == 404
    assert finnish.get(f"/attachments/{later}").get_data() == data
    assert wrap_owners(app, earlier) == {"DK", "NO"}  # the refused download added no wrap either


def test_all_subscribing_reaches_every_subscribing_state(app: Flask, spoc: Any, make_item: Any, store: Any) -> None:
    from sqlalchemy import select

    from portal.models import Country, CountryStatus

    item_id = make_item(countries=[], all_subscribing=True)
    attachment_id = store(item_id, pdf_bytes())
    with app.app_context():
        subscribing = set(db.session.scalars(select(Country.code).where(Country.status == CountryStatus.SUBSCRIBING)))
        db.session.remove()
    assert wrap_owners(app, attachment_id) == subscribing
    _change_audience(app, spoc, item_id, countries=["NO"], all_subscribing=False)
    assert wrap_owners(app, attachment_id) == {"DK", "NO"}


def test_sync_rolls_back_with_the_transaction(app: Flask, make_item: Any, store: Any) -> None:
    item_id = make_item(countries=["NO", "FR"])
    attachment_id = store(item_id, pdf_bytes())
    with app.app_context():
        item = db.session.get(Item, item_id)
        item.audience_countries = [a for a in item.audience_countries if a.country_code == "NO"]
        changes = sync_wraps(db.session, item)
        assert changes.removed == [(str(attachment_id), "FR")]
        db.session.rollback()
        db.session.remove()
    assert wrap_owners(app, attachment_id) == {"DK", "NO", "FR"}


def test_new_subscribing_state_gets_its_wrap_on_first_download(app: Flask, make_user: Any, login_as: Any,
                                                               make_item: Any, store: Any) -> None:
    """A state that joins after the file was shared with all subscribing states can still read it."""
    from portal.countries import service as countries
    from portal.models import CountryStatus

    item_id = make_item(countries=[], all_subscribing=True)
    data = pdf_bytes()
    attachment_id = store(item_id, data)
    admin = make_user(Role.ADMIN, None)
    with app.app_context():
        countries.add_country(db.session, db.session.get(User, admin.id), code="CR", name="Costa Rica",
                              status=CountryStatus.SUBSCRIBING, endorsed_on=None)
        db.session.remove()
    assert "CR" not in wrap_owners(app, attachment_id)
    client = app.test_client()
    login_as(client, make_user(Role.OFFICER, "CR"))
    assert client.get(f"/attachments/{attachment_id}").get_data() == data
    assert "CR" in wrap_owners(app, attachment_id)


def test_draft_attachments_are_wrapped_for_the_declared_audience(app: Flask, make_user: Any, login_as: Any,
                                                                 make_item: Any, store: Any) -> None:
    item_id = make_item(countries=["NO"], publish=False)
    attachment_id = store(item_id, pdf_bytes())
    norwegian = app.test_client()
    login_as(norwegian, make_user(Role.SPOC, "NO"))
    assert norwegian.get(f"/attachments/{attachment_id}").status_code == 404  # a draft: DK only
    with app.app_context():
        item = db.session.get(Item, item_id)
        actor = db.session.get(User, make_user(Role.SPOC, "DK").id)
        sharing.publish(db.session, actor, item)
        db.session.remove()
    assert norwegian.get(f"/attachments/{attachment_id}").status_code == 200


def test_secretariat_documents_are_signed_by_the_secretariat(app: Flask, make_user: Any, login_as: Any) -> None:
    import io

    from portal.attachments.service import store_attachment

    secretariat = make_user(Role.SECRETARIAT, None)
    payload = {"title": "Good practice in end-use checks", "summary": "Summary", "body": "Body", "tlp": "GREEN",
               "audience": {"all_subscribing": True, "countries": [], "secretariat": True, "observers": False},
               "category": "due_diligence"}
    with app.app_context():
        actor = db.session.get(User, secretariat.id)
        try:
            item = sharing.create_draft(db.session, actor, ItemKind.DOCUMENT, payload)
        except Exception as error:  # the document payload belongs to the sharing schema
            raise AssertionError(f"document payload refused: {error}") from error
        attachment = store_attachment(db.session, actor, item, "guide.pdf", io.BytesIO(pdf_bytes()))
        assert attachment.signer_owner == "SECRETARIAT"
        attachment_id = attachment.id
        db.session.remove()
    client = app.test_client()
    login_as(client, secretariat)
    assert client.get(f"/attachments/{attachment_id}").status_code == 200


def test_a_state_that_becomes_an_observer_loses_its_wrap(app: Flask, make_user: Any, make_item: Any,
                                                         store: Any) -> None:
    from portal.countries import service as countries
    from portal.models import Country, CountryStatus

    item_id = make_item(countries=[], all_subscribing=True)
    attachment_id = store(item_id, pdf_bytes())
    assert "FR" in wrap_owners(app, attachment_id)
    admin = make_user(Role.ADMIN, None)
    with app.app_context():
        france = db.session.get(Country, "FR")
        countries.update_country(db.session, db.session.get(User, admin.id), france, name="France",
                                 status=CountryStatus.OBSERVER, endorsed_on=None)
        db.session.remove()
    assert "FR" in wrap_owners(app, attachment_id)  # the request does not walk every file...
    result = app.test_cli_runner().invoke(args=["outbox", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "FR" not in wrap_owners(app, attachment_id)  # ...the worker does: AMBER never reaches observers, not even as a key
    with app.app_context():
        assert db.session.get(Country, "FR").wraps_stale_since is None
