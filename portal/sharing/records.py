"""Items as plain records: the JSON API's contract and the denial exports.

Field names here are part of the contract national systems code against; change them only
with a new API version.
"""
from __future__ import annotations

from typing import Any

from portal import access
from portal.downloads import safe_cell
from portal.models.item import Item, ItemKind, ItemStatus
from portal.models.user import User
from portal.sharing.markdown import render


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def item_record(item: Item, viewer: User) -> dict[str, Any]:
    """The API representation for `viewer`. A withdrawn item carries its notice, never its content;
    `audience.countries` is null when the named states are not the viewer's to know."""
    withdrawn = item.status is ItemStatus.WITHDRAWN
    named = item.named_countries if access.can_see_named_audience(viewer, item) else None
    record: dict[str, Any] = {
        "id": str(item.id),
        "kind": item.kind.value,
        "title": item.title,
        "summary": None if withdrawn else item.summary,
        "body": None if withdrawn else item.body,
        "body_html": None if withdrawn else str(render(item.body)),
        "tlp": item.tlp.value,
        "audience": {"all_subscribing": item.all_subscribing, "countries": named,
                     "secretariat": item.to_secretariat, "observers": item.to_observers},
        "status": item.status.value,
        "originator": item.originator_code or "SECRETARIAT",
        "version": item.version,
        "created_at": _iso(item.created_at),
        "updated_at": _iso(item.updated_at),
        "published_at": _iso(item.published_at),
    }
    if withdrawn:
        record["withdrawal"] = {"at": _iso(item.withdrawn_at), "reason": item.withdrawal_reason}
        return record
    record.update(item.details)
    if item.kind is ItemKind.DENIAL:
        record["denial_status"] = item.denial_status.value if item.denial_status else None
        record["review_date"] = _iso(item.review_date)
    return record


DENIAL_CSV_COLUMNS = (
    "id", "originator", "national_ref", "version", "denial_status", "tlp", "decision_type", "activity",
    "decision_date", "basis", "control_entries", "item_description", "destination", "end_use", "parties",
    "reason_codes", "rationale", "published_at", "review_date", "title", "summary",
)



def denial_csv_row(item: Item, viewer: User) -> list[str]:
    record = item_record(item, viewer)
    record["control_entries"] = "; ".join(f"{e['regime']} {e['code']}" for e in record.get("control_entries", []))
    record["parties"] = "; ".join(
        f"{p['role']}: {p['name']}" + (f" ({p['country']})" if p.get("country") else "") for p in record.get("parties", []))
    record["reason_codes"] = "; ".join(record.get("reason_codes", []))
    return [safe_cell(record.get(column)) for column in DENIAL_CSV_COLUMNS]
