"""The vocabularies of shared items and validation of their fields.

Forms and the JSON API both produce the API's payload shape (see the sharing issue) and
pass it through `validate`, so a field is checked the same way wherever it comes from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.country_names import country_names
from portal.kinds import (ACTIVITIES, BASES, DECISION_TYPES, DOCUMENT_CATEGORIES, PARTY_ROLES, REASON_CODES,
                          SEVERITIES, THREAT_CATEGORIES)
from portal.validation import COUNTRY_CODE, MAX_LIST, Checker
from portal.errors import ValidationFailed
from portal.models.item import ItemKind, Tlp

MAX_TITLE, MAX_SUMMARY, MAX_BODY = 300, 4000, 200_000
MAX_NOTE = 4000  # a reason for withdrawal, revocation or a change note


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


def validate(kind: ItemKind, data: Any, *, draft: bool = False) -> CleanItem:
    """Check a payload for `kind`; raise ValidationFailed listing every problem.

    `draft`: a draft saves part-filled (only a title is needed); whatever is given is still
    checked. Submitting and publishing check the stored draft in full (`draft=False`)."""
    c = Checker(data, partial=draft)
    title = c.text("title", required=True, limit=MAX_TITLE, missing="Enter a title.", draft_too=True)
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
        details["severity"] = c.choice("severity", SEVERITIES, missing="Choose the severity.")
        categories = c.choices("categories", THREAT_CATEGORIES, minimum=1,
                               missing="Choose at least one technology category.")
        details["categories"] = categories
        details["regions"] = c.strings("regions", pattern=COUNTRY_CODE)
        unknown_regions = [r for r in details["regions"] if COUNTRY_CODE.match(r) and r not in country_names()]
        if unknown_regions:
            c.fail("regions", f"Not a country code: {', '.join(unknown_regions)}.")
        details["entities"] = c.strings("entities")
        details["valid_until"] = c.date("valid_until")
    elif kind is ItemKind.DENIAL:
        details["national_ref"] = c.text("national_ref", required=True, limit=80,
                                         missing="Enter your national reference.")
        details["decision_type"] = c.choice("decision_type", DECISION_TYPES, missing="Choose the decision.")
        details["activity"] = c.choice("activity", ACTIVITIES, missing="Choose the activity.")
        details["decision_date"] = c.date("decision_date", required=True, missing="Enter the date of the decision.")
        details["basis"] = c.choice("basis", BASES, missing="Choose the basis of the decision.")
        details["control_entries"] = _control_entries(c)
        details["item_description"] = c.text("item_description", required=True, multiline=True,
                                             missing="Describe the items.")
        details["destination"] = _country(c, "destination", c.data, "destination", missing="Choose the destination.")
        details["end_use"] = c.text("end_use", multiline=True)
        details["parties"] = _parties(c)
        details["reason_codes"] = c.choices("reason_codes", REASON_CODES, minimum=1,
                                            missing="Choose at least one reason.")
        details["rationale"] = c.text("rationale", required=True, multiline=True, missing="Enter the rationale.")
    else:
        details["category"] = c.choice("category", DOCUMENT_CATEGORIES, missing="Choose a category.")
    if c.errors:
        raise ValidationFailed("Some fields need attention.", c.errors)
    return CleanItem(title=title, summary=summary, body=body, tlp=tlp, all_subscribing=all_subscribing,
                     countries=countries, secretariat=secretariat, observers=observers, details=details,
                     categories=categories)


def _control_entries(c: Checker) -> list[dict[str, str]]:
    raw = c.data.get("control_entries", [])
    if not isinstance(raw, list) or len(raw) > MAX_LIST:
        c.fail("control_entries", "Must be a list of {regime, code} objects.")
        return []
    entries = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            c.fail(f"control_entries[{i}]", "Must be an object with regime and code.")
            continue
        # Numbered from 1 as the page shows them: "Control-list entry 2: enter the regime".
        regime = c.text("regime", required=True, limit=60, source=entry, path=f"control_entries[{i}].regime",
                        missing=f"Control-list entry {i + 1}: enter the regime.")
        code = c.text("code", required=True, limit=60, source=entry, path=f"control_entries[{i}].code",
                      missing=f"Control-list entry {i + 1}: enter the entry code.")
        entries.append({"regime": regime, "code": code})
    return entries


def _country(c: Checker, name: str, source: dict[str, Any], path: str, *, missing: str | None = None,
             label: str = "") -> str:
    """A country as its ISO 3166-1 code (the API's form; pages pick it by name)."""
    code = c.text(name, required=missing is not None, limit=2, source=source, path=path, missing=missing).upper()
    if code and (not COUNTRY_CODE.match(code) or code not in country_names()):
        wording = "choose a country from the list (in the API: a two-letter ISO 3166-1 code)."
        c.fail(path, f"{label}{wording}" if label else wording.capitalize())
    return code


def _parties(c: Checker) -> list[dict[str, Any]]:
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
        label = f"Party {i + 1}: "  # as the page numbers them
        role = c.choice("role", PARTY_ROLES, source=party, path=f"{where}.role", missing=f"{label}choose a role.",
                        message=f"{label}the role must be one of: {', '.join(PARTY_ROLES)}.")
        aliases = c.text_list(party, "aliases", f"{where}.aliases")
        country = _country(c, "country", party, f"{where}.country", label=label)
        parties.append({
            "role": role,
            "name": c.text("name", required=True, limit=300, source=party, path=f"{where}.name",
                           missing=f"{label}enter the name."),
            "aliases": aliases,
            "address": c.text("address", limit=1000, source=party, path=f"{where}.address"),
            "country": country,
        })
    return parties
