"""The STIX 2.1 objects of the portal: definitions (identities, markings, our extension) and reports.

Ids are stable, so a consumer that pulls the same item twice updates one object instead of
gathering copies: a report's id is its item's UUID, a state's identity is derived from its
country code, and the definitions have fixed ids. The version of a report (`modified`) is the
time of the item's last lifecycle event (publication, amendment, withdrawal, a denial's
revocation, renewal or lapse), which is also when the TAXII collection added it.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import stix2
from stix2.utils import format_datetime
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from portal import access
from portal.kinds import KINDS
from portal.models.country import Country
from portal.models.item import Item, ItemEvent, ItemKind, ItemStatus, Tlp
from portal.models.user import User
from portal.urls import external_url

# The Export Controls and Human Rights Initiative: author of our extension definition.
INITIATIVE_ID = "identity--cb8c0963-2cb9-4b40-893d-e2683d62f400"
# Our property extension for the item fields STIX has no property for (fixed: consumers key on it).
EXTENSION_ID = "extension-definition--cc3f06ee-6b04-4552-8f5c-a244336c7574"
EXTENSION_VERSION = "1.0.0"
EXTENSION_SCHEMA_FILE = "stix/echri-item-extension-v1.json"
# When the definitions above were written; bump it with EXTENSION_VERSION when they change.
DEFINED_AT = datetime(2026, 11, 30, tzinfo=UTC)

# FIRST TLP 2.0 in STIX: the marking-definitions of the OASIS TLP 2.0 extension, by their
# standard ids (stix2 ships only TLP 1.0 constants).
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_DEFINED_AT = datetime(2022, 10, 1, tzinfo=UTC)

# report_types: a threat notice reports a threat; a denial characterises the parties refused.
REPORT_TYPES = {ItemKind.THREAT_NOTICE: ["threat-report"], ItemKind.DENIAL: ["identity"]}
LABELS = {ItemKind.THREAT_NOTICE: ["threat-notice"], ItemKind.DENIAL: ["licence-denial"]}


def _derived_id(kind: str, key: str) -> str:
    """A stable id for `key`, shaped as the UUIDv4 STIX asks domain objects to carry."""
    digest = hashlib.sha256(f"echri-portal:{kind}:{key}".encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


def state_identity_id(code: str) -> str:
    return _derived_id("identity", f"state:{code}")


def marking(tlp: Tlp) -> stix2.MarkingDefinition:
    """The standard TLP 2.0 marking-definition for `tlp`."""
    level = tlp.value.lower()
    return stix2.MarkingDefinition(
        id=TLP_MARKING_IDS[tlp], created=TLP_DEFINED_AT, name=f"TLP:{tlp.value}",
        extensions={TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}})


def initiative() -> stix2.Identity:
    return stix2.Identity(
        id=INITIATIVE_ID, created=DEFINED_AT, modified=DEFINED_AT, identity_class="organization",
        name="Export Controls and Human Rights Initiative",
        description="The subscribing states of the Export Controls and Human Rights Initiative Code of Conduct.")


def extension_definition() -> stix2.ExtensionDefinition:
    """Our property extension: the item fields STIX has no property for (schema in our static files)."""
    return stix2.ExtensionDefinition(
        id=EXTENSION_ID, created_by_ref=INITIATIVE_ID, created=DEFINED_AT, modified=DEFINED_AT,
        name="ECHRI Portal item",
        description="Fields of ECHRI threat notices and licence-denial notifications that STIX has no property for.",
        schema=external_url("static", filename=EXTENSION_SCHEMA_FILE), version=EXTENSION_VERSION,
        extension_types=["property-extension"])


def state_identity(country: Country) -> stix2.Identity:
    """A state of the register as the originator of its items."""
    return stix2.Identity(
        id=state_identity_id(country.code), created=country.created_at, modified=country.created_at,
        created_by_ref=INITIATIVE_ID, name=country.name, identity_class="organization",
        sectors=["government-national"], description=f"The national authorities of {country.name}.")


def definitions(countries: Iterable[Country], markings: Iterable[Tlp]) -> list[Any]:
    """The objects a report refers to: the Initiative, our extension, markings, state identities."""
    return [initiative(), extension_definition(), *(marking(t) for t in markings),
            *(state_identity(c) for c in countries)]


def added_at() -> ColumnElement[datetime]:
    """SQL: when the item's current STIX version came to be (its last lifecycle event)."""
    last = select(func.max(ItemEvent.at)).where(ItemEvent.item_id == Item.id).scalar_subquery()
    return func.coalesce(last, Item.published_at, Item.updated_at)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _extension(item: Item, viewer: User) -> dict[str, Any]:
    """The item's fields that STIX has no property for, as the viewer may see them."""
    fields: dict[str, Any] = {"extension_type": "property-extension", "kind": item.kind.value,
                              "portal_status": item.status.value, "portal_version": item.version,
                              "tlp": item.tlp.value,
                              "portal_url": external_url("sharing.detail", kind=item.kind, item_id=item.id)}
    audience: dict[str, Any] = {"all_subscribing": item.all_subscribing, "secretariat": item.to_secretariat,
                                "observers": item.to_observers}
    if access.can_see_named_audience(viewer, item):
        audience["countries"] = item.named_countries
    fields["audience"] = audience
    if item.status is ItemStatus.WITHDRAWN:
        fields["withdrawn_at"] = format_datetime(item.withdrawn_at) if item.withdrawn_at else None
        fields["withdrawal_reason"] = item.withdrawal_reason
    else:
        fields["summary"] = item.summary
        fields.update({key: value for key, value in item.details.items() if _present(value)})
        if item.kind is ItemKind.DENIAL:
            fields["denial_status"] = item.denial_status.value if item.denial_status else None
            fields["review_date"] = item.review_date.isoformat() if item.review_date else None
    return {key: value for key, value in fields.items() if _present(value) or value is False}


def report(item: Item, viewer: User, modified: datetime) -> stix2.Report:
    """One live threat notice or denial as the STIX report `viewer` may see (a withdrawn item is
    `revoked`, carrying its notice and never its content, as the pages show it)."""
    published = item.published_at or modified
    originator = (state_identity_id(item.originator_code) if item.originator_code else INITIATIVE_ID)
    withdrawn = item.status is ItemStatus.WITHDRAWN
    description = None if withdrawn else "\n\n".join(part for part in (item.summary, item.body) if part) or None
    return stix2.Report(
        id=f"report--{item.id}", created=published, modified=max(modified, published), published=published,
        name=item.title, description=description, report_types=REPORT_TYPES[item.kind], labels=LABELS[item.kind],
        created_by_ref=originator, object_refs=[originator], object_marking_refs=[TLP_MARKING_IDS[item.tlp]],
        revoked=withdrawn, lang="en",
        # The page's address rides in the extension: an external reference with a URL should carry
        # the hash of what it points to, and a page has none.
        external_references=[{"source_name": "echri-portal", "description": KINDS[item.kind].label,
                              "external_id": str(item.id)}],
        extensions={EXTENSION_ID: _extension(item, viewer)})


def modified_times(session: Session, items: Iterable[Item]) -> dict[uuid.UUID, datetime]:
    """The STIX version (see added_at) of each item."""
    ids = [i.id for i in items]
    if not ids:
        return {}
    return {row[0]: row[1] for row in session.execute(select(Item.id, added_at()).where(Item.id.in_(ids)))}


def bundle(session: Session, viewer: User, items: list[Item]) -> stix2.Bundle:
    """The reports of `items` with every definition they refer to, as one bundle."""
    codes = sorted({i.originator_code for i in items if i.originator_code})
    countries = session.scalars(select(Country).where(Country.code.in_(codes)).order_by(Country.code)).all()
    markings = sorted({i.tlp for i in items}, key=list(Tlp).index)
    times = modified_times(session, items)
    reports = [report(i, viewer, times[i.id]) for i in items]
    return stix2.Bundle(*definitions(countries, markings), *reports)


def as_dict(obj: Any) -> dict[str, Any]:
    """A stix2 object as plain JSON data (the library's own serialisation)."""
    result: dict[str, Any] = json.loads(obj.serialize())
    return result
