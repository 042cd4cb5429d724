"""Counting activity for the overview. Only counts, never titles; items are counted through
access.items_filter (what the viewer may see) and participation through access.overview_states."""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import access
from portal.errors import NotFound
from portal.kinds import KINDS
from portal.models.audit import AuditEntry
from portal.models.base import utcnow
from portal.models.consultation import Consultation, ConsultationStatus
from portal.models.country import Country, CountryStatus
from portal.models.item import Item, ItemKind, Tlp
from portal.models.meeting import ActionItem, ActionKind, ActionStatus, Delegate, Meeting, MeetingStatus
from portal.models.user import User

MONTHS = 12


@dataclass
class Table:
    """One chart's data: a caption, column headings and rows of (label, counts...)."""

    name: str
    caption: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)

    def csv_rows(self) -> list[list[Any]]:
        return [self.columns, *self.rows]


def _months(today: date) -> list[str]:
    year, month = today.year, today.month
    out = []
    for _ in range(MONTHS):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(out))


def items_per_month(session: Session, viewer: User, today: date | None = None) -> tuple[Table, Table]:
    """Items published per month that the viewer may see (a SPOC: their own state's), by kind and by marking."""
    months = _months(today or utcnow().date())
    start = datetime.fromisoformat(months[0] + "-01").replace(tzinfo=UTC)
    query = select(Item.published_at, Item.kind, Item.tlp).where(
        access.items_filter(viewer), Item.status.in_(access.LIVE_STATUSES), Item.published_at >= start)
    states = access.overview_states(viewer)
    if states is not None:
        query = query.where(Item.originator_code.in_(states))
    by_kind: Counter[tuple[str, ItemKind]] = Counter()
    by_tlp: Counter[tuple[str, Tlp]] = Counter()
    for published_at, kind, tlp in session.execute(query):
        if published_at is None:
            continue
        month = published_at.strftime("%Y-%m")
        by_kind[(month, kind)] += 1
        by_tlp[(month, tlp)] += 1
    kinds = list(ItemKind)
    kind_table = Table("items-by-kind", "Items shared per month, by kind",
                       ["Month", *[KINDS[k].plural for k in kinds]],
                       [[m, *[by_kind[(m, k)] for k in kinds]] for m in months])
    tlp_table = Table("items-by-marking", "Items shared per month, by marking",
                      ["Month", *[f"TLP:{t.value}" for t in Tlp]],
                      [[m, *[by_tlp[(m, t)] for t in Tlp]] for m in months])
    return kind_table, tlp_table


def _state_names(session: Session, viewer: User) -> dict[str, str]:
    states = access.overview_states(viewer)
    query = select(Country.code, Country.name).where(Country.status == CountryStatus.SUBSCRIBING).order_by(Country.name)
    if states is not None:
        query = select(Country.code, Country.name).where(Country.code.in_(states))
    return dict(session.execute(query).all())


def participation(session: Session, viewer: User) -> Table:
    """Per state: items published and items of other states opened (first opening per person)."""
    names = _state_names(session, viewer)
    shared = dict(session.execute(select(Item.originator_code, func.count()).where(
        Item.status.in_(access.LIVE_STATUSES), Item.originator_code.in_(list(names)))
        .group_by(Item.originator_code)).all())
    opened = dict(session.execute(select(AuditEntry.actor_country, func.count()).where(
        AuditEntry.action == "item.opened", AuditEntry.actor_country.in_(list(names)))
        .group_by(AuditEntry.actor_country)).all())
    return Table("participation", "States' participation", ["State", "Items shared", "Items opened"],
                 [[name, shared.get(code, 0), opened.get(code, 0)] for code, name in names.items()])


def attendance(session: Session, viewer: User) -> Table:
    """Per meeting the viewer sees (held or past, newest first): how many states registered delegates."""
    names = _state_names(session, viewer)
    meetings = list(session.scalars(select(Meeting).where(
        access.meetings_filter(viewer), Meeting.status != MeetingStatus.CANCELLED,
        Meeting.status != MeetingStatus.DRAFT).order_by(Meeting.starts_at.desc()).limit(12)))
    counts = dict(session.execute(select(Delegate.meeting_id, func.count(func.distinct(Delegate.country_code))).where(
        Delegate.meeting_id.in_([m.id for m in meetings]), Delegate.country_code.in_(list(names)))
        .group_by(Delegate.meeting_id)).all()) if meetings else {}
    column = "States with delegates" if access.overview_states(viewer) is None else "Your state registered"
    return Table("attendance", "Meeting attendance", ["Meeting", "Starts", column],
                 [[m.title, m.starts_at.date().isoformat(), counts.get(m.id, 0)] for m in reversed(meetings)])


def overdue_actions(session: Session, viewer: User, today: date | None = None) -> Table:
    """Per state: open actions past their due date."""
    today = today or utcnow().date()
    names = _state_names(session, viewer)
    counts = dict(session.execute(select(ActionItem.owner_state_code, func.count()).join(
        Meeting, Meeting.id == ActionItem.meeting_id).where(
        access.actions_filter(viewer), ActionItem.kind == ActionKind.ACTION, ActionItem.status == ActionStatus.OPEN,
        ActionItem.due_date < today, ActionItem.owner_state_code.in_(list(names)))
        .group_by(ActionItem.owner_state_code)).all())
    rows = [[name, counts.get(code, 0)] for code, name in names.items()]
    if access.overview_states(viewer) is None:
        rows = [r for r in rows if r[1]] or rows[:0]
    return Table("overdue-actions", "Overdue actions", ["State", "Overdue actions"], rows)


def _median_days(days: list[float]) -> str:
    return f"{statistics.median(days):.1f}" if days else "–"


def consultation_response_times(session: Session, viewer: User) -> Table:
    """Per denying state: consultations answered, the median days from opening to the first answer,
    and those still waiting for one. Dates and states only, never what was asked or answered."""
    names = _state_names(session, viewer)
    query = select(Consultation.denying_code, Consultation.status, Consultation.created_at,
                   Consultation.answered_at).where(Consultation.denying_code.in_(list(names)))
    if access.overview_states(viewer) is not None:
        # A SPOC: their own state's answers, among the consultations they may see.
        query = query.where(access.consultations_filter(viewer))
    # The secretariat takes part in no consultation; it gets timing figures per state, which are
    # participation data for plenaries, read here without any of the consultations' content.
    days: dict[str, list[float]] = {code: [] for code in names}
    waiting: Counter[str] = Counter()
    for code, status, created_at, answered_at in session.execute(query):
        if answered_at is not None:
            days[code].append(max((answered_at - created_at).total_seconds(), 0) / 86400)
        elif status is ConsultationStatus.OPEN:
            waiting[code] += 1
    rows = [[name, len(days[code]), _median_days(days[code]), waiting[code]] for code, name in names.items()
            if days[code] or waiting[code]]
    return Table("consultation-response-times", "Consultation response times",
                 ["Denying state", "Consultations answered", "Median days to answer", "Awaiting an answer"], rows)


def overview(session: Session, viewer: User) -> list[Table]:
    """Every table of the overview, in page order."""
    if not access.can_view_overview(viewer):
        raise NotFound()
    kinds, markings = items_per_month(session, viewer)
    return [kinds, markings, participation(session, viewer), consultation_response_times(session, viewer),
            attendance(session, viewer), overdue_actions(session, viewer)]
