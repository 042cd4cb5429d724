"""TAXII 2.1 collections over the STIX objects of threat notices and denials.

A collection holds, in the order it added them (date_added, then id): the definitions its
reports refer to (the Initiative, our extension, the TLP markings, the states' identities),
then one report per live item of its kind that `access.feed_filter` lets the caller see (never
TLP:RED). Each object has one version, the current one; an item's date_added is the time of its
last lifecycle event, so `added_after` finds what was published, amended or withdrawn since.
Pages are cut by `limit` objects; `next` is an opaque cursor (the key of the last object sent).
"""
from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from portal import access
from portal.errors import NotFound, PortalError
from portal.models.country import Country
from portal.models.item import Item, ItemKind, Tlp
from portal.models.user import User
from portal.stix import objects as stix

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


@dataclass(frozen=True)
class Collection:
    id: uuid.UUID
    kind: ItemKind
    title: str
    description: str


# Fixed ids: national systems configure them once.
COLLECTIONS: dict[uuid.UUID, Collection] = {c.id: c for c in (
    Collection(uuid.UUID("0be0e4ff-320e-4b0f-8fd3-448694828afa"), ItemKind.THREAT_NOTICE, "Threat notices",
               "Threat notices shared with your state, as STIX 2.1 reports."),
    Collection(uuid.UUID("77bec064-93d8-469c-93dd-edff3d7b7d49"), ItemKind.DENIAL, "Denials",
               "Licence-denial notifications shared with your state, as STIX 2.1 reports."),
)}


class BadTaxiiRequest(PortalError):
    """A filter or cursor the server cannot read."""

    status, code = 400, "bad_request"


def readable_collections(actor: User) -> list[Collection]:
    """The collections the actor may read (a machine: those its `:read` scopes name)."""
    return [c for c in COLLECTIONS.values() if access.can_read_feed(actor, c.kind)]


def get_collection(actor: User, collection_id: uuid.UUID) -> Collection:
    """The collection if the actor may read it; NotFound otherwise (as for any object one may not see)."""
    collection = COLLECTIONS.get(collection_id)
    if collection is None or not access.can_read_feed(actor, collection.kind):
        raise NotFound()
    return collection


def timestamp(value: datetime) -> str:
    """TAXII's timestamp: UTC, microseconds, Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(raw: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadTaxiiRequest(f"{name} must be a timestamp such as 2026-01-31T12:00:00.000Z.") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _values(args: Mapping[str, Any], name: str) -> set[str] | None:
    raw = args.get(name)
    if raw is None:
        return None
    return {part.strip() for part in str(raw).split(",") if part.strip()}


@dataclass
class Query:
    """A request's filters and cursor (TAXII 2.1 section 3.4)."""

    added_after: datetime | None
    types: set[str] | None
    ids: set[str] | None
    versions: set[str] | None
    spec_versions: set[str] | None
    limit: int
    after: tuple[datetime, str] | None


def parse_query(args: Mapping[str, Any], object_id: str | None = None) -> Query:
    """Read `added_after`, `match[…]`, `limit` and `next`; a value we cannot read is a 400."""
    raw_limit = args.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if not str(raw_limit).isdigit() or int(raw_limit) < 1:
            raise BadTaxiiRequest("limit must be a positive whole number.")
        limit = min(int(raw_limit), MAX_LIMIT)
    after = None
    if args.get("next"):
        try:
            cursor = json.loads(base64.urlsafe_b64decode(str(args["next"]).encode("ascii")))
            after = (_parse_time(str(cursor["t"]), "next"), str(cursor["i"]))
            if after[1].startswith("report--"):
                uuid.UUID(after[1].removeprefix("report--"))
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
            raise BadTaxiiRequest("next is not a cursor this server gave out.") from None
    added_after = _parse_time(str(args["added_after"]), "added_after") if args.get("added_after") else None
    ids = _values(args, "match[id]")
    if object_id is not None:
        ids = {object_id} if ids is None else ids & {object_id}
    return Query(added_after, _values(args, "match[type]"), ids, _values(args, "match[version]"),
                 _values(args, "match[spec_version]"), limit, after)


def _cursor(added: datetime, object_id: str) -> str:
    raw = json.dumps({"t": timestamp(added), "i": object_id}).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


@dataclass
class Page:
    """One page of a collection: (date_added, object) pairs, and where the next page starts."""

    entries: list[tuple[datetime, dict[str, Any]]]
    more: bool
    next: str | None

    @property
    def first_added(self) -> datetime | None:
        return self.entries[0][0] if self.entries else None

    @property
    def last_added(self) -> datetime | None:
        return self.entries[-1][0] if self.entries else None


def _definitions(session: Session) -> list[tuple[datetime, dict[str, Any]]]:
    """The collection's definitions with the time it added each (a state: when it joined the register)."""
    countries = session.scalars(select(Country).order_by(Country.code)).all()
    feed_markings = [t for t in Tlp if t is not Tlp.RED]  # RED never travels in a feed
    entries = []
    for obj in stix.definitions(countries, feed_markings):
        data = stix.as_dict(obj)
        added = stix.DEFINED_AT
        if data["type"] == "identity" and data["id"] != stix.INITIATIVE_ID:
            added = max(added, datetime.fromisoformat(data["created"]))
        entries.append((added, data))
    return entries


def _version_of(data: dict[str, Any]) -> str:
    return str(data.get("modified") or data.get("created"))


def _wanted(query: Query, added: datetime, data: dict[str, Any]) -> bool:
    """The filters, for one object in memory (the definitions; reports are filtered in SQL too)."""
    if query.added_after is not None and added <= query.added_after:
        return False
    if query.after is not None and (added, data["id"]) <= query.after:
        return False
    if query.types is not None and data["type"] not in query.types:
        return False
    if query.ids is not None and data["id"] not in query.ids:
        return False
    if query.spec_versions is not None and "2.1" not in query.spec_versions:
        return False
    if query.versions is not None and not query.versions & {"first", "last", "all"}:
        # One version per object: a timestamp matches when it is that version.
        return any(_parse_time(v, "match[version]") == _parse_time(_version_of(data), "version")
                   for v in query.versions)
    return True


def _report_ids(ids: set[str]) -> list[uuid.UUID]:
    found = []
    for value in ids:
        kind, _, raw = value.partition("--")
        if kind != "report":
            continue
        try:
            found.append(uuid.UUID(raw))
        except ValueError:
            continue
    return found


def page(session: Session, actor: User, collection: Collection, query: Query) -> Page:
    """One page of the collection's objects for `actor`, filtered by `query`."""
    candidates = [(added, data) for added, data in _definitions(session) if _wanted(query, added, data)]
    added = stix.added_at().label("added")
    reports = select(Item, added).where(access.feed_filter(actor, collection.kind))
    if (query.types is not None and "report" not in query.types) or (
            query.spec_versions is not None and "2.1" not in query.spec_versions):
        reports = reports.where(false())
    if query.ids is not None:
        reports = reports.where(Item.id.in_(_report_ids(query.ids)))
    if query.added_after is not None:
        reports = reports.where(added > query.added_after)
    if query.after is not None:
        at, last_id = query.after
        kind, _, raw = last_id.partition("--")
        if kind == "report":
            reports = reports.where(or_(added > at, and_(added == at, Item.id > uuid.UUID(raw))))
        else:  # a definition's id sorts before every report's ("report--" comes last)
            reports = reports.where(added >= at)
    # One more than the page: whether there is more is known without counting.
    rows = session.execute(reports.order_by(added, Item.id).limit(query.limit + 1)).all()
    for item, item_added in rows:
        data = stix.as_dict(stix.report(item, actor, item_added))
        if _wanted(query, item_added, data):
            candidates.append((item_added, data))
    candidates.sort(key=lambda entry: (entry[0], entry[1]["id"]))
    entries = candidates[:query.limit]
    more = len(candidates) > query.limit
    following = _cursor(entries[-1][0], entries[-1][1]["id"]) if more else None
    return Page(entries, more, following)


def manifest_record(added: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": data["id"], "date_added": timestamp(added), "version": _version_of(data),
            "media_type": STIX_MEDIA_TYPE}
