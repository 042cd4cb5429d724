"""The item-kind registry and the coded vocabularies of items' fields.

It sits below every domain (sharing, attachments, notifications, the API and audit all read
it), so nothing imports upwards for a label or a slug. A new kind is one `KindSpec` here, its
fields in `portal/sharing/schema.py` and `portal/sharing/forms.py`, its templates and a
migration adding the enum value.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portal.models.item import ItemKind
from portal.models.notification import AlertTopic


@dataclass(frozen=True)
class KindSpec:
    """What the rest of the portal needs to know about one item kind."""

    kind: ItemKind
    slug: str  # URL segment of pages and the API: /denials/…, /api/v1/denials
    label: str  # one item, in sentences and subjects: "Licence-denial notification"
    plural: str  # the navigation and list headings: "Denials"
    scope: str  # the OAuth scope stem: "denials" → denials:read, denials:write
    topic: AlertTopic  # the alert preference that governs it

    @property
    def heading(self) -> str:
        """The list page's heading, the same words as its alert preference: "Licence-denial notifications"."""
        return self.topic.label


KINDS: dict[ItemKind, KindSpec] = {spec.kind: spec for spec in (
    KindSpec(ItemKind.THREAT_NOTICE, "threat-notices", "Threat notice", "Threat notices", "notices",
             AlertTopic.THREAT_NOTICES),
    KindSpec(ItemKind.DENIAL, "denials", "Licence-denial notification", "Denials", "denials", AlertTopic.DENIALS),
    KindSpec(ItemKind.DOCUMENT, "documents", "Best-practice document", "Documents", "documents",
             AlertTopic.DOCUMENTS),
)}
BY_SLUG: dict[str, KindSpec] = {spec.slug: spec for spec in KINDS.values()}


def slug_rule(argument: str, kinds: Iterable[ItemKind] = tuple(KINDS)) -> str:
    """A URL-rule segment matching the slug of any of `kinds` (all by default), passed to the view
    as `argument`."""
    return f"<any({', '.join(repr(KINDS[kind].slug) for kind in kinds)}):{argument}>"


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


def labels_for(kind: ItemKind) -> dict[str, dict[str, str]]:
    """Human labels for the coded values of `kind`, for templates."""
    return {
        "severity": SEVERITIES, "categories": THREAT_CATEGORIES, "decision_type": DECISION_TYPES,
        "activity": ACTIVITIES, "basis": BASES, "party_roles": PARTY_ROLES, "reason_codes": REASON_CODES,
        "category": DOCUMENT_CATEGORIES,
    }
