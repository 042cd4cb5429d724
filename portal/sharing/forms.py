"""HTML forms for items. They convert to and from the API payload so validation is shared."""
from __future__ import annotations

from typing import Any

from wtforms import (
    BooleanField, DateField, FieldList, Form, FormField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import Length, Optional

from portal.country_names import country_names
from portal.forms import OPTIONAL, BlankForNow, CheckboxesField, PortalForm
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



# Select fields leave the value check to the service (validate_choice=False): its message is
# the specific one ("Choose the decision."), a draft may leave them blank, and the API shares it.
def _choices(options: dict[str, str], blank: str | None = None) -> list[tuple[str, str]]:
    return ([("", blank)] if blank else []) + list(options.items())


def country_choices(blank: str = "Choose a country") -> list[tuple[str, str]]:
    """Every country by name (the value is its ISO code, which the API uses)."""
    return [("", blank), *country_names().items()]


class PartyForm(Form):
    """One party of a denial: a repeatable fieldset ("Add another party")."""

    role = SelectField("Role", choices=_choices(kinds.PARTY_ROLES, "Choose a role"), validate_choice=False)
    name = StringField("Name", validators=[Length(max=300)])
    aliases = StringField("Also known as", validators=[OPTIONAL, Length(max=4000)],
                          description="Other names or spellings, separated by semicolons (;).")
    address = TextAreaField("Address", validators=[OPTIONAL, Length(max=1000)], render_kw={"rows": 2})
    country = SelectField("Country", choices=country_choices(), validators=[OPTIONAL], validate_choice=False)

    def is_blank(self) -> bool:
        return not any((self[name].data or "").strip() for name in ("role", "name", "aliases", "address", "country"))

    def payload(self) -> dict[str, Any]:
        return {"role": self.role.data or None, "name": self.name.data or "",
                "aliases": [a.strip() for a in (self.aliases.data or "").split(";") if a.strip()],
                "address": self.address.data or "", "country": self.country.data or ""}


class ControlEntryForm(Form):
    """One control-list entry of a denial: regime and entry code."""

    regime = StringField("Regime", validators=[Length(max=60)], description="e.g. Wassenaar")
    code = StringField("Entry", validators=[Length(max=60)], description="e.g. 5A001.j")

    def is_blank(self) -> bool:
        return not ((self.regime.data or "").strip() or (self.code.data or "").strip())


class ItemForm(PortalForm):
    title = StringField("Title", validators=[Length(max=schema.MAX_TITLE)])
    summary = TextAreaField("Summary", validators=[OPTIONAL, Length(max=schema.MAX_SUMMARY)],
                            description="Two or three sentences. Shown in lists and, for TLP:CLEAR and GREEN, "
                                        "in e-mails.")
    body = TextAreaField("Details", validators=[OPTIONAL, Length(max=schema.MAX_BODY)],
                         description="Markdown: # headings, **bold**, lists, links. No images or HTML.")
    tlp = SelectField("TLP marking", choices=TLP_CHOICES, default=Tlp.AMBER.value)
    all_subscribing = BooleanField("All subscribing states")
    countries = CheckboxesField("Named states", choices=[], validate_choice=False, render_kw={"class": "columns"},
                                validators=[OPTIONAL],
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
    severity = SelectField("Severity", choices=_choices(kinds.SEVERITIES, "Choose"), validate_choice=False)
    categories = CheckboxesField("Technology categories", choices=_choices(kinds.THREAT_CATEGORIES))
    # Chosen by name like every other country on the pages; the API keeps the ISO codes.
    regions = SelectMultipleField("States concerned", choices=country_choices()[1:], validators=[OPTIONAL],
                                  validate_choice=False, render_kw={"size": 8},
                                  description="Choose one or more (Ctrl or Cmd and click, or Shift and the arrow "
                                              "keys, to choose several).")
    entities = TextAreaField("Entities of concern", validators=[OPTIONAL], description="One per line.")
    valid_until = DateField("Valid until", validators=[Optional()])

    def payload(self) -> dict[str, Any]:
        return {**self.common_payload(), "severity": self.severity.data or None,
                "categories": list(self.categories.data or []),
                "regions": list(self.regions.data or []),
                "entities": _lines(self.entities.data),
                "valid_until": self.valid_until.data.isoformat() if self.valid_until.data else None}


class DenialForm(ItemForm):
    national_ref = StringField("National reference", description="Unique within your state, e.g. DK-2026-0042.")
    decision_type = SelectField("Decision", choices=_choices(kinds.DECISION_TYPES, "Choose"), validate_choice=False)
    activity = SelectField("Activity", choices=_choices(kinds.ACTIVITIES, "Choose"), validate_choice=False)
    decision_date = DateField("Date of decision", validators=[BlankForNow()])
    basis = SelectField("Basis", choices=_choices(kinds.BASES, "Choose"), validate_choice=False)
    control_entries = FieldList(FormField(ControlEntryForm), label="Control-list entries", min_entries=1,
                                max_entries=100)
    item_description = TextAreaField("Description of the items")
    destination = SelectField("Destination", choices=country_choices(), validate_choice=False)
    end_use = TextAreaField("Stated end use", validators=[OPTIONAL])
    parties = FieldList(FormField(PartyForm), label="Parties", min_entries=1, max_entries=100)
    reason_codes = CheckboxesField("Reasons", choices=_choices(kinds.REASON_CODES))
    rationale = TextAreaField("Rationale")

    def row_indexes(self, name: str) -> list[int]:
        """The form rows (0-based) that reach the payload: blank rows are left out, so a
        service error on payload row i belongs to form row row_indexes(name)[i]."""
        return [i for i, entry in enumerate(getattr(self, name)) if not entry.form.is_blank()]

    def payload(self) -> dict[str, Any]:
        entries = [{"regime": (self.control_entries[i].form.regime.data or "").strip(),
                    "code": (self.control_entries[i].form.code.data or "").strip()}
                   for i in self.row_indexes("control_entries")]
        parties = [self.parties[i].form.payload() for i in self.row_indexes("parties")]
        return {**self.common_payload(), "national_ref": self.national_ref.data or "",
                "decision_type": self.decision_type.data or None, "activity": self.activity.data or None,
                "decision_date": self.decision_date.data.isoformat() if self.decision_date.data else None,
                "basis": self.basis.data or None, "control_entries": entries,
                "item_description": self.item_description.data or "",
                "destination": (self.destination.data or "").upper(),
                "end_use": self.end_use.data or "", "parties": parties,
                "reason_codes": list(self.reason_codes.data or []), "rationale": self.rationale.data or ""}


class DocumentForm(ItemForm):
    category = SelectField("Category", choices=_choices(kinds.DOCUMENT_CATEGORIES, "Choose"), validate_choice=False)

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
                    regions=list(d.get("regions", [])), entities="\n".join(d.get("entities", [])),
                    valid_until=_to_date(d.get("valid_until")))
    elif item.kind is ItemKind.DENIAL:
        data.update({k: d.get(k) for k in ("national_ref", "decision_type", "activity", "basis", "item_description",
                                           "destination", "end_use", "rationale")})
        data["decision_date"] = _to_date(d.get("decision_date"))
        data["reason_codes"] = d.get("reason_codes", [])
        data["control_entries"] = [{"regime": e.get("regime", ""), "code": e.get("code", "")}
                                   for e in d.get("control_entries", [])]
        data["parties"] = [{"role": p.get("role") or "", "name": p.get("name", ""),
                            "aliases": "; ".join(p.get("aliases", [])), "address": p.get("address", ""),
                            "country": p.get("country", "")} for p in d.get("parties", [])]
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


def place_error(form: ItemForm, path: str, message: str) -> bool:
    """Put a service error beside its field (a party's or an entry's own sub-field); False if
    no field of the form answers to `path`."""
    name = field_for_error(path)
    field = getattr(form, name, None)
    if field is None:
        return False
    if isinstance(field, FieldList) and isinstance(form, DenialForm):
        index = path.partition("]")[0].partition("[")[2]  # "parties[1].role" -> "1", "role"
        sub = path.partition("].")[2]
        rows = form.row_indexes(name)
        if index.isdigit() and int(index) < len(rows):
            row = rows[int(index)]
            target = getattr(field[row].form, sub, None) if sub else None
            if target is not None:
                # The service numbers what it was sent; the page numbers its rows, blank ones too.
                for noun in ("Party", "Control-list entry"):
                    message = message.replace(f"{noun} {int(index) + 1}: ", f"{noun} {row + 1}: ", 1)
                target.errors = [*target.errors, message]
                return True
        field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        return True
    field.errors = [*field.errors, message]
    return True


def error_list(form: PortalForm) -> list[tuple[str, str]]:
    """Every error on the form as (field id, message), sub-fields of repeated fieldsets
    included, for the one error summary at the top of the page."""
    found: list[tuple[str, str]] = []
    for field in form:
        if field.name == "csrf_token":
            continue
        if isinstance(field, FieldList):
            for number, entry in enumerate(field, start=1):
                for sub in entry.form:
                    for message in sub.errors:
                        prefix = f"{field.label.text} {number}, {sub.label.text.lower()}: "
                        found.append((sub.id, message if message.startswith(("Party ", "Control-list")) else
                                      prefix + message))
            for message in field.errors if isinstance(field.errors, list) else []:
                if isinstance(message, str):
                    found.append((field.id, message))
            continue
        found.extend((field.id, message) for message in field.errors)
    return found
