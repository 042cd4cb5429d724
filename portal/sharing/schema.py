"""The vocabularies of shared items and validation of their fields.

Forms and the JSON API both produce the API's payload shape (see the sharing issue) and
pass it through `validate`, so a field is checked the same way wherever it comes from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from collections.abc import Collection

from portal import validation
from portal.errors import ValidationFailed
from portal.models.item import ItemKind, Tlp

SEVERITIES = {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}
THREAT_CATEGORIES = {
    "intrusion_software": "Intrusion software and spyware",
    "network_interception": "Mobile network interception",
    "internet_monitoring": "Internet and network monitoring",
    "biometrics": "Facial recognition and biometrics",
    "data_analytics": "Data analytics and predictive policing",
    "location_tracking": "Location tracking",
    "forensic_extraction": "Forensic data extraction",
    "crowd_control": "Crowd control",
    "other": "Other",
}
DECISION_TYPES = {"denial": "Denial", "annulment": "Annulment", "suspension": "Suspension",
                  "substantial_limitation": "Substantial limitation", "revocation": "Revocation"}
ACTIVITIES = {"export": "Export", "brokering": "Brokering", "technical_assistance": "Technical assistance",
              "transit": "Transit", "transfer": "Transfer"}
BASES = {"listed_item": "Listed item", "catch_all": "Catch-all",
         "national_human_rights_control": "National human-rights control"}
PARTY_ROLES = {"end_user": "End-user", "consignee": "Consignee", "intermediate_consignee": "Intermediate consignee",
               "purchaser": "Purchaser", "broker": "Broker"}
REASON_CODES = {
    "internal_repression": "Internal repression",
    "serious_human_rights_violations": "Serious violations of human rights",
    "ihl_violations": "Violations of international humanitarian law",
    "diversion_risk": "Diversion risk",
    "other": "Other",
}
DOCUMENT_CATEGORIES = {
    "licensing_practice": "Licensing practice",
    "due_diligence": "Due diligence guidance",
    "outreach": "Outreach to industry and civil society",
    "enforcement": "Enforcement",
    "legislation": "Legislation",
    "capacity_building": "Capacity building",
}
KIND_SLUGS = {ItemKind.THREAT_NOTICE: "threat-notices", ItemKind.DENIAL: "denials", ItemKind.DOCUMENT: "documents"}
KIND_LABELS = {ItemKind.THREAT_NOTICE: "Threat notice", ItemKind.DENIAL: "Licence-denial notification",
               ItemKind.DOCUMENT: "Best-practice document"}
SLUG_KINDS = {slug: kind for kind, slug in KIND_SLUGS.items()}

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
MAX_TITLE, MAX_SUMMARY, MAX_BODY, MAX_TEXT, MAX_LIST = 300, 4000, 200_000, 4000, 100


@dataclass
class CleanItem:
    """Validated fields, split into columns and the kind-specific `details`."""

    title: str
    summary: str
    body: str
    tlp: Tlp
    all_subscribing: bool
    countries: list[str]
    secretariat: bool
    observers: bool
    details: dict[str, Any] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)


class _Checker:
    def __init__(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise ValidationFailed("The request body must be a JSON object.")
        self.data = data
        self.errors: dict[str, str] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def text(self, name: str, *, required: bool = False, limit: int = MAX_TEXT, source: dict[str, Any] | None = None,
             path: str | None = None, multiline: bool = False) -> str:
        """A text field: one line unless `multiline` (then line breaks and tabs are allowed)."""
        value = (self.data if source is None else source).get(name)
        path = path or name
        if value is None or value == "":
            if required:
                self.fail(path, "This field is required.")
            return ""
        if not isinstance(value, str):
            self.fail(path, "Must be text.")
            return ""
        value, problem = validation.clean_text(value, multiline=multiline)
        if problem:
            self.fail(path, problem)
        if required and not value:
            self.fail(path, "This field is required.")
        if len(value) > limit:
            self.fail(path, f"Must be at most {limit} characters.")
        return value

    def choice(self, name: str, options: Collection[str], *, required: bool = True, source: dict[str, Any] | None = None,
               path: str | None = None, message: str | None = None) -> str | None:
        """One value of `options`; anything else (a list, an object, a number) is a field error."""
        value = (self.data if source is None else source).get(name)
        path = path or name
        if value is None or value == "":
            if required:
                self.fail(path, message or "This field is required.")
            return None
        if not isinstance(value, str) or value not in options:
            self.fail(path, message or f"Must be one of: {', '.join(options)}.")
            return None
        return value

    def choices(self, name: str, options: dict[str, str], *, minimum: int = 0) -> list[str]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, "Must be a list of values.")
            return []
        unknown = [v for v in value if v not in options]
        if unknown:
            self.fail(name, f"Unknown value(s) {', '.join(unknown)}; allowed: {', '.join(options)}.")
        if len(value) < minimum:
            self.fail(name, "Choose at least one.")
        return sorted(set(value) - set(unknown))

    def strings(self, name: str, *, pattern: re.Pattern[str] | None = None, limit: int = 300) -> list[str]:
        return self.text_list(self.data, name, name, pattern=pattern, limit=limit)

    def text_list(self, source: dict[str, Any], name: str, path: str, *, pattern: re.Pattern[str] | None = None,
                  limit: int = 300) -> list[str]:
        """A list of one-line texts (names, codes), empty entries dropped."""
        value = source.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > MAX_LIST:
            self.fail(path, f"Must be a list of at most {MAX_LIST} texts.")
            return []
        cleaned = []
        for raw in value:
            v, problem = validation.clean_text(raw)
            if problem:
                self.fail(path, problem)
            elif len(v) > limit or (pattern and not pattern.match(v)):
                self.fail(path, f"{v[:40]!r} is not valid here." + (" Use two-letter ISO codes." if pattern else ""))
            if v:
                cleaned.append(v)
        return cleaned

    def date(self, name: str, *, required: bool = False) -> str | None:
        value = self.data.get(name)
        if value in (None, ""):
            if required:
                self.fail(name, "This field is required.")
            return None
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return date.fromisoformat(value).isoformat()
        except ValueError:
            self.fail(name, "Must be a date as YYYY-MM-DD.")
            return None

    def boolean(self, source: dict[str, Any], name: str, path: str) -> bool:
        value = source.get(name, False)
        if not isinstance(value, bool):
            self.fail(path, "Must be true or false.")
            return False
        return value


def validate(kind: ItemKind, data: Any) -> CleanItem:
    """Check a full payload for `kind`; raise ValidationFailed listing every problem."""
    c = _Checker(data)
    title = c.text("title", required=True, limit=MAX_TITLE)
    summary = c.text("summary", limit=MAX_SUMMARY, multiline=True)
    body = c.text("body", limit=MAX_BODY, multiline=True)
    tlp_raw = c.choice("tlp", [t.value for t in Tlp],
                       message="Choose a TLP marking: CLEAR, GREEN, AMBER, AMBER+STRICT or RED.")
    tlp = Tlp(tlp_raw) if tlp_raw else Tlp.AMBER
    audience = data.get("audience", {})
    if not isinstance(audience, dict):
        c.fail("audience", "Must be an object with all_subscribing, countries, secretariat and observers.")
        audience = {}
    all_subscribing = c.boolean(audience, "all_subscribing", "audience.all_subscribing")
    secretariat = c.boolean(audience, "secretariat", "audience.secretariat")
    observers = c.boolean(audience, "observers", "audience.observers")
    countries_raw = audience.get("countries", [])
    countries: list[str] = []
    if not isinstance(countries_raw, list) or not all(isinstance(x, str) for x in countries_raw):
        c.fail("audience.countries", "Must be a list of two-letter country codes.")
    else:
        countries = sorted({x.strip().upper() for x in countries_raw if x.strip()})
        if any(not COUNTRY_CODE.match(x) for x in countries):
            c.fail("audience.countries", "Use two-letter ISO country codes.")
    # TLP is enforced, not just shown (DESIGN.md).
    if tlp is Tlp.RED and all_subscribing:
        c.fail("audience.all_subscribing", "TLP:RED goes to named states only, never to all subscribing states.")
    if tlp is Tlp.RED and not countries:
        c.fail("audience.countries", "TLP:RED needs at least one named state.")
    if observers and not tlp.may_reach_observers:
        c.fail("audience.observers", "Only TLP:CLEAR and TLP:GREEN items may be released to observer states.")

    details: dict[str, Any] = {}
    categories: list[str] = []
    if kind is ItemKind.THREAT_NOTICE:
        details["severity"] = c.choice("severity", SEVERITIES)
        categories = c.choices("categories", THREAT_CATEGORIES, minimum=1)
        details["categories"] = categories
        details["regions"] = c.strings("regions", pattern=COUNTRY_CODE)
        details["entities"] = c.strings("entities")
        details["valid_until"] = c.date("valid_until")
    elif kind is ItemKind.DENIAL:
        details["national_ref"] = c.text("national_ref", required=True, limit=80)
        details["decision_type"] = c.choice("decision_type", DECISION_TYPES)
        details["activity"] = c.choice("activity", ACTIVITIES)
        details["decision_date"] = c.date("decision_date", required=True)
        details["basis"] = c.choice("basis", BASES)
        details["control_entries"] = _control_entries(c)
        details["item_description"] = c.text("item_description", required=True, multiline=True)
        destination = c.text("destination", required=True, limit=2).upper()
        if destination and not COUNTRY_CODE.match(destination):
            c.fail("destination", "Use a two-letter ISO country code.")
        details["destination"] = destination
        details["end_use"] = c.text("end_use", multiline=True)
        details["parties"] = _parties(c)
        details["reason_codes"] = c.choices("reason_codes", REASON_CODES, minimum=1)
        details["rationale"] = c.text("rationale", required=True, multiline=True)
    else:
        details["category"] = c.choice("category", DOCUMENT_CATEGORIES)
    if c.errors:
        raise ValidationFailed("Some fields need attention.", c.errors)
    return CleanItem(title=title, summary=summary, body=body, tlp=tlp, all_subscribing=all_subscribing,
                     countries=countries, secretariat=secretariat, observers=observers, details=details,
                     categories=categories)


def _control_entries(c: _Checker) -> list[dict[str, str]]:
    raw = c.data.get("control_entries", [])
    if not isinstance(raw, list) or len(raw) > MAX_LIST:
        c.fail("control_entries", "Must be a list of {regime, code} objects.")
        return []
    entries = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            c.fail(f"control_entries[{i}]", "Must be an object with regime and code.")
            continue
        regime = c.text("regime", required=True, limit=60, source=entry, path=f"control_entries[{i}].regime")
        code = c.text("code", required=True, limit=60, source=entry, path=f"control_entries[{i}].code")
        entries.append({"regime": regime, "code": code})
    return entries


def _parties(c: _Checker) -> list[dict[str, Any]]:
    raw = c.data.get("parties", [])
    if not isinstance(raw, list) or len(raw) > MAX_LIST:
        c.fail("parties", "Must be a list of party objects.")
        return []
    parties = []
    for i, party in enumerate(raw):
        where = f"parties[{i}]"
        if not isinstance(party, dict):
            c.fail(where, "Must be an object with role, name, aliases, address and country.")
            continue
        role = c.choice("role", PARTY_ROLES, source=party, path=f"{where}.role",
                        message=f"Must be one of: {', '.join(PARTY_ROLES)}.")
        aliases = c.text_list(party, "aliases", f"{where}.aliases")
        country = c.text("country", limit=2, source=party, path=f"{where}.country").upper()
        if country and not COUNTRY_CODE.match(country):
            c.fail(f"{where}.country", "Use a two-letter ISO country code.")
        parties.append({
            "role": role,
            "name": c.text("name", required=True, limit=300, source=party, path=f"{where}.name"),
            "aliases": aliases,
            "address": c.text("address", limit=1000, source=party, path=f"{where}.address"),
            "country": country,
        })
    return parties


def labels_for(kind: ItemKind) -> dict[str, dict[str, str]]:
    """Human labels for the coded values of `kind`, for templates."""
    return {
        "severity": SEVERITIES, "categories": THREAT_CATEGORIES, "decision_type": DECISION_TYPES,
        "activity": ACTIVITIES, "basis": BASES, "party_roles": PARTY_ROLES, "reason_codes": REASON_CODES,
        "category": DOCUMENT_CATEGORIES,
    }
