"""A scenario that writes a distinct marker string into every free-text field the portal keeps.

Used by the tests that prove administrators see no content (every admin-reachable page is
searched for the markers) and by the download-header walk (it needs one file of each kind).
Everything goes through the services, the same write path as the pages and the API.
"""
from __future__ import annotations

import io
import itertools
import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing.converters import AnyConverter

from portal.api import tokens
from portal.attachments import service as attachments
from portal.auth import service as auth
from portal.extensions import db
from portal.meetings import actions, agenda, calendar, minutes, registration
from portal.meetings import service as meetings
from portal.models import AlertTopic, ItemKind, Meeting, User
from portal.sharing import service as sharing
from portal.taxii.service import COLLECTIONS as TAXII_COLLECTIONS
from tests.conftest import Account
from tests.meetings.conftest import payload as meeting_payload
from tests.meetings.conftest import shift_meeting
from tests.sharing.helpers import audience, denial_payload, document_payload, threat_payload

# Letters only, so no escaping, stemming or case folding on a page changes them beyond recognition.
PREFIX = "zqmk"


@dataclass
class Scenario:
    markers: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    feed_token: str = ""

    def marker(self, what: str) -> str:
        value = PREFIX + "".join(ch for ch in what.lower() if ch.isalpha())
        self.markers[what] = value
        return value

    def add(self, kind: str, value: object) -> None:
        self.ids.setdefault(kind, []).append(str(value))


def pdf_bytes(size: int = 3000) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    return head + os.urandom(size - len(head))


def _user(account: Account) -> User:
    found = db.session.get(User, account.id)
    assert found is not None
    return found


def build(app: Flask, make_user: Any) -> Scenario:
    """Create the cast and the content; returns the markers and every id made."""
    s = Scenario()
    s.accounts = {
        "admin": make_user("admin", None, email="operator@echri.example", name="Olga Operator"),
        "sec": make_user("secretariat", None, email="secretariat@echri.example", name="Sam Secretariat"),
        "dk": make_user("spoc", "DK", email="spoc@dk.example", name="Dana Dane"),
        "dk_officer": make_user("officer", "DK", email="officer@dk.example", name="Otto Officer"),
        "fr": make_user("spoc", "FR", email="spoc@fr.example", name="Francine Franc"),
    }
    for account in s.accounts.values():
        s.add("user", account.id)
    m = s.marker
    with app.app_context():
        dk, fr, sec = _user(s.accounts["dk"]), _user(s.accounts["fr"]), _user(s.accounts["sec"])

        # A RED denial for named states, amended, with a file; FR opens it (a read receipt).
        red = sharing.create_draft(db.session, dk, ItemKind.DENIAL, denial_payload(
            title=f"Denial {m('red title')}", summary=f"Summary {m('red summary')}", body=f"Body {m('red body')}",
            tlp="RED", audience=audience(countries=["FR", "NO"]), national_ref=f"DK-{m('national ref')}",
            item_description=f"Goods {m('item description')}", end_use=f"Use {m('end use')}",
            rationale=f"Because {m('rationale')}",
            parties=[{"role": "end_user", "name": f"Party {m('party name')}", "aliases": [m("party alias")],
                      "address": f"Street {m('party address')}", "country": "MM"}]))
        sharing.publish(db.session, dk, red)
        sharing.amend(db.session, dk, red, denial_payload(
            title=f"Denial {m('amended title')}", tlp="RED", audience=audience(countries=["FR", "NO"]),
            national_ref=f"DK-{m('national ref')}"), f"Note {m('change note')}")
        attachment = attachments.store_attachment(db.session, dk, red, f"{m('file name')}.pdf", io.BytesIO(pdf_bytes()))
        s.add("attachment", attachment.id)
        sharing.record_open(db.session, fr, red)
        sharing.renew_denial(db.session, dk, red, f"Renewed {m('renewal note')}")
        s.add("item", red.id)
        # FR consults DK about the RED denial; DK answers with reasons.
        from portal.consultations import service as consultations

        consultation = consultations.open_consultation(db.session, fr, {
            "denial_id": str(red.id), "applicant": m("consultation applicant"), "consignee": m("consultation consignee"),
            "end_user": m("consultation end user"), "item_description": m("consultation items"),
            "control_entries": [], "destination": "MM", "end_use": m("consultation end use"),
            "question": m("consultation question")})
        consultations.answer(db.session, dk, consultation, {"position": "objection",
                                                             "reasons": m("consultation answer")})
        s.add("consultation", consultation.id)
        # FR attaches a file to the consultation (wrapped for DK and FR only).
        consulted = attachments.store_attachment(db.session, fr, consultation, f"{m('consultation file name')}.pdf",
                                                 io.BytesIO(pdf_bytes()))
        s.add("attachment", consulted.id)

        withdrawn = sharing.create_draft(db.session, dk, ItemKind.DENIAL, denial_payload(
            title=f"Withdrawn {m('withdrawn title')}", tlp="AMBER"))
        sharing.publish(db.session, dk, withdrawn)
        sharing.withdraw(db.session, dk, withdrawn, f"Reason {m('withdrawal reason')}")
        s.add("item", withdrawn.id)

        revoked = sharing.create_draft(db.session, dk, ItemKind.DENIAL, denial_payload(
            title=f"Revoked {m('revoked title')}", tlp="GREEN"))
        sharing.publish(db.session, dk, revoked)
        sharing.revoke_denial(db.session, dk, revoked, f"Reason {m('revocation reason')}")
        s.add("item", revoked.id)

        threat = sharing.create_draft(db.session, dk, ItemKind.THREAT_NOTICE, threat_payload(
            title=f"Threat {m('threat title')}", entities=[f"Vendor {m('threat entity')}"], tlp="GREEN"))
        sharing.publish(db.session, dk, threat)
        s.add("item", threat.id)
        draft = sharing.create_draft(db.session, _user(s.accounts["dk_officer"]), ItemKind.THREAT_NOTICE,
                                     threat_payload(title=f"Draft {m('draft title')}"))
        s.add("item", draft.id)
        document = sharing.create_draft(db.session, sec, ItemKind.DOCUMENT, document_payload(
            title=f"Practice {m('document title')}", body=f"Text {m('document body')}",
            audience=audience(all_subscribing=True, secretariat=True)))
        sharing.publish(db.session, sec, document)
        s.add("item", document.id)

        # An unannounced meeting and its agenda (one item edited, one removed).
        hidden = meetings.create_meeting(db.session, sec, meeting_payload(
            title=f"Meeting {m('unannounced meeting title')}", description=f"About {m('meeting description')}",
            venue=f"Hall {m('meeting venue')}"))
        first = agenda.add_item(db.session, sec, hidden, {"title": f"Item {m('agenda title')}",
                                                          "description": f"About {m('agenda description')}"})
        agenda.update_item(db.session, sec, hidden, first, {"title": f"Item {m('edited agenda title')}"})
        gone = agenda.add_item(db.session, sec, hidden, {"title": f"Item {m('removed agenda title')}"})
        agenda.delete_item(db.session, sec, hidden, gone)
        s.add("meeting", hidden.id)
        s.add("agenda_item", first.id)
        meetings.update_meeting(db.session, sec, hidden, meeting_payload(
            title=f"Meeting {m('renamed meeting title')}", venue=f"Hall {m('meeting venue')}"))

        # An announced meeting with a delegation, then held, minutes circulated and commented.
        held = meetings.create_meeting(db.session, sec, meeting_payload(title=f"Plenary {m('plenary title')}"))
        agenda.add_item(db.session, sec, held, {"title": f"Opening {m('plenary agenda title')}"})
        meetings.announce(db.session, sec, held)
        agenda.add_item(db.session, sec, held, {"title": f"Later {m('later agenda title')}"})
        agenda.publish(db.session, sec, held)
        delegate = registration.add_delegate(db.session, dk, held, {
            "name": f"Anne {m('delegate name')}", "position": f"Head {m('delegate position')}",
            "email": f"{m('delegate email')}@dk.example", "attendance": "in_person", "is_head": True})
        registration.update_delegate(db.session, dk, held, delegate, {
            "name": f"Anne {m('renamed delegate')}", "email": f"{m('delegate email')}@dk.example",
            "attendance": "in_person", "is_head": True})
        leaving = registration.add_delegate(db.session, dk, held, {
            "name": f"Bo {m('removed delegate')}", "email": f"{m('removed delegate email')}@dk.example",
            "attendance": "remote"})
        registration.remove_delegate(db.session, dk, held, leaving)
        registration.export_csv(db.session, sec, held)
        s.add("meeting", held.id)
        s.add("delegate", delegate.id)
        held_id = held.id
        action = actions.add_action(db.session, sec, held, {"kind": "action", "text": f"Do {m('action text')}",
                                                             "owner_state": "FR", "due_date": "2030-01-31"})
        s.add("action", action.id)

        cancelled = meetings.create_meeting(db.session, sec, meeting_payload(title=f"Cancelled {m('cancelled title')}"))
        meetings.announce(db.session, sec, cancelled)
        meetings.cancel(db.session, sec, cancelled, f"Because {m('cancel reason')}")
        s.add("meeting", cancelled.id)

        # The public side: a CLEAR notice with a file, published publicly (public content carries
        # no markers: anyone may read it), and a message from outside, confirmed and forwarded to DK.
        from portal.public import contact
        from portal.public import service as public

        clear = sharing.create_draft(db.session, dk, ItemKind.THREAT_NOTICE, threat_payload(
            title="Public guidance on intrusion software", tlp="CLEAR",
            audience=audience(all_subscribing=True, observers=True)))
        sharing.publish(db.session, dk, clear)
        public_file = attachments.store_attachment(db.session, dk, clear, "public-guidance.pdf", io.BytesIO(pdf_bytes()))
        public.publish_publicly(db.session, dk, clear)
        s.add("item", clear.id)
        s.add("attachment", public_file.id)
        message = contact.submit(db.session, {
            "organisation_type": "civil_society", "organisation": f"Org {m('contact organisation')}",
            "name": f"Ann {m('contact name')}", "email": f"{m('contact email')}@ngo.example",
            "country": f"Land {m('contact country')}", "subject": f"About {m('contact subject')}",
            "message": f"Text {m('contact message')}"})
        contact.confirm(db.session, contact.confirmation_token(message))
        contact.forward(db.session, sec, message, "DK")
        s.add("message", message.id)
        from datetime import timedelta

        from portal.models.base import utcnow
        from portal.public import consultations as calls

        call = calls.create(db.session, dk, {"title": "Call for input on due diligence",
                                             "description": "Tell us how you screen end-users.",
                                             "closes_on": (utcnow().date() + timedelta(days=30)).isoformat(),
                                             "to_secretariat": True})
        response = calls.respond(db.session, call, {
            "organisation_type": "company", "organisation": f"Firm {m('response organisation')}",
            "name": f"Bo {m('response name')}", "email": f"{m('response email')}@firm.example",
            "country": "Sweden", "message": f"We {m('response text')}"})
        contact.confirm(db.session, contact.confirmation_token(response))
        s.add("message", response.id)
        s.add("call", call.id)

        tokens.create_token(db.session, dk, f"Robot {m('api token name')}", 30)
        s.feed_token = calendar.create_feed_token(db.session, dk)
        db.session.remove()

    shift_meeting(app, held_id, -31)
    with app.app_context():
        sec, dk = _user(s.accounts["sec"]), _user(s.accounts["dk"])
        held = db.session.get(Meeting, held_id)
        assert held is not None
        meetings.mark_held(db.session, sec, held)
        minutes.save_draft(db.session, sec, held, f"# Minutes\n\n{m('minutes text')}")
        minutes.circulate(db.session, sec, held)
        minutes.add_comment(db.session, dk, held, f"Comment {m('minutes comment')}")
        # A screening: the names a state screens are its own data.
        from portal.models.screening import ScreeningSource
        from portal.screening import service as screenings

        screened = screenings.run_screening(db.session, dk, {"parties": [
            {"name": m("screened party"), "aliases": [m("screened alias")], "address": m("screened address")}]},
            ScreeningSource.PAGE)
        s.add("screening", screened.id)
        # Sign-in attempts and reset requests with text typed into the e-mail field.
        try:
            auth.check_password(db.session, f"{m('typed address')}@nowhere.example", "wrong-password-0")
        except auth.AuthError:
            pass
        auth.request_password_reset(db.session, f"{m('typed reset address')}@nowhere.example")
        db.session.remove()
    return s


def get_paths(app: Flask, s: Scenario, *, feed_token: str | None = None) -> list[str]:
    """Every GET URL of the app (static files aside), filled with the scenario's real ids."""
    by_name: dict[str, list[str]] = {
        "item_id": s.ids["item"], "attachment_id": s.ids["attachment"], "meeting_id": s.ids["meeting"],
        "agenda_item_id": s.ids["agenda_item"], "delegate_id": s.ids["delegate"], "action_id": s.ids["action"],
        "user_id": s.ids["user"], "number": ["1", "2"], "code": ["DK", "FR", "NO"], "fmt": ["csv", "json"],
        "direction": ["up", "down"], "topic": [t.value for t in AlertTopic],
        "token": [feed_token if feed_token is not None else s.feed_token],
        "kind": ["denials", "threat-notices", "documents"], "token_id": [str(uuid.uuid4())],
        "notification_id": [str(uuid.uuid4())], "screening_id": s.ids["screening"],
        "consultation_id": s.ids["consultation"], "denial_id": s.ids["item"],
        "collection_id": [str(c) for c in TAXII_COLLECTIONS],
        "object_id": [f"report--{i}" for i in s.ids["item"]] + ["identity--cb8c0963-2cb9-4b40-893d-e2683d62f400"],
        "message_id": s.ids["message"], "call_id": s.ids["call"],
    }
    paths: list[str] = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        names = list(rule.arguments)
        options = []
        for name in names:
            converter = rule._converters[name]
            options.append(sorted(converter.items) if isinstance(converter, AnyConverter) else by_name[name])
        for values in itertools.product(*options):
            chosen = dict(zip(names, values, strict=True))
            path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda match, chosen=chosen: chosen[match.group(1)], rule.rule)
            try:
                adapter.match(path, method="GET")
            except HTTPException:
                continue
            paths.append(path)
    return paths
