"""Factories for shared items: valid payloads, their form encoding, items in any state.

Items are created through portal.sharing.service (the code under test's own write path), so
the search index, versions, events and audit entries are exactly what the pages produce.
"""
from __future__ import annotations

import itertools
import uuid
from typing import Any

from flask import Flask

from portal.api import tokens
from portal.extensions import db
from portal.models import Country, CountryStatus, Item, ItemKind, User
from portal.sharing import service

_serial = itertools.count(1)
KIND_SLUG = {"denial": "denials", "threat_notice": "threat-notices", "document": "documents"}


def unique_word(prefix: str = "zq") -> str:
    """A word no other item contains, for search assertions (letters only: stemmers leave it)."""
    n = next(_serial)
    letters = "".join(chr(ord("a") + int(d)) for d in f"{uuid.uuid4().int % 10**9:09d}")
    return f"{prefix}{letters}{chr(ord('a') + n % 26)}"


def audience(all_subscribing: bool = False, countries: list[str] | None = None, secretariat: bool = False,
             observers: bool = False) -> dict[str, Any]:
    return {"all_subscribing": all_subscribing, "countries": list(countries or []), "secretariat": secretariat,
            "observers": observers}


def denial_payload(**overrides: Any) -> dict[str, Any]:
    """A complete, valid licence-denial notification (the API's payload shape)."""
    payload: dict[str, Any] = {
        "title": "Denial of IMSI catchers to the Ministry of Interior",
        "summary": "Export licence refused for mobile-network interception equipment.",
        "body": "The applicant sought to export **two IMSI catchers** and training.\n\n- risk of internal repression",
        "tlp": "AMBER",
        "audience": audience(all_subscribing=True),
        "national_ref": f"DK-2026-{next(_serial):05d}",
        "decision_type": "denial",
        "activity": "export",
        "decision_date": "2026-03-02",
        "basis": "listed_item",
        "control_entries": [{"regime": "Wassenaar", "code": "5A001.j"}],
        "item_description": "Two IMSI catchers with installation and operator training",
        "destination": "MM",
        "end_use": "Monitoring of mobile communications by the police",
        "parties": [{"role": "end_user", "name": "Ministry of Home Affairs, Special Branch",
                     "aliases": ["MoHA SB"], "address": "Office No. 10, Nay Pyi Taw", "country": "MM"}],
        "reason_codes": ["internal_repression"],
        "rationale": "Clear risk that the items would be used for internal repression.",
    }
    payload.update(overrides)
    return payload


def threat_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Spyware vendor offering zero-click implants",
        "summary": "A vendor markets zero-click implants to security services.",
        "body": "Observed at a trade fair. See [the advisory](https://example.org/advisory).",
        "tlp": "GREEN",
        "audience": audience(all_subscribing=True),
        "severity": "high",
        "categories": ["intrusion_software"],
        "regions": ["MM", "BY"],
        "entities": ["Example Intrusion Ltd"],
        "valid_until": "2027-12-31",
    }
    payload.update(overrides)
    return payload


def document_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Human-rights due diligence in licensing",
        "summary": "How licensing officers screen end-users.",
        "body": "# Steps\n\n1. Screen the end-user\n2. Ask the embassy",
        "tlp": "GREEN",
        "audience": audience(all_subscribing=True),
        "category": "due_diligence",
    }
    payload.update(overrides)
    return payload


PAYLOADS = {ItemKind.DENIAL: denial_payload, ItemKind.THREAT_NOTICE: threat_payload,
            ItemKind.DOCUMENT: document_payload}


def payload_for(kind: ItemKind | str, **overrides: Any) -> dict[str, Any]:
    return PAYLOADS[ItemKind(kind)](**overrides)


def to_form(kind: ItemKind | str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The same content as the HTML form posts it (the inverse of the forms' payload())."""
    kind = ItemKind(kind)
    aud = payload.get("audience", {})
    data: dict[str, Any] = {"title": payload.get("title", ""), "summary": payload.get("summary", ""),
                            "body": payload.get("body", ""), "tlp": payload.get("tlp", "AMBER"),
                            "countries": list(aud.get("countries", []))}
    for flag in ("all_subscribing", "secretariat", "observers"):
        if aud.get(flag):
            data[flag] = "y"
    if kind is ItemKind.DENIAL:
        data.update({k: payload.get(k) or "" for k in ("national_ref", "decision_type", "activity", "decision_date",
                                                       "basis", "item_description", "destination", "end_use",
                                                       "rationale")})
        # Repeated fieldsets: control_entries-0-regime, parties-0-role, … (as the page posts them).
        for i, entry in enumerate(payload.get("control_entries", [])):
            data[f"control_entries-{i}-regime"], data[f"control_entries-{i}-code"] = entry["regime"], entry["code"]
        for i, party in enumerate(payload.get("parties", [])):
            data.update({f"parties-{i}-role": party.get("role") or "", f"parties-{i}-name": party.get("name", ""),
                         f"parties-{i}-aliases": "; ".join(party.get("aliases", [])),
                         f"parties-{i}-address": party.get("address", ""), f"parties-{i}-country": party.get("country", "")})
        data["reason_codes"] = list(payload.get("reason_codes", []))
    elif kind is ItemKind.THREAT_NOTICE:
        data.update(severity=payload.get("severity") or "", categories=list(payload.get("categories", [])),
                    regions=list(payload.get("regions", [])), entities="\n".join(payload.get("entities", [])),
                    valid_until=payload.get("valid_until") or "")
    else:
        data["category"] = payload.get("category") or ""
    data.update(extra)
    return data


def user(account: Any) -> User:
    found = db.session.get(User, account.id)
    assert found is not None
    return found


def make_item(app: Flask, author: Any, kind: ItemKind | str = ItemKind.DENIAL, status: str = "published", *,
              publisher: Any | None = None, reason: str = "Sent to the wrong audience.", **overrides: Any) -> uuid.UUID:
    """Create an item through the service layer and take it to `status` (draft, submitted,
    published, withdrawn). `author` drafts it; `publisher` (default: the author) releases it."""
    kind = ItemKind(kind)
    with app.app_context():
        item = service.create_draft(db.session, user(author), kind, payload_for(kind, **overrides))
        if status == "submitted":
            service.submit(db.session, user(author), item)
        if status in ("published", "withdrawn"):
            service.publish(db.session, user(publisher or author), item)
        if status == "withdrawn":
            service.withdraw(db.session, user(publisher or author), item, reason)
        item_id = item.id
        db.session.remove()
    return item_id


def load_item(app: Flask, item_id: uuid.UUID) -> Item:
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item is not None
        _ = item.audience_countries, item.categories, item.originator
        db.session.expunge(item)
        db.session.remove()
    return item


def api_token(app: Flask, account: Any, name: str = "tests", days: int = 30) -> str:
    with app.app_context():
        token = tokens.create_token(db.session, user(account), name, days)
        db.session.remove()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_observer_state(app: Flask, code: str = "CR", name: str = "Costa Rica") -> None:
    """Register an observer (non-subscribing) state; the founding register has none."""
    with app.app_context():
        if db.session.get(Country, code) is None:
            db.session.add(Country(code=code, name=name, status=CountryStatus.OBSERVER))
            db.session.commit()
        db.session.remove()


def item_url(kind: ItemKind | str, item_id: uuid.UUID, suffix: str = "") -> str:
    return f"/{KIND_SLUG[ItemKind(kind).value]}/{item_id}{suffix}"


def api_url(kind: ItemKind | str, item_id: uuid.UUID | None = None, suffix: str = "") -> str:
    base = f"/api/v1/{KIND_SLUG[ItemKind(kind).value]}"
    return f"{base}/{item_id}{suffix}" if item_id else base
