"""HTML forms for items. They convert to and from the API payload so validation is shared."""
from __future__ import annotations

from typing import Any

from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.forms import CheckboxesField, PortalForm
from portal.models.item import Item, ItemKind, Tlp
from portal import kinds
from portal.sharing import schema

TLP_CHOICES = [
    (Tlp.CLEAR.value, "TLP:CLEAR – may be shared without restriction"),
    (Tlp.GREEN.value, "TLP:GREEN – the community, not public"),
    (Tlp.AMBER.value, "TLP:AMBER – recipients' organisations, need to know"),
    (Tlp.AMBER_STRICT.value, "TLP:AMBER+STRICT – recipients' organisations only"),
    (Tlp.RED.value, "TLP:RED – named recipients only"),
]



def _choices(options: dict[str, str], blank: str | None = None) -> list[tuple[str, str]]:
    return ([("", blank)] if blank else []) + list(options.items())


class ItemForm(PortalForm):
    title = StringField("Title", validators=[Length(max=schema.MAX_TITLE)])
    summary = TextAreaField("Summary", validators=[Length(max=schema.MAX_SUMMARY)],
                            description="Two or three sentences. Shown in lists and, for TLP:CLEAR and GREEN, in e-mails.")
    body = TextAreaField("Details", validators=[Length(max=schema.MAX_BODY)],
                         description="Markdown: # headings, **bold**, lists, links. No images or HTML.")
    tlp = SelectField("TLP marking", choices=TLP_CHOICES, default=Tlp.AMBER.value)
    all_subscribing = BooleanField("All subscribing states")
    countries = CheckboxesField("Named states", choices=[], validate_choice=False, render_kw={"class": "columns"},
                                description="Tick each state to share with by name. TLP:RED needs at least one.")
    secretariat = BooleanField("The secretariat")
    observers = BooleanField("Observer states (TLP:CLEAR and GREEN only)")

    def audience_payload(self) -> dict[str, Any]:
        return {"all_subscribing": bool(self.all_subscribing.data), "countries": list(self.countries.data or []),
                "secretariat": bool(self.secretariat.data), "observers": bool(self.observers.data)}

    def common_payload(self) -> dict[str, Any]:
        return {"title": self.title.data or "", "summary": self.summary.data or "", "body": self.body.data or "",
                "tlp": self.tlp.data, "audience": self.audience_payload()}


class ThreatNoticeForm(ItemForm):
    severity = SelectField("Severity", choices=_choices(kinds.SEVERITIES, "Choose"))
    categories = CheckboxesField("Technology categories", choices=_choices(kinds.THREAT_CATEGORIES))
    regions = StringField("States or regions concerned", description="Two-letter ISO codes separated by commas, e.g. MM, BY.")
    entities = TextAreaField("Entities of concern", description="One per line.")
    valid_until = DateField("Valid until", validators=[Optional()])

    def payload(self) -> dict[str, Any]:
        return {**self.common_payload(), "severity": self.severity.data or None,
                "categories": list(self.categories.data or []),
                "regions": [r.strip().upper() for r in (self.regions.data or "").split(",") if r.strip()],
                "entities": _lines(self.entities.data),
                "valid_until": self.valid_until.data.isoformat() if self.valid_until.data else None}


class DenialForm(ItemForm):
    national_ref = StringField("National reference", description="Unique within your state, e.g. DK-2026-0042.")
    decision_type = SelectField("Decision", choices=_choices(kinds.DECISION_TYPES, "Choose"))
    activity = SelectField("Activity", choices=_choices(kinds.ACTIVITIES, "Choose"))
    decision_date = DateField("Date of decision", validators=[Optional()])
    basis = SelectField("Basis", choices=_choices(kinds.BASES, "Choose"))
    control_entries = TextAreaField("Control-list entries", description="One per line: regime, then entry code. e.g. Wassenaar 5A001.j")
    item_description = TextAreaField("Description of the items")
    destination = StringField("Destination", validators=[Length(max=2)], description="Two-letter ISO code.")
    end_use = TextAreaField("Stated end use")
    parties = TextAreaField(
        "Parties",
        description="One per line: role | name | aliases separated by ; | address | country code. "
                    "Roles: end_user, consignee, intermediate_consignee, purchaser, broker.")
    reason_codes = CheckboxesField("Reasons", choices=_choices(kinds.REASON_CODES))
    rationale = TextAreaField("Rationale")

    def payload(self) -> dict[str, Any]:
        entries = []
        for line in _lines(self.control_entries.data):
            regime, _, code = line.rpartition(" ")
            entries.append({"regime": regime.strip(), "code": code.strip()})
        parties = []
        for line in _lines(self.parties.data):
            cells = [c.strip() for c in line.split("|")] + [""] * 5
            parties.append({"role": cells[0], "name": cells[1],
                            "aliases": [a.strip() for a in cells[2].split(";") if a.strip()],
                            "address": cells[3], "country": cells[4]})
        return {**self.common_payload(), "national_ref": self.national_ref.data or "",
                "decision_type": self.decision_type.data or None, "activity": self.activity.data or None,
                "decision_date": self.decision_date.data.isoformat() if self.decision_date.data else None,
                "basis": self.basis.data or None, "control_entries": entries,
                "item_description": self.item_description.data or "", "destination": (self.destination.data or "").upper(),
                "end_use": self.end_use.data or "", "parties": parties,
                "reason_codes": list(self.reason_codes.data or []), "rationale": self.rationale.data or ""}


class DocumentForm(ItemForm):
    category = SelectField("Category", choices=_choices(kinds.DOCUMENT_CATEGORIES, "Choose"))

    def payload(self) -> dict[str, Any]:
        return {**self.common_payload(), "category": self.category.data or None}


FORMS: dict[ItemKind, type[ItemForm]] = {
    ItemKind.THREAT_NOTICE: ThreatNoticeForm, ItemKind.DENIAL: DenialForm, ItemKind.DOCUMENT: DocumentForm,
}


class ChangeNoteForm(PortalForm):
    change_note = TextAreaField("What changed in this version", validators=[Length(max=4000)])


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def form_data(item: Item) -> dict[str, Any]:
    """An item's current fields in the shape the form expects (for editing and amending)."""
    d = item.details
    data: dict[str, Any] = {
        "title": item.title, "summary": item.summary, "body": item.body, "tlp": item.tlp.value,
        "all_subscribing": item.all_subscribing, "countries": item.named_countries,
        "secretariat": item.to_secretariat, "observers": item.to_observers,
    }
    if item.kind is ItemKind.THREAT_NOTICE:
        data.update(severity=d.get("severity"), categories=d.get("categories", []),
                    regions=", ".join(d.get("regions", [])), entities="\n".join(d.get("entities", [])),
                    valid_until=_to_date(d.get("valid_until")))
    elif item.kind is ItemKind.DENIAL:
        data.update({k: d.get(k) for k in ("national_ref", "decision_type", "activity", "basis", "item_description",
                                           "destination", "end_use", "rationale")})
        data["decision_date"] = _to_date(d.get("decision_date"))
        data["reason_codes"] = d.get("reason_codes", [])
        data["control_entries"] = "\n".join(f"{e['regime']} {e['code']}" for e in d.get("control_entries", []))
        data["parties"] = "\n".join(" | ".join([p.get("role") or "", p.get("name", ""), "; ".join(p.get("aliases", [])),
                                                p.get("address", ""), p.get("country", "")]) for p in d.get("parties", []))
    else:
        data["category"] = d.get("category")
    return data


def _to_date(raw: str | None) -> Any:
    from datetime import date

    return date.fromisoformat(raw) if raw else None


def field_for_error(path: str) -> str:
    """Map a validation path (e.g. audience.countries, parties[2].name) to a form field name."""
    head = path.split("[", 1)[0]
    return head.split(".", 1)[1] if head.startswith("audience.") else head
