"""Items as plain records: the JSON API's contract and the denial exports.

Field names here are part of the contract national systems code against; change them only
with a new API version.
"""
from __future__ import annotations

from typing import Any

from portal import access
from portal.downloads import safe_cell
from portal.formats import format_country, format_date, format_datetime
from portal.kinds import labels_for
from portal.models.item import Item, ItemKind, ItemStatus, Tlp
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


# The exports are for people (a spreadsheet, a printout): labels and names, not codes, and every
# party field. The API above keeps the codes national systems use.
DENIAL_CSV_COLUMNS = (
    "Marking", "Reference", "Originating state", "Title", "Summary", "Version", "Status", "Decision", "Activity",
    "Date of decision", "Basis", "Control-list entries", "Description of the items", "Destination",
    "Stated end use", "Parties", "Reasons", "Rationale", "Published", "Review date", "Identifier",
)

TLP_ORDER = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)


def highest_marking(items: list[Item]) -> Tlp:
    """The strictest marking among `items` (TLP:CLEAR for none): it marks the whole export."""
    return max((item.tlp for item in items), key=TLP_ORDER.index, default=Tlp.CLEAR)


def marking_line(tlp: Tlp) -> str:
    """The export's first line: its highest marking, as TLP 2.0 writes it."""
    return f"TLP:{tlp.value}"


def _label(options: dict[str, str], code: Any) -> str:
    return options.get(code, code) if isinstance(code, str) else ""


def party_text(party: dict[str, Any]) -> str:
    """Every field of a party on one line, labelled: role, name, aliases, address, country."""
    role = labels_for(ItemKind.DENIAL)["party_roles"]
    parts = [f"{_label(role, party.get('role')) or 'Role not given'}: {party.get('name', '')}"]
    if party.get("aliases"):
        parts.append("also known as " + ", ".join(party["aliases"]))
    if party.get("address"):
        parts.append("address " + " ".join(str(party["address"]).split()))
    if party.get("country"):
        parts.append("country " + format_country(party["country"]))
    return "; ".join(parts)


def denial_labels(item: Item) -> dict[str, Any]:
    """A denial's coded fields as the page shows them (labels, names, dates), for the exports."""
    d, labels = item.details or {}, labels_for(ItemKind.DENIAL)
    return {
        "decision_type": _label(labels["decision_type"], d.get("decision_type")),
        "activity": _label(labels["activity"], d.get("activity")),
        "decision_date": format_date(d.get("decision_date")),
        "basis": _label(labels["basis"], d.get("basis")),
        "destination": format_country(d.get("destination")),
        "reason_codes": [_label(labels["reason_codes"], r) for r in d.get("reason_codes", [])],
        "parties": [{**p, "role": _label(labels["party_roles"], p.get("role")),
                     "country": format_country(p.get("country"))} for p in d.get("parties", [])],
        "originator": item.originator_name,
        "denial_status": item.denial_status.value.capitalize() if item.denial_status else "",
        "review_date": format_date(item.review_date),
        "published_at": format_datetime(item.published_at),
    }


def export_record(item: Item, viewer: User) -> dict[str, Any]:
    """The JSON export's record: the API record (codes, for machines) plus `labels`, the same
    fields as people read them."""
    record = item_record(item, viewer)
    if item.status is not ItemStatus.WITHDRAWN:
        record["labels"] = denial_labels(item)
    return record


def denial_csv_row(item: Item, viewer: User) -> list[str]:
    record = item_record(item, viewer)
    labels = denial_labels(item)
    row = [
        f"TLP:{item.tlp.value}", record.get("national_ref"), labels["originator"], record.get("title"),
        record.get("summary"), record.get("version"), labels["denial_status"], labels["decision_type"],
        labels["activity"], labels["decision_date"], labels["basis"],
        "; ".join(f"{e['regime']} {e['code']}" for e in record.get("control_entries", [])),
        record.get("item_description"), labels["destination"], record.get("end_use"),
        "\n".join(party_text(p) for p in record.get("parties", [])),
        "; ".join(labels["reason_codes"]), record.get("rationale"), labels["published_at"], labels["review_date"],
        record.get("id"),
    ]
    return [safe_cell(value) for value in row]


FIELD_LABELS = {
    "severity": "Severity", "categories": "Technology categories", "regions": "States concerned",
    "entities": "Entities of concern", "valid_until": "Valid until", "national_ref": "National reference",
    "decision_type": "Decision", "activity": "Activity", "decision_date": "Date of decision", "basis": "Basis",
    "control_entries": "Control-list entries", "item_description": "Description of the items",
    "destination": "Destination", "end_use": "Stated end use", "parties": "Parties", "reason_codes": "Reasons",
    "rationale": "Rationale", "category": "Category",
}


def readable_fields(kind: ItemKind, details: dict[str, Any]) -> list[tuple[str, str]]:
    """A version's kind-specific fields as people read them: (label, text), codes as labels,
    countries by name, dates in the one format, every party field."""
    labels = labels_for(kind)
    vocabulary = {"severity": labels["severity"], "categories": labels["categories"],
                  "decision_type": labels["decision_type"], "activity": labels["activity"], "basis": labels["basis"],
                  "reason_codes": labels["reason_codes"], "category": labels["category"]}
    rows = []
    for key, value in details.items():
        if key in ("parties",):
            text = "\n".join(party_text(p) for p in value or [])
        elif key == "control_entries":
            text = "; ".join(f"{e.get('regime', '')} {e.get('code', '')}".strip() for e in value or [])
        elif key in ("destination",):
            text = format_country(value)
        elif key == "regions":
            text = ", ".join(format_country(v) for v in value or [])
        elif key in ("decision_date", "valid_until"):
            text = format_date(value)
        elif key in vocabulary:
            codes = value if isinstance(value, list) else [value]
            text = "; ".join(_label(vocabulary[key], c) for c in codes if c)
        elif isinstance(value, list):
            text = "\n".join(str(v) for v in value)
        else:
            text = "" if value is None else str(value)
        rows.append((FIELD_LABELS.get(key, key.replace("_", " ").capitalize()), text or "–"))
    return rows
