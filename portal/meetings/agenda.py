"""A meeting's agenda: ordered items, editable until the meeting is held, published as versions.

The secretariat works on the live agenda; invited states read the last published version.
Linked shared items are stored by id and shown to each viewer only when access.items_filter
lets that viewer see them.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import access, audit, versions
from portal.errors import Forbidden, Locked, NotFound, ValidationFailed
from portal.meetings import times
from portal.models.base import utcnow
from portal.models.country import Country
from portal.models.item import Item, ItemStatus
from portal.models.meeting import AgendaItem, AgendaItemLink, AgendaVersion, Meeting
from portal.models.user import User
from portal.validation import Checker

UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MAX_LINKS = 20
MAX_ITEMS = 100


@dataclass
class AgendaRow:
    """One agenda line as a viewer sees it (from the live agenda or a published version)."""

    position: int
    title: str
    description: str
    lead_state: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    item_ids: list[uuid.UUID]
    id: uuid.UUID | None = None
    links: list[Item] = field(default_factory=list)


def _locked_check(actor: User, meeting: Meeting) -> None:
    if not access.can_manage_meetings(actor):
        raise Forbidden("Only the secretariat edits the agenda.")
    if not meeting.is_open_for_changes:
        raise Locked("The agenda is frozen once the meeting has been held or cancelled.")


def live_items(session: Session, meeting: Meeting) -> list[AgendaItem]:
    """The secretariat's working agenda, in order."""
    return list(session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
                                .order_by(AgendaItem.position, AgendaItem.created_at)))


def get_item(session: Session, meeting: Meeting, agenda_item_id: uuid.UUID) -> AgendaItem:
    """One item of the meeting's agenda; NotFound otherwise."""
    found = session.scalar(select(AgendaItem).where(AgendaItem.id == agenda_item_id,
                                                    AgendaItem.meeting_id == meeting.id))
    if found is None:
        raise NotFound()
    return found


def parse_item_ids(text: str) -> list[uuid.UUID]:
    """Item ids from pasted text: bare ids or portal addresses, one per line."""
    seen: list[uuid.UUID] = []
    for match in UUID_PATTERN.findall(text or ""):
        value = uuid.UUID(match)
        if value not in seen:
            seen.append(value)
    return seen


def _slot(c: Checker, name: str, meeting: Meeting) -> datetime | None:
    """An optional time slot boundary, in the meeting's zone, within the meeting."""
    raw = c.moment(name)
    if raw is None:
        return None
    moment = times.to_utc(raw, meeting.timezone)
    if moment is None:
        c.fail(name, f"That time does not exist in {meeting.timezone}.")
    elif not meeting.starts_at <= moment <= meeting.ends_at:
        c.fail(name, "Choose a time during the meeting.")
    return moment


def _validate(session: Session, actor: User, meeting: Meeting, payload: Mapping[str, Any]) -> dict[str, Any]:
    c = Checker(dict(payload))
    title = c.text("title", required=True, limit=300, missing="Enter the agenda item's title.")
    description = c.text("description", limit=10_000, multiline=True)
    lead = c.text("lead_state", limit=10).upper() or None
    if lead and session.get(Country, lead) is None:
        c.fail("lead_state", "Choose a state from the register.")
    starts, ends = _slot(c, "starts_at", meeting), _slot(c, "ends_at", meeting)
    if ends and not starts and "starts_at" not in c.errors:
        c.fail("starts_at", "Give the start of the time slot too.")
    if starts and ends and ends <= starts:
        c.fail("ends_at", "The slot must end after it starts.")
    ids = parse_item_ids(c.text("items", limit=MAX_LINKS * 200, multiline=True))
    if len(ids) > MAX_LINKS:
        c.fail("items", f"Link at most {MAX_LINKS} items.")
    elif ids:
        found = set(session.scalars(select(Item.id).where(
            Item.id.in_(ids), Item.status == ItemStatus.PUBLISHED, access.items_filter(actor))))
        missing = [str(i) for i in ids if i not in found]
        if missing:
            c.fail("items", "Not found among the published items shared with the secretariat: "
                   + ", ".join(missing) + ".")
    c.done()
    return {"title": title, "description": description, "lead_state_code": lead, "starts_at": starts,
            "ends_at": ends, "ids": ids}


def _fill(agenda_item: AgendaItem, clean: dict[str, Any]) -> None:
    ids = clean.pop("ids")
    for name, value in clean.items():
        setattr(agenda_item, name, value)
    agenda_item.links = [AgendaItemLink(item_id=i, position=n) for n, i in enumerate(ids)]
    agenda_item.updated_at = utcnow()


def add_item(session: Session, actor: User, meeting: Meeting, payload: Mapping[str, Any]) -> AgendaItem:
    """Append an item to the agenda."""
    _locked_check(actor, meeting)
    clean = _validate(session, actor, meeting, payload)
    count = session.scalar(select(func.count()).where(AgendaItem.meeting_id == meeting.id)) or 0
    if count >= MAX_ITEMS:
        raise ValidationFailed(f"An agenda holds at most {MAX_ITEMS} items.")
    agenda_item = AgendaItem(id=uuid.uuid4(), meeting_id=meeting.id, position=count + 1)
    _fill(agenda_item, clean)
    session.add(agenda_item)
    session.flush()
    audit.record(session, "meeting.agenda_item_added", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"agenda_item": str(agenda_item.id)})
    session.commit()
    return agenda_item


def update_item(session: Session, actor: User, meeting: Meeting, agenda_item: AgendaItem,
                payload: Mapping[str, Any]) -> None:
    """Change an agenda item."""
    _locked_check(actor, meeting)
    _fill(agenda_item, _validate(session, actor, meeting, payload))
    audit.record(session, "meeting.agenda_item_edited", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"agenda_item": str(agenda_item.id)})
    session.commit()


def _renumber(rows: list[AgendaItem]) -> None:
    for number, row in enumerate(rows, start=1):
        row.position = number


def move_item(session: Session, actor: User, meeting: Meeting, agenda_item: AgendaItem, direction: str) -> None:
    """Move an item one place up or down."""
    _locked_check(actor, meeting)
    rows = live_items(session, meeting)
    index = next(i for i, row in enumerate(rows) if row.id == agenda_item.id)
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= target < len(rows):
        raise ValidationFailed("This item cannot move further.")
    rows[index], rows[target] = rows[target], rows[index]
    _renumber(rows)
    audit.record(session, "meeting.agenda_reordered", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"agenda_item": str(agenda_item.id), "position": agenda_item.position})
    session.commit()


def delete_item(session: Session, actor: User, meeting: Meeting, agenda_item: AgendaItem) -> None:
    """Remove an item from the agenda."""
    _locked_check(actor, meeting)
    session.delete(agenda_item)
    session.flush()
    _renumber(live_items(session, meeting))
    audit.record(session, "meeting.agenda_item_removed", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"agenda_item": str(agenda_item.id)})
    session.commit()


def _serialise(rows: list[AgendaItem]) -> list[dict[str, Any]]:
    return [{"position": r.position, "title": r.title, "description": r.description, "lead_state": r.lead_state_code,
             "starts_at": r.starts_at.isoformat() if r.starts_at else None,
             "ends_at": r.ends_at.isoformat() if r.ends_at else None,
             "items": [str(i) for i in r.linked_item_ids]} for r in rows]


def latest_version(session: Session, meeting: Meeting) -> AgendaVersion | None:
    """The agenda last published to the invited states (None before the announcement)."""
    return versions.latest(session, AgendaVersion, AgendaVersion.meeting_id == meeting.id)


def published_versions(session: Session, viewer: User, meeting: Meeting) -> list[AgendaVersion]:
    """The published versions of the agenda `viewer` may read, newest first."""
    rows = versions.newest_first(session, AgendaVersion, AgendaVersion.meeting_id == meeting.id)
    latest = rows[0].version if rows else 0
    return [v for v in rows if access.can_view_agenda_version(viewer, meeting, v, latest)]


def get_version(session: Session, viewer: User, meeting: Meeting, number: int) -> AgendaVersion:
    """One published version of the agenda, if `viewer` may read it; NotFound otherwise."""
    found = versions.numbered(session, AgendaVersion, AgendaVersion.meeting_id == meeting.id, number)
    latest = latest_version(session, meeting)
    if found is None or latest is None or not access.can_view_agenda_version(viewer, meeting, found, latest.version):
        raise NotFound()
    return found


def has_unpublished_changes(session: Session, meeting: Meeting) -> bool:
    """Whether the working agenda differs from the version the states see."""
    latest = latest_version(session, meeting)
    return latest is None or latest.snapshot != _serialise(live_items(session, meeting))


def snapshot(session: Session, actor: User, meeting: Meeting) -> AgendaVersion:
    """Record the live agenda as the next published version (in the caller's transaction)."""
    latest = latest_version(session, meeting)
    # The version keeps whom it was published to: a state invited later reads the current
    # agenda, not the earlier ones (access.can_view_agenda_version).
    version = AgendaVersion(meeting_id=meeting.id, version=versions.next_number(latest),
                            snapshot=_serialise(live_items(session, meeting)), published_at=utcnow(),
                            published_by_id=actor.id, invite_all_subscribing=meeting.invite_all_subscribing,
                            invite_observers=meeting.invite_observers, invited_states=list(meeting.named_states))
    session.add(version)
    session.flush()
    return version


def publish(session: Session, actor: User, meeting: Meeting) -> AgendaVersion:
    """Publish the current agenda to the invited states as a new version."""
    _locked_check(actor, meeting)
    if not meeting.is_announced:
        raise ValidationFailed("The agenda is published when the meeting is announced.")
    if not has_unpublished_changes(session, meeting):
        raise ValidationFailed("The agenda has not changed since its last published version.")
    version = snapshot(session, actor, meeting)
    audit.record(session, "meeting.agenda_published", actor=actor, target_type="meeting", target_id=meeting.id,
                 details={"version": version.version})
    session.commit()
    return version


def _rows_from_snapshot(data: list[dict[str, Any]]) -> list[AgendaRow]:
    def moment(raw: str | None) -> datetime | None:
        return datetime.fromisoformat(raw) if raw else None

    return [AgendaRow(position=d["position"], title=d["title"], description=d.get("description", ""),
                      lead_state=d.get("lead_state"), starts_at=moment(d.get("starts_at")),
                      ends_at=moment(d.get("ends_at")), item_ids=[uuid.UUID(i) for i in d.get("items", [])])
            for d in data]


def rows_for(session: Session, viewer: User, meeting: Meeting, version: AgendaVersion | None = None) -> list[AgendaRow]:
    """The agenda as `viewer` sees it: the live one for the secretariat, else the last published version."""
    if version is None and access.can_manage_meetings(viewer):
        rows = [AgendaRow(position=r.position, title=r.title, description=r.description, lead_state=r.lead_state_code,
                          starts_at=r.starts_at, ends_at=r.ends_at, item_ids=r.linked_item_ids, id=r.id)
                for r in live_items(session, meeting)]
    else:
        version = version or latest_version(session, meeting)
        rows = _rows_from_snapshot(version.snapshot) if version else []
    wanted = {i for row in rows for i in row.item_ids}
    if wanted:
        query = select(Item).where(Item.id.in_(wanted), access.items_filter(viewer))
        visible = {i.id: i for i in session.scalars(query)}
        for row in rows:
            row.links = [visible[i] for i in row.item_ids if i in visible]
    return rows
