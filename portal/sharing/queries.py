"""Reading shared items: lists, search, dashboard, export, read receipts.

Every query here starts from access.items_filter(actor): nothing is listed, counted,
searched or exported that the actor could not open.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from datetime import date, datetime, time, timedelta, UTC
from typing import Any
from collections.abc import Mapping

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session, load_only, raiseload

from portal import access
from portal.models.attachment import Attachment
from portal.models.audit import AuditEntry
from portal.models.base import utcnow
from portal.models.item import DenialStatus, Item, ItemCategory, ItemKind, ItemStatus, Tlp
from portal.models.keys import SECRETARIAT_OWNER
from portal.models.user import User, UserStatus
from portal.pagination import Page, capped_count, count_cap, paginate
from portal.sharing import search

FILTER_NAMES = ("state", "category", "severity", "tlp", "status", "from", "to", "q")


def visible_items(actor: User) -> Select[Item]:
    return select(Item).where(access.items_filter(actor))


def _date(raw: Any) -> date | None:
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def apply_filters(session: Session, query: Select[Item], kind: ItemKind | None, args: Mapping[str, Any],
                  ordered: bool = True) -> Select[Item]:
    """Narrow `query` by the list filters in `args`; unknown values are ignored, never errors.
    `ordered` is false for a capped count, which needs no order (see search.narrow)."""
    if kind is not None:
        query = query.where(Item.kind == kind)
    state = str(args.get("state") or "").upper()
    if state == "SECRETARIAT":
        query = query.where(Item.originator_code.is_(None))
    elif len(state) == 2:
        query = query.where(Item.originator_code == state)
    category = args.get("category")
    if category:
        if kind is ItemKind.DOCUMENT:
            query = query.where(Item.category == category)
        else:
            query = query.where(Item.id.in_(select(ItemCategory.item_id).where(ItemCategory.slug == category)))
    if args.get("severity"):
        query = query.where(Item.severity == args["severity"])
    if args.get("tlp") in {t.value for t in Tlp}:
        query = query.where(Item.tlp == Tlp(args["tlp"]))
    status = args.get("status")
    if status in {s.value for s in ItemStatus}:
        query = query.where(Item.status == ItemStatus(status))
    elif status in {s.value for s in DenialStatus}:
        # A withdrawn denial keeps its last denial status, but is no longer active, revoked …
        query = query.where(Item.denial_status == DenialStatus(status), Item.status == ItemStatus.PUBLISHED)
    start, end = _date(args.get("from")), _date(args.get("to"))
    if start:
        query = query.where(Item.published_at >= datetime.combine(start, time.min, UTC))
    if end and end < date.max:  # "to" takes its whole day; up to the last day of the calendar is no bound at all
        query = query.where(Item.published_at < datetime.combine(end + timedelta(days=1), time.min, UTC))
    text = str(args.get("q") or "").strip()
    if text:
        query = search.narrow(session, query, text, ordered)
    return query


def _newest_first(query: Select[Item]) -> Select[Item]:
    # Drafts have no publication date: they sort by their last change, on top.
    return query.order_by(func.coalesce(Item.published_at, Item.updated_at).desc(), Item.id)


def list_query(session: Session, actor: User, kind: ItemKind | None, args: Mapping[str, Any],
               ordered: bool = True) -> Select[tuple[Any]]:
    """The ids of the items `actor` may see, filtered by `args`, newest first (access filter inside);
    `ordered=False`: the same rows by a plan for counting them (the order is dropped)."""
    # Page through ids, then load the page's rows: sorting narrow (key, id) pairs instead of
    # whole items (bodies, search text) makes large lists about a third faster. Newest first
    # rather than by relevance: ranking would score every match, so a common word would cost
    # in proportion to its matches; the date order walks the list index and stops at the page.
    return _newest_first(apply_filters(session, visible_items(actor), kind, args, ordered)).with_only_columns(Item.id)


# What a list table shows of an item (sharing/_table.html); the rest stays unloaded and raises if read.
TABLE_COLUMNS = (Item.id, Item.kind, Item.status, Item.originator_code, Item.tlp, Item.title, Item.summary,
                 Item.severity, Item.national_ref, Item.denial_status, Item.published_at, Item.updated_at)
FOR_TABLE = (load_only(*TABLE_COLUMNS, raiseload=True), raiseload(Item.audience_countries), raiseload(Item.categories))


def list_items(session: Session, actor: User, kind: ItemKind | None, args: Mapping[str, Any],
               for_table: bool = False) -> Page[Item]:
    """One page of the items `actor` may see, filtered by `args` (the total is capped, see pagination).
    `for_table`: load only what a list table shows, not bodies, details, search text or audiences."""
    counted, few_matches = None, False
    if str(args.get("q") or "").strip():
        # A search counts its matches from the full-text index (see search.narrow, search.from_index),
        # at least up to search.COMMON, to know whether its page should come from there as well.
        cap = count_cap()
        with search.from_index(session):
            found, more = capped_count(session, list_query(session, actor, kind, args, ordered=False),
                                       max(cap, search.COMMON))
        counted = (min(found, cap), more or found > cap)
        few_matches = not more and found <= search.COMMON
    with search.from_index(session, few_matches):
        page = paginate(session, list_query(session, actor, kind, args), args, counted)
    if page.items:
        rows_query = select(Item).where(Item.id.in_(page.items)).options(*(FOR_TABLE if for_table else ()))
        rows = {item.id: item for item in session.scalars(rows_query)}
        page.items = [rows[item_id] for item_id in page.items]
    return page


@dataclass
class Dashboard:
    recent: list[Item]
    new_counts: dict[ItemKind, tuple[int, bool]]  # (count, more), capped as list totals are
    awaiting_release: list[Item]
    own_drafts: list[Item]


def dashboard(session: Session, actor: User, days: int = 30) -> Dashboard:
    """What is new for the actor's state: recent items, counts per kind, work waiting."""
    since = utcnow() - timedelta(days=days)
    visible = access.items_filter(actor)
    live = Item.status.in_(access.LIVE_STATUSES)
    # Live items always have a publication date; saying so lets the newest-first walk of the
    # date index skip the drafts' empty dates, which a descending index holds first.
    recent = list(session.scalars(select(Item).where(visible, live, Item.published_at.is_not(None))
                                  .order_by(Item.published_at.desc()).limit(10)))
    # Capped like a list's total: a busy month would otherwise read every item in it on each visit.
    new_counts = {kind: capped_count(session, select(Item.id).where(visible, live, Item.kind == kind,
                                                                    Item.published_at >= since), count_cap())
                  for kind in ItemKind}
    # Unreleased items one may see, or release, are one's own state's (or the secretariat's):
    # saying so lets the database read them from the (originator, status, updated) index.
    own = Item.originator_code == actor.country_code if actor.country_code else Item.originator_code.is_(None)
    unreleased = (select(Item).where(visible, own, Item.status.in_(access.UNRELEASED_STATUSES))
                  .order_by(Item.updated_at.desc()))
    awaiting = [i for i in session.scalars(unreleased.where(Item.status == ItemStatus.SUBMITTED).limit(20))
                if access.can_release(actor, i)]
    drafts = list(session.scalars(unreleased.where(Item.created_by_id == actor.id).limit(20)))
    return Dashboard(recent, new_counts, awaiting, drafts)


def exportable_denials(session: Session, actor: User, args: Mapping[str, Any]) -> list[Item]:
    """Published denials the actor may see, without TLP:RED (never in bulk exports)."""
    query = apply_filters(session, visible_items(actor), ItemKind.DENIAL, args).where(
        Item.status == ItemStatus.PUBLISHED, access.bulk_export_filter())
    return list(session.scalars(query.order_by(Item.published_at.desc()).limit(50_000)))


@dataclass
class ReadReceipt:
    country: str  # a country code, or "" for the secretariat
    first_opened: datetime
    readers: int


def read_receipts(session: Session, actor: User, item: Item) -> list[ReadReceipt]:
    """Which states opened the item, from the audit log. Only for the originating state."""
    if not access.can_see_read_receipts(actor, item):
        return []
    rows = session.execute(
        select(AuditEntry.actor_country, func.min(AuditEntry.at), func.count(distinct(AuditEntry.actor_id)))
        .where(AuditEntry.action == "item.opened", AuditEntry.target_id == str(item.id))
        .group_by(AuditEntry.actor_country).order_by(func.min(AuditEntry.at))
    ).all()
    return [ReadReceipt(country or "", first, count) for country, first, count in rows]


class ReceiptState(StrEnum):
    OPENED = "opened"
    NOT_YET = "not yet"
    NO_ACTIVE_USERS = "no active users"


@dataclass
class StateReceipt:
    owner: str  # a country code, or SECRETARIAT_OWNER
    state: ReceiptState
    first_opened: datetime | None = None
    readers: int = 0


@dataclass
class DownloadReceipt:
    filename: str
    owner: str  # the downloader's country code, or SECRETARIAT_OWNER
    person: str
    at: datetime


@dataclass
class Receipts:
    states: list[StateReceipt]
    downloads: list[DownloadReceipt]

    @property
    def opened(self) -> int:
        return sum(1 for s in self.states if s.state is ReceiptState.OPENED)


def _owner_of(user: User) -> str | None:
    return user.country_code if user.country_code else (SECRETARIAT_OWNER if access.is_secretariat(user) else None)


def _owners_with_readers(session: Session, item: Item, owners: set[str]) -> set[str]:
    """Which of `owners` have an active user who may open the item now. The rule depends only
    on role and state, so it is asked once per (role, state), not once per person."""
    groups: dict[tuple[Any, str], User] = {}
    for user in session.scalars(select(User).where(User.status == UserStatus.ACTIVE)):
        owner = _owner_of(user)
        if owner in owners and not access.is_admin(user):
            groups.setdefault((user.role, owner), user)
    reached: set[str] = set()
    for (_, owner), user in groups.items():
        if owner not in reached and session.scalar(
                select(Item.id).where(Item.id == item.id, access.items_filter(user))) is not None:
            reached.add(owner)
    return reached


def receipts(session: Session, actor: User, item: Item) -> Receipts | None:
    """Every state in the item's audience (but its own) with whether it opened the item, and who
    downloaded which of its files when. Only for the originating state (can_see_read_receipts)."""
    if not access.can_see_read_receipts(actor, item):
        return None
    from portal.attachments.service import audience  # the audience as key owners, over the register

    reach = audience(session, item)
    owners = set(reach.owners | reach.observers) - {item.originator_code or SECRETARIAT_OWNER}
    opened = {(r.country or SECRETARIAT_OWNER): r for r in read_receipts(session, actor, item)}
    active = _owners_with_readers(session, item, owners)
    states = []
    for owner in owners:
        receipt = opened.get(owner)
        if receipt is not None:
            states.append(StateReceipt(owner, ReceiptState.OPENED, receipt.first_opened, receipt.readers))
        else:
            unopened = ReceiptState.NOT_YET if owner in active else ReceiptState.NO_ACTIVE_USERS
            states.append(StateReceipt(owner, unopened))
    files = {str(a_id): name for a_id, name in session.execute(
        select(Attachment.id, Attachment.filename).where(Attachment.item_id == item.id))}
    downloads = []
    if files:
        rows = session.execute(
            select(AuditEntry.target_id, AuditEntry.actor_id, AuditEntry.actor_country, AuditEntry.at)
            .where(AuditEntry.action == "attachment.downloaded", AuditEntry.target_id.in_(list(files)))
            .order_by(AuditEntry.at.desc())).all()
        ids = {uuid.UUID(r.actor_id) for r in rows if r.actor_id}
        people = {str(u.id): u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
        for target, actor_id, country, at in rows:
            person = people.get(actor_id or "")
            owner = country or (_owner_of(person) if person else None) or SECRETARIAT_OWNER
            downloads.append(DownloadReceipt(files[str(target)], owner, person.name if person else "A former user", at))
    order = {ReceiptState.OPENED: 0, ReceiptState.NOT_YET: 1, ReceiptState.NO_ACTIVE_USERS: 2}
    states.sort(key=lambda s: (order[s.state], s.first_opened or datetime.max, s.owner))
    return Receipts(states, downloads)
