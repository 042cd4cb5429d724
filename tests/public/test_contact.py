""""Contact the Initiative": the form, the address confirmation on the real SMTP server, the
secretariat's inbox, forwarding to a state's point of contact, spam defences and retention."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import ContactMessage, ContactStatus
from portal.models.base import utcnow
from portal.public import contact
from tests.conftest import audit_actions, csrf_token, post_form, run_sql

LINK = re.compile(r"https?://\S+/public/contact/confirm/(\S+)")


def form(**overrides: Any) -> dict[str, Any]:
    data = {"organisation_type": "civil_society", "organisation": "Rights Watchers", "name": "Ada Lovelace",
            "email": "ada@ngo.example", "country": "Ireland", "subject": "Spyware exports zqsubject",
            "message": "Dear secretariat,\n\nWe found zqmessage <b>bold</b> <script>alert(1)</script>.\n"}
    data.update(overrides)
    return data


def send(client: FlaskClient, **overrides: Any) -> Any:
    return post_form(client, "/public/contact", form(**overrides), page="/public/contact")


def messages(app: Flask) -> list[ContactMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(ContactMessage).order_by(ContactMessage.created_at)))
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
    return rows


def deliver(app: Flask) -> int:
    with app.app_context():
        sent = contact.deliver_mail(db.session)
        db.session.remove()
    return sent


def confirm_link(mailbox: Any, address: str) -> str:
    mails = mailbox.to(address)
    assert mails, "no confirmation e-mail"
    match = LINK.search(mailbox.text(mails[-1]))
    assert match
    return f"/public/contact/confirm/{match.group(1)}"


def confirmed_message(app: Flask, client: FlaskClient, mailbox: Any, **overrides: Any) -> uuid.UUID:
    assert send(client, **overrides).status_code == 303
    deliver(app)
    link = confirm_link(mailbox, overrides.get("email", "ada@ngo.example"))
    assert post_form(client, link, page=link).status_code == 200
    return messages(app)[-1].id


def test_contact_flow_with_confirmation_on_the_real_smtp_server(app: Flask, mailbox: Any, make_user: Any,
                                                                login_as: Any) -> None:
    client = app.test_client()
    page = client.get("/public/contact").get_data(as_text=True)
    assert "365 days" in page and "12 months" in page  # the retention period is said on the form
    response = send(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/public/contact/sent")
    [message] = messages(app)
    assert message.status is ContactStatus.UNCONFIRMED
    secretariat = login_as(app.test_client(), make_user("secretariat", None))
    assert "zqsubject" not in secretariat.get("/contact-inbox/").get_data(as_text=True)  # not before confirmation
    assert secretariat.get(f"/contact-inbox/{message.id}").status_code == 404
    assert mailbox.to("ada@ngo.example") == []  # sent by the worker, not the request
    assert deliver(app) == 1
    [confirmation] = mailbox.to("ada@ngo.example")
    body = mailbox.text(confirmation)
    # Nothing the sender typed is repeated: the form cannot mail someone else's words to anyone.
    for typed in ("zqsubject", "zqmessage", "Ada", "Rights Watchers"):
        assert typed not in body and typed not in confirmation["Subject"]
    link = confirm_link(mailbox, "ada@ngo.example")
    # Opening the link (as a mail scanner would) changes nothing; the button does.
    assert client.get(link).status_code == 200
    assert messages(app)[0].status is ContactStatus.UNCONFIRMED
    done = post_form(client, link, page=link)
    assert done.status_code == 200 and "with the secretariat" in done.get_data(as_text=True)
    assert messages(app)[0].status is ContactStatus.OPEN
    assert deliver(app) == 1
    acknowledgement = mailbox.to("ada@ngo.example")[-1]
    assert "received your message" in acknowledgement["Subject"]
    assert "365 days" in mailbox.text(acknowledgement)
    assert deliver(app) == 0  # each e-mail once
    # The link works once.
    assert post_form(client, link, page="/public/contact").status_code == 404
    # Now in the secretariat's inbox, as plain text.
    inbox = secretariat.get("/contact-inbox/").get_data(as_text=True)
    assert "zqsubject" in inbox
    detail = secretariat.get(f"/contact-inbox/{message.id}").get_data(as_text=True)
    assert "zqmessage" in detail and "&lt;script&gt;alert(1)&lt;/script&gt;" in detail and "<b>bold" not in detail
    assert "contact.confirmed" in audit_actions(app, message.id)


def test_bad_and_expired_links_are_refused(app: Flask, mailbox: Any) -> None:
    client = app.test_client()
    send(client)
    [message] = messages(app)
    assert post_form(client, "/public/contact/confirm/not-a-token", page="/public/contact").status_code == 404

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(utcnow().timestamp()) - 49 * 3600  # the link lives 48 hours

    expired = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="contact-confirm", signer=Past).dumps(
        str(message.id))
    assert post_form(client, f"/public/contact/confirm/{expired}", page="/public/contact").status_code == 404
    forged = URLSafeTimedSerializer("another secret", salt="contact-confirm").dumps(str(message.id))
    assert post_form(client, f"/public/contact/confirm/{forged}", page="/public/contact").status_code == 404
    assert messages(app)[0].status is ContactStatus.UNCONFIRMED


def test_honeypot_keeps_nothing(app: Flask, mailbox: Any) -> None:
    client = app.test_client()
    html = client.get("/public/contact").get_data(as_text=True)
    assert re.search(r'aria-hidden="true">\s*<label for="website"', html)
    response = send(client, website="http://spam.example")
    assert response.status_code == 303 and response.headers["Location"].endswith("/public/contact/sent")
    assert messages(app) == []
    assert deliver(app) == 0


def test_size_limits_and_plain_text(app: Flask) -> None:
    client = app.test_client()
    too_long = send(client, message="x" * 5001)
    assert too_long.status_code == 200 and "at most 5000" in too_long.get_data(as_text=True)
    assert send(client, email="not an address").status_code == 200
    assert send(client, subject="line\x07bell").status_code == 200
    assert messages(app) == []
    huge = client.post("/public/contact", data={"csrf_token": csrf_token(client, "/public/contact"),
                                                **form(message="y" * 70_000)})
    assert huge.status_code == 413
    assert messages(app) == []


def test_rate_limit_per_email_address(app: Flask) -> None:
    app.config.update(CONTACT_EMAIL_RATE_LIMIT="2 per hour", CONTACT_ADDRESS_RATE_LIMIT="100 per hour")
    client = app.test_client()
    assert send(client, message="x" * 5001).status_code == 200  # a refused form does not count
    assert send(client).status_code == 303
    assert send(client).status_code == 303
    limited = send(client)
    assert limited.status_code == 429 and "Too many messages" in limited.get_data(as_text=True)
    assert send(client, email="other@ngo.example").status_code == 303
    assert len(messages(app)) == 3


def test_rate_limit_per_network_address(app: Flask) -> None:
    app.config.update(CONTACT_EMAIL_RATE_LIMIT="100 per hour", CONTACT_ADDRESS_RATE_LIMIT="3 per hour")
    client = app.test_client()
    for n in range(3):
        assert send(client, email=f"n{n}@ngo.example").status_code == 303
    assert send(client, email="n9@ngo.example").status_code == 429
    other = app.test_client()
    assert post_form(other, "/public/contact", form(email="far@ngo.example"), page="/public/contact",
                     environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 303


def test_forwarding_to_a_state_spoc(app: Flask, mailbox: Any, make_user: Any, login_as: Any) -> None:
    client = app.test_client()
    message_id = confirmed_message(app, client, mailbox)
    dk_spoc = login_as(app.test_client(), make_user("spoc", "DK"))
    no_spoc = login_as(app.test_client(), make_user("spoc", "NO"))
    dk_officer = login_as(app.test_client(), make_user("officer", "DK"))
    admin = login_as(app.test_client(), make_user("admin", None))
    secretariat = login_as(app.test_client(), make_user("secretariat", None))
    assert dk_spoc.get(f"/contact-inbox/{message_id}").status_code == 404
    assert "zqsubject" not in dk_spoc.get("/contact-inbox/").get_data(as_text=True)
    # Only states with an active point of contact are offered; others are refused.
    page = secretariat.get(f"/contact-inbox/{message_id}").get_data(as_text=True)
    assert 'value="DK"' in page and 'value="FR"' not in page
    refused = post_form(secretariat, f"/contact-inbox/{message_id}/forward", {"country": "FR"},
                        page=f"/contact-inbox/{message_id}")
    assert refused.status_code == 400
    response = post_form(secretariat, f"/contact-inbox/{message_id}/forward", {"country": "DK"},
                         page=f"/contact-inbox/{message_id}")
    assert response.status_code == 303
    assert "zqsubject" in dk_spoc.get("/contact-inbox/").get_data(as_text=True)
    assert "zqmessage" in dk_spoc.get(f"/contact-inbox/{message_id}").get_data(as_text=True)
    for outsider in (no_spoc, dk_officer, admin):
        assert outsider.get(f"/contact-inbox/{message_id}").status_code == 404
        assert "zqsubject" not in outsider.get("/contact-inbox/").get_data(as_text=True)
    # The SPOC reads; handling and deleting are the secretariat's.
    assert post_form(dk_spoc, f"/contact-inbox/{message_id}/handled", page="/contact-inbox/").status_code == 403
    assert post_form(dk_spoc, f"/contact-inbox/{message_id}/delete", page="/contact-inbox/").status_code == 403
    assert "contact.forwarded" in audit_actions(app, message_id)


def test_handled_reopened_deleted(app: Flask, mailbox: Any, make_user: Any, login_as: Any) -> None:
    message_id = confirmed_message(app, app.test_client(), mailbox)
    secretariat = login_as(app.test_client(), make_user("secretariat", None))
    page = f"/contact-inbox/{message_id}"
    assert post_form(secretariat, f"{page}/handled", page=page).status_code == 303
    assert messages(app)[0].status is ContactStatus.HANDLED
    assert post_form(secretariat, f"{page}/handled", page=page).status_code == 403  # the table refuses twice
    assert post_form(secretariat, f"{page}/reopen", page=page).status_code == 303
    assert messages(app)[0].status is ContactStatus.OPEN
    assert post_form(secretariat, f"{page}/delete", page=page).status_code == 303
    assert messages(app) == []
    assert secretariat.get(page).status_code == 404
    assert audit_actions(app, message_id)[-3:] == ["contact.handled", "contact.reopened", "contact.deleted"]


def test_retention_deletes_old_and_unconfirmed_messages(app: Flask, mailbox: Any) -> None:
    client = app.test_client()
    kept = confirmed_message(app, client, mailbox, email="kept@ngo.example")
    old = confirmed_message(app, client, mailbox, email="old@ngo.example")
    send(client, email="late@ngo.example")
    send(client, email="fresh@ngo.example")
    by_email = {m.email: m.id for m in messages(app)}
    now = utcnow()
    run_sql(app, update(ContactMessage).where(ContactMessage.id == old).values(created_at=now - timedelta(days=366)))
    run_sql(app, update(ContactMessage).where(ContactMessage.id == by_email["late@ngo.example"])
            .values(created_at=now - timedelta(hours=49)))  # unconfirmed, its link expired
    result = app.test_cli_runner().invoke(args=["contact", "purge"])
    assert result.exit_code == 0, result.output
    assert "2 message(s) deleted" in result.output
    assert {m.email for m in messages(app)} == {"kept@ngo.example", "fresh@ngo.example"}
    assert kept in {m.id for m in messages(app)}
    # A shorter period is a setting.
    app.config["CONTACT_RETENTION_DAYS"] = 0
    with app.app_context():
        assert contact.purge(db.session, utcnow() + timedelta(seconds=1)) == 2
        db.session.remove()
    assert messages(app) == []
