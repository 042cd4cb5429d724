"""Public consultations from call to closed: a SPOC opens a CLEAR call, it is public at once,
responses (confirmed like contact messages) reach that state's inbox (and the secretariat's if
chosen), the call closes, and the state decides whether a summary is published."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import ContactMessage, PublicConsultation
from portal.models.base import utcnow
from portal.public import contact
from tests.conftest import audit_actions, post_form, run_sql
from tests.sharing.helpers import add_observer_state

LINK = re.compile(r"https?://\S+(/public/contact/confirm/\S+)")


def open_call(client: FlaskClient, *, days: int = 20, secretariat: bool = False, title: str = "Input on zqcall") -> Any:
    data: dict[str, Any] = {"title": title, "description": "How do you screen <b>end-users</b>?\nTell us.",
                            "closes_on": (utcnow().date() + timedelta(days=days)).isoformat()}
    if secretariat:
        data["to_secretariat"] = "y"
    return post_form(client, "/public-consultations/new", data, page="/public-consultations/new")


def call_id(app: Flask) -> uuid.UUID:
    with app.app_context():
        found = db.session.scalars(select(PublicConsultation.id)).all()
        db.session.remove()
    assert len(found) == 1
    return found[0]


def respond(client: FlaskClient, cid: uuid.UUID, email: str = "eva@firm.example", text: str = "We zqresponse.") -> Any:
    return post_form(client, f"/public/consultations/{cid}/respond", {
        "organisation_type": "company", "organisation": "Firm AB", "name": "Eva", "email": email,
        "country": "Sweden", "message": text}, page="/public/contact")  # a closed call has no form


def confirm(app: Flask, client: FlaskClient, mailbox: Any, email: str) -> None:
    with app.app_context():
        contact.deliver_mail(db.session)
        db.session.remove()
    match = LINK.search(mailbox.text(mailbox.to(email)[-1]))
    assert match
    assert post_form(client, match.group(1), page=match.group(1)).status_code == 200


@pytest.mark.parametrize("copied", [False, True])
def test_call_to_closed_with_responses_and_summary(app: Flask, mailbox: Any, make_user: Any, login_as: Any,
                                                   copied: bool) -> None:
    dk = login_as(app.test_client(), make_user("spoc", "DK"))
    assert open_call(dk, secretariat=copied).status_code == 303
    cid = call_id(app)
    visitor = app.test_client()
    assert "zqcall" in visitor.get("/public/consultations").get_data(as_text=True)
    page = visitor.get(f"/public/consultations/{cid}").get_data(as_text=True)
    assert "&lt;b&gt;end-users&lt;/b&gt;" in page and "Send response" in page and "Denmark" in page

    assert respond(visitor, cid).status_code == 303
    confirm(app, visitor, mailbox, "eva@firm.example")
    with app.app_context():
        contact.deliver_mail(db.session)
        db.session.remove()
    acknowledgement = mailbox.to("eva@firm.example")[-1]
    assert "Denmark" in mailbox.text(acknowledgement) and "zqresponse" not in mailbox.text(acknowledgement)

    with app.app_context():
        response_id = db.session.scalars(select(ContactMessage.id)).one()
        db.session.remove()
    assert "zqresponse" in dk.get(f"/contact-inbox/{response_id}").get_data(as_text=True)
    secretariat = login_as(app.test_client(), make_user("secretariat", None))
    seen_by_secretariat = secretariat.get(f"/contact-inbox/{response_id}").status_code
    assert seen_by_secretariat == (200 if copied else 404)
    for outsider in (make_user("spoc", "NO"), make_user("officer", "DK"), make_user("admin", None)):
        client = login_as(app.test_client(), outsider)
        assert client.get(f"/contact-inbox/{response_id}").status_code == 404
    # The calling SPOC handles its responses; forwarding is the secretariat's, for messages to the Initiative.
    assert post_form(dk, f"/contact-inbox/{response_id}/handled", page="/contact-inbox/").status_code == 303
    if copied:
        assert post_form(secretariat, f"/contact-inbox/{response_id}/forward", {"country": "DK"},
                         page="/contact-inbox/").status_code == 403

    # No summary while open; the SPOC closes early; responses are refused from then on.
    assert post_form(dk, f"/public-consultations/{cid}/summary", {"summary": "x"},
                     page=f"/public-consultations/{cid}").status_code == 403
    assert post_form(dk, f"/public-consultations/{cid}/close", page=f"/public-consultations/{cid}").status_code == 303
    refused = respond(visitor, cid, email="late@firm.example")
    assert refused.status_code == 400
    with app.app_context():
        assert len(db.session.scalars(select(ContactMessage.id)).all()) == 1
        db.session.remove()
    assert "Send response" not in visitor.get(f"/public/consultations/{cid}").get_data(as_text=True)

    # The state decides to publish a summary: it appears publicly, once.
    assert "zqsummary" not in visitor.get(f"/public/consultations/{cid}").get_data(as_text=True)
    assert post_form(dk, f"/public-consultations/{cid}/summary", {"summary": "Three firms zqsummary."},
                     page=f"/public-consultations/{cid}").status_code == 303
    assert "zqsummary" in visitor.get(f"/public/consultations/{cid}").get_data(as_text=True)
    assert post_form(dk, f"/public-consultations/{cid}/summary", {"summary": "again"},
                     page=f"/public-consultations/{cid}").status_code == 403
    assert audit_actions(app, cid) == ["public_consultation.opened", "public_consultation.closed",
                                       "public_consultation.summary_published"]


def test_closing_date_ends_responses(app: Flask, make_user: Any, login_as: Any) -> None:
    dk = login_as(app.test_client(), make_user("spoc", "DK"))
    open_call(dk)
    cid = call_id(app)
    run_sql(app, update(PublicConsultation).where(PublicConsultation.id == cid)
            .values(closes_on=utcnow().date() - timedelta(days=1)))
    assert respond(app.test_client(), cid).status_code == 400
    # Closed by date: the summary may now be published.
    assert "Publish a summary" in dk.get(f"/public-consultations/{cid}").get_data(as_text=True)


@pytest.mark.parametrize("who", ["officer", "reader", "secretariat", "admin", "observer"])
def test_only_a_subscribing_states_spoc_runs_one(app: Flask, make_user: Any, login_as: Any, who: str) -> None:
    if who == "observer":
        add_observer_state(app, "CR", "Costa Rica")
        account = make_user("spoc", "CR")
    else:
        account = make_user(who, "DK" if who in ("officer", "reader") else None)
    client = login_as(app.test_client(), account)
    assert client.get("/public-consultations/new").status_code == 404
    assert client.post("/public-consultations/new", data={}).status_code in (400, 404)
    with app.app_context():
        assert db.session.scalars(select(PublicConsultation)).all() == []
        db.session.remove()


def test_another_states_spoc_cannot_manage_the_call(app: Flask, make_user: Any, login_as: Any) -> None:
    dk = login_as(app.test_client(), make_user("spoc", "DK"))
    open_call(dk)
    cid = call_id(app)
    no = login_as(app.test_client(), make_user("spoc", "NO"))
    assert no.get(f"/public-consultations/{cid}").status_code == 404
    assert post_form(no, f"/public-consultations/{cid}/close", page="/public-consultations/").status_code == 404


def test_closing_date_must_be_ahead(app: Flask, make_user: Any, login_as: Any) -> None:
    dk = login_as(app.test_client(), make_user("spoc", "DK"))
    assert open_call(dk, days=0).status_code == 200
    assert open_call(dk, days=400).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(PublicConsultation)).all() == []
        db.session.remove()


def test_responses_share_the_contact_form_limits_and_honeypot(app: Flask, make_user: Any, login_as: Any) -> None:
    dk = login_as(app.test_client(), make_user("spoc", "DK"))
    open_call(dk)
    cid = call_id(app)
    app.config.update(CONTACT_EMAIL_RATE_LIMIT="1 per hour")
    visitor = app.test_client()
    trap = post_form(visitor, f"/public/consultations/{cid}/respond", {
        "organisation_type": "company", "organisation": "Bot", "name": "Bot", "email": "bot@spam.example",
        "country": "X", "message": "buy", "website": "http://spam.example"}, page=f"/public/consultations/{cid}")
    assert trap.status_code == 303
    assert respond(visitor, cid).status_code == 303
    assert post_form(visitor, "/public/contact", {
        "organisation_type": "other", "organisation": "Firm AB", "name": "Eva", "email": "eva@firm.example",
        "country": "Sweden", "subject": "Hi", "message": "Hello"}, page="/public/contact").status_code == 429
    assert respond(visitor, cid).status_code == 429
    with app.app_context():
        assert len(db.session.scalars(select(ContactMessage)).all()) == 1
        db.session.remove()
