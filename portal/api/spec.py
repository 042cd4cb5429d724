"""The API's description (OpenAPI 3.1), built from the same definitions the validators use.

Validation stays `portal.validation.Checker` code (one style for the pages and the API); the
JSON Schemas here take every limit and vocabulary from the modules that validate with them
(`sharing.schema`, `consultations.schema`, `screening.schema`, `portal.kinds`, the model
enums), and tests/api/test_openapi.py checks that each validator and its schema name the
same fields, require the same ones, and that every example here is accepted by the live API.
The paths come from the URL map, so a route without a description fails that test.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from portal.country_names import country_names
from portal.stix.routes import STIX_MEDIA_TYPE
from portal import access
from portal.consultations import schema as consultations
from portal.kinds import (ACTIVITIES, BASES, BY_SLUG, DECISION_TYPES, DOCUMENT_CATEGORIES, PARTY_ROLES,
                          REASON_CODES, SEVERITIES, THREAT_CATEGORIES)
from portal.models.consultation import ConsultationStatus, MessageKind
from portal.models.item import DenialStatus, ItemKind, ItemStatus, Tlp
from portal.models.meeting import Attendance, MeetingKind, MeetingStatus
from portal.pagination import MAX_PAGE_SIZE
from portal.screening import schema as screening
from portal.sharing import schema as sharing
from portal.validation import MAX_LIST, MAX_TEXT

API_VERSION = "1.0"
Schema = dict[str, Any]


# --- schema helpers -------------------------------------------------------------------

def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """The schema or null (JSON Schema 2020-12, as OpenAPI 3.1 uses it)."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema.get("type")
    out = {**schema, "type": [kind, "null"]}
    if "enum" in schema:
        out["enum"] = [*schema["enum"], None]
    return out


# portal.validation's text rules as patterns: no control characters (a multi-line text keeps
# LF and tab), nor Unicode's line and paragraph separators; a required text is not blank
# once stripped. Send line breaks as LF (a lone CR is refused).
_ONE_LINE_BAD = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_MULTI_LINE_BAD = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029"


def text(limit: int = MAX_TEXT, description: str | None = None, *, multiline: bool = False,
         required: bool = False) -> Schema:
    """A Checker.text field: optional ones take null or "" for empty; required ones need a non-blank value."""
    bad = _MULTI_LINE_BAD if multiline else _ONE_LINE_BAD
    note = ("Text; line breaks (LF) and tabs allowed, no other control characters." if multiline
            else "One line of text, no control characters.")
    if required:
        return {"type": "string", "minLength": 1, "maxLength": limit, "description": description or note,
                "pattern": f"^[^{bad}]*[^\\s{bad}][^{bad}]*$"}
    return {"type": ["string", "null"], "maxLength": limit, "description": description or note,
            "pattern": f"^[^{bad}]*$"}


def enum(values: Any, description: str | None = None) -> Schema:
    schema: Schema = {"type": "string", "enum": list(values)}
    if description:
        schema["description"] = description
    return schema


def obj(properties: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


UUID: Schema = {"type": "string", "format": "uuid"}
DATE: Schema = {"type": "string", "format": "date"}
OPTIONAL_DATE: Schema = {"anyOf": [DATE, {"type": "string", "maxLength": 0}, {"type": "null"}],
                         "description": "YYYY-MM-DD; empty or null for none."}
DATETIME: Schema = {"type": "string", "format": "date-time"}
COUNTRY: Schema = {"type": "string", "pattern": "^[A-Za-z]{2}$",
                   "description": "Two-letter ISO 3166-1 code (XK for Kosovo)."}
STATE_OR_SECRETARIAT: Schema = {"type": "string", "description": "A two-letter state code, or SECRETARIAT."}
TLP: Schema = enum([t.value for t in Tlp], "FIRST TLP 2.0 marking; enforced (RED: named states only, never machines).")


# --- request bodies (the validators' fields) ------------------------------------------

def line_item(limit: int = 300, pattern: str | None = None) -> Schema:
    """One entry of a Checker.text_list (empty entries are dropped)."""
    return {"type": "string", "maxLength": limit, "pattern": pattern or f"^[^{_ONE_LINE_BAD}]*$"}


OPTIONAL_COUNTRY: Schema = {"anyOf": [COUNTRY, {"type": "string", "maxLength": 0}, {"type": "null"}]}
AUDIENCE = obj({
    "all_subscribing": {"type": "boolean", "default": False,
                        "description": "Every subscribing state (not with TLP:RED)."},
    "countries": {"type": "array", "items": {"type": "string", "pattern": r"^\s*(?:[A-Za-z]{2})?\s*$"},
                  "description": "Named states from the register, two-letter codes (at least one with TLP:RED); "
                                 "blank entries are ignored."},
    "secretariat": {"type": "boolean", "default": False},
    "observers": {"type": "boolean", "default": False, "description": "Observer states (TLP:CLEAR and GREEN only)."},
})
CONTROL_ENTRY = obj({"regime": text(60, required=True), "code": text(60, required=True)}, ["regime", "code"])
PARTY = obj({
    "role": enum(PARTY_ROLES), "name": text(300, required=True),
    "aliases": {"type": "array", "items": line_item(), "maxItems": MAX_LIST},
    "address": text(1000), "country": OPTIONAL_COUNTRY,
}, ["role", "name"])

COMMON_INPUT: dict[str, Schema] = {
    "title": text(sharing.MAX_TITLE, required=True), "summary": text(sharing.MAX_SUMMARY, multiline=True),
    "body": text(sharing.MAX_BODY, "Markdown; line breaks (LF) and tabs allowed.", multiline=True),
    "tlp": TLP, "audience": AUDIENCE,
}
KIND_INPUT: dict[ItemKind, tuple[dict[str, Schema], list[str]]] = {
    ItemKind.THREAT_NOTICE: ({
        "severity": enum(SEVERITIES),
        "categories": {"type": "array", "items": enum(THREAT_CATEGORIES), "minItems": 1},
        "regions": {"type": "array", "items": line_item(2, "^[A-Z]{2}$"), "maxItems": MAX_LIST},
        "entities": {"type": "array", "items": line_item(), "maxItems": MAX_LIST},
        "valid_until": OPTIONAL_DATE,
    }, ["severity", "categories"]),
    ItemKind.DENIAL: ({
        "national_ref": text(80, "The denying state's own reference (unique among its denials).", required=True),
        "decision_type": enum(DECISION_TYPES), "activity": enum(ACTIVITIES), "decision_date": DATE,
        "basis": enum(BASES),
        "control_entries": {"type": "array", "items": CONTROL_ENTRY, "maxItems": MAX_LIST},
        "item_description": text(MAX_TEXT, multiline=True, required=True), "destination": COUNTRY,
        "end_use": text(MAX_TEXT, multiline=True),
        "parties": {"type": "array", "items": PARTY, "maxItems": MAX_LIST},
        "reason_codes": {"type": "array", "items": enum(REASON_CODES), "minItems": 1},
        "rationale": text(MAX_TEXT, multiline=True, required=True),
    }, ["national_ref", "decision_type", "activity", "decision_date", "basis", "item_description", "destination",
        "reason_codes", "rationale"]),
    ItemKind.DOCUMENT: ({"category": enum(DOCUMENT_CATEGORIES)}, ["category"]),
}

ITEM_EXAMPLES: dict[ItemKind, Schema] = {
    ItemKind.THREAT_NOTICE: {
        "title": "Spyware vendor offering zero-click exploits", "summary": "Marketed to agencies in the region.",
        "body": "Seen at two trade fairs in **2026**.", "tlp": "AMBER",
        "audience": {"all_subscribing": True, "countries": [], "secretariat": False, "observers": False},
        "severity": "high", "categories": ["intrusion_software"], "regions": ["DK"], "entities": ["Example Ltd"],
        "valid_until": "2027-06-30"},
    ItemKind.DENIAL: {
        "title": "Denial of IMSI catchers", "summary": "", "body": "", "tlp": "AMBER",
        "audience": {"all_subscribing": True, "countries": [], "secretariat": False, "observers": False},
        "national_ref": "DK-2026-0042", "decision_type": "denial", "activity": "export", "decision_date": "2026-03-01",
        "basis": "catch_all", "control_entries": [{"regime": "EU", "code": "5A001.f"}],
        "item_description": "IMSI catchers and software", "destination": "FR",
        "end_use": "Police surveillance",
        "parties": [{"role": "end_user", "name": "Example Agency", "aliases": [], "address": "", "country": "FR"}],
        "reason_codes": ["internal_repression"], "rationale": "Clear risk of use for internal repression."},
    ItemKind.DOCUMENT: {
        "title": "Due diligence checklist", "summary": "What licensing officers ask.", "body": "1. Ask.\n2. Check.",
        "tlp": "GREEN", "audience": {"all_subscribing": True, "countries": [], "secretariat": True, "observers": True},
        "category": "due_diligence"},
}


def item_input(kind: ItemKind, *, partial: bool = False) -> Schema:
    fields, required = KIND_INPUT[kind]
    schema = obj({**COMMON_INPUT, **fields}, None if partial else ["title", "tlp", *required])
    schema["description"] = (
        "The fields to change; the rest keep their values (audience is merged field by field)." if partial
        else "A new draft. Cross-field rules (TLP:RED needs named states and not all_subscribing; observers only "
             "under TLP:CLEAR/GREEN) answer 422 with the fields named.")
    return schema


OPENING_INPUT = obj({
    "denial_id": UUID, "applicant": text(300, required=True), "consignee": text(300),
    "end_user": text(300, required=True), "item_description": text(MAX_TEXT, required=True), "destination": COUNTRY,
    "end_use": text(MAX_TEXT), "question": text(MAX_TEXT, required=True),
    "control_entries": {"type": "array", "items": CONTROL_ENTRY, "maxItems": 100},
    "deadline": {**OPTIONAL_DATE, "description": f"At least {consultations.MIN_DEADLINE_DAYS} and at most "
                                                 f"{consultations.MAX_DEADLINE_DAYS} days away (default "
                                                 f"{consultations.DEFAULT_DEADLINE_DAYS})."},
}, ["denial_id", "applicant", "end_user", "item_description", "destination", "question"])
MESSAGE_INPUT = obj({"body": text(consultations.MAX_MESSAGE, required=True)}, ["body"])
ANSWER_INPUT = obj({"position": enum(consultations.POSITIONS),
                    "reasons": text(consultations.MAX_MESSAGE, required=True)},
                   ["position", "reasons"])
CLOSING_INPUT = obj({"outcome": enum(consultations.OUTCOMES),
                     "reasons": text(consultations.MAX_MESSAGE, "Required when the outcome is granted.")},
                    ["outcome"])
WITHDRAW_INPUT = obj({"reason": text(sharing.MAX_NOTE, "Why the item is withdrawn.", multiline=True, required=True)},
                     ["reason"])
SCREENING_COUNTRIES = sorted(country_names())
SCREENING_INPUT = obj({
    "parties": {"type": "array", "minItems": 1, "maxItems": screening.MAX_PARTIES, "items": obj({
        "name": text(300, required=True),
        "aliases": {"type": ["array", "null"], "maxItems": screening.MAX_ALIASES,
                    "items": {"type": "string", "maxLength": 300}},
        "country": {"anyOf": [enum(SCREENING_COUNTRIES, "An ISO 3166-1 code."), {"type": "string", "maxLength": 0},
                              {"type": "null"}]},
        "address": text(1000)}, ["name"])},
    "threshold": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    "include_inactive": {"type": "boolean", "default": False},
}, ["parties"])


# --- response records -----------------------------------------------------------------

AUDIENCE_OUT = obj({"all_subscribing": {"type": "boolean"},
                    "countries": nullable({"type": "array", "items": {"type": "string"}}),
                    "secretariat": {"type": "boolean"}, "observers": {"type": "boolean"}},
                   ["all_subscribing", "countries", "secretariat", "observers"],
                   description="countries is null when the named states are not the caller's to know.")
ITEM_COMMON: dict[str, Schema] = {
    "id": UUID, "kind": enum([k.value for k in ItemKind]), "title": {"type": "string"},
    "summary": nullable({"type": "string"}), "body": nullable({"type": "string"}),
    "body_html": nullable({"type": "string"}), "tlp": TLP, "audience": AUDIENCE_OUT,
    "status": enum([s.value for s in ItemStatus]), "originator": STATE_OR_SECRETARIAT,
    "version": {"type": "integer"}, "created_at": DATETIME, "updated_at": DATETIME, "published_at": nullable(DATETIME),
    "withdrawal": obj({"at": nullable(DATETIME), "reason": nullable({"type": "string"})},
                      description="Only on withdrawn items, which carry this notice instead of their content."),
}
KIND_OUTPUT: dict[ItemKind, dict[str, Schema]] = {
    ItemKind.THREAT_NOTICE: {"severity": nullable(enum(SEVERITIES)),
                             "categories": {"type": "array", "items": {"type": "string"}},
                             "regions": {"type": "array", "items": {"type": "string"}},
                             "entities": {"type": "array", "items": {"type": "string"}},
                             "valid_until": nullable(DATE)},
    ItemKind.DENIAL: {"national_ref": {"type": "string"}, "decision_type": nullable({"type": "string"}),
                      "activity": nullable({"type": "string"}), "decision_date": nullable(DATE),
                      "basis": nullable({"type": "string"}),
                      "control_entries": {"type": "array", "items": obj({"regime": {"type": "string"},
                                                                         "code": {"type": "string"}})},
                      "item_description": {"type": "string"}, "destination": {"type": "string"},
                      "end_use": {"type": "string"},
                      "parties": {"type": "array", "items": obj({
                          "role": nullable({"type": "string"}), "name": {"type": "string"},
                          "aliases": {"type": "array", "items": {"type": "string"}},
                          "address": {"type": "string"}, "country": {"type": "string"}})},
                      "reason_codes": {"type": "array", "items": {"type": "string"}},
                      "rationale": {"type": "string"},
                      "denial_status": nullable(enum([s.value for s in DenialStatus])),
                      "review_date": nullable(DATE)},
    ItemKind.DOCUMENT: {"category": nullable({"type": "string"})},
}


def item_output(kind: ItemKind) -> Schema:
    return obj({**ITEM_COMMON, **KIND_OUTPUT[kind]},
               ["id", "kind", "title", "tlp", "audience", "status", "originator", "version", "created_at"],
               description="A withdrawn item carries `withdrawal` and none of its content fields.")


def page_of(key: str, item: Schema, *, lower_bound: bool = True) -> Schema:
    props: dict[str, Schema] = {key: {"type": "array", "items": item}, "page": {"type": "integer", "minimum": 1},
                                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                                "total": {"type": "integer", "minimum": 0}, "pages": {"type": "integer", "minimum": 1}}
    if lower_bound:
        props["total_is_lower_bound"] = {"type": "boolean",
                                         "description": "More matches than `total` (the count is capped)."}
    return obj(props, list(props))


ATTACHMENT = obj({
    "id": UUID, "item_id": nullable(UUID), "item_version": nullable({"type": "integer"}),
    "consultation_id": nullable(UUID), "filename": {"type": "string"}, "media_type": {"type": "string"},
    "size": {"type": "integer", "minimum": 0}, "sha256": {"type": "string"}, "ciphertext_sha256": {"type": "string"},
    "tlp": TLP, "created_at": DATETIME,
    "uploaded_by": nullable(obj({"id": UUID, "name": {"type": "string"}})),
    "signer": obj({"owner": {"type": "string"}, "key_version": {"type": "integer"}}),
    "links": obj({"download": {"type": "string"}, "signature": {"type": "string"}}, ["download", "signature"]),
}, ["id", "filename", "media_type", "size", "sha256", "tlp", "links"])
MESSAGE = obj({"id": UUID, "kind": enum([k.value for k in MessageKind]), "state": {"type": "string"},
               "body": {"type": "string"}, "position": nullable(enum(consultations.POSITIONS)),
               "outcome": nullable(enum(consultations.OUTCOMES)), "created_at": DATETIME},
              ["id", "kind", "state", "body", "created_at"])
CONSULTATION = obj({
    "id": UUID, "denial_id": UUID, "denying_state": {"type": "string"}, "consulting_state": {"type": "string"},
    "tlp": TLP, "status": enum([s.value for s in ConsultationStatus]), "applicant": {"type": "string"},
    "consignee": {"type": "string"}, "end_user": {"type": "string"}, "item_description": {"type": "string"},
    "control_entries": {"type": "array", "items": obj({"regime": {"type": "string"}, "code": {"type": "string"}})},
    "destination": {"type": "string"}, "end_use": {"type": "string"}, "question": {"type": "string"},
    "deadline": DATE, "overdue": {"type": "boolean"}, "position": nullable(enum(consultations.POSITIONS)),
    "outcome": nullable(enum(consultations.OUTCOMES)), "created_at": DATETIME,
    "answered_at": nullable(DATETIME), "closed_at": nullable(DATETIME),
    "messages": {"type": "array", "items": ref("ConsultationMessage"), "description": "Not in lists."},
}, ["id", "denial_id", "denying_state", "consulting_state", "tlp", "status", "deadline", "created_at"])
SCREENING_RESULT = obj({
    "screening_id": UUID, "threshold": {"type": "number"},
    "results": {"type": "array", "items": obj({
        "index": {"type": "integer", "description": "The party's position in the request."},
        "matches": {"type": "array", "items": obj({
            "denial_id": UUID, "title": {"type": "string"}, "originator": {"type": "string"},
            "denial_status": nullable({"type": "string"}), "party": {"type": "object"},
            "matched_name": {"type": "string"}, "score": {"type": "number"},
            "explanation": {"type": "array", "description": "How the score was reached, feature by feature.",
                            "items": obj({"feature": {"type": "string"}, "value": {}})}})}},
        ["index", "matches"])},
}, ["screening_id", "threshold", "results"])
MEETING = obj({
    "id": UUID, "kind": enum([k.value for k in MeetingKind]), "status": enum([s.value for s in MeetingStatus]),
    "title": {"type": "string"}, "description": {"type": "string"},
    "timezone": {"type": "string", "description": "The IANA time zone the meeting happens in."},
    "starts_at": DATETIME, "ends_at": DATETIME, "registration_deadline": DATETIME,
    "venue": {"type": "string"}, "online_url": nullable({"type": "string", "format": "uri"}),
    "invitation": obj({"all_subscribing": {"type": "boolean"}, "observers": {"type": "boolean"},
                       "states": {"type": "array", "items": {"type": "string"}}},
                      ["all_subscribing", "observers", "states"]),
    "announced_at": nullable(DATETIME), "cancelled_at": nullable(DATETIME),
}, ["id", "kind", "status", "title", "timezone", "starts_at", "ends_at", "registration_deadline", "invitation"])
AGENDA = obj({
    "version": nullable({"type": "integer",
                         "description": "The published version (null: the secretariat's working agenda)."}),
    "published_at": nullable(DATETIME),
    "items": {"type": "array", "items": obj({
        "position": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
        "lead_state": nullable({"type": "string"}), "starts_at": nullable(DATETIME), "ends_at": nullable(DATETIME),
        "linked_items": {"type": "array", "description": "Only the shared items the caller may open.",
                         "items": obj({"id": UUID, "kind": enum([k.value for k in ItemKind]),
                                       "title": {"type": "string"}}, ["id", "kind", "title"])}},
        ["position", "title", "linked_items"])},
}, ["version", "items"])
PARTICIPANTS = obj({
    "meeting_id": UUID,
    "invited_states": {"type": "array", "items": obj({"code": {"type": "string"}, "name": {"type": "string"}},
                                                      ["code", "name"])},
    "delegations": {"type": "array", "items": obj({
        "state": {"type": "string"}, "state_name": {"type": "string"},
        "delegates": {"type": "array", "items": obj({
            "name": {"type": "string"}, "position": {"type": "string"},
            "attendance": enum([a.value for a in Attendance]), "is_head": {"type": "boolean"},
            "email": nullable({"type": "string",
                               "description": "Only for the secretariat and the delegate's own state."})},
            ["name", "attendance", "is_head", "email"])}},
        ["state", "state_name", "delegates"])},
}, ["meeting_id", "invited_states", "delegations"])
ERROR = obj({"error": obj({
    "code": {"type": "string", "description": "Stable: e.g. validation_failed, not_found, unauthorized, "
                                              "insufficient_scope, invalid_json, too_large, locked, forbidden."},
    "message": {"type": "string", "description": "For people; may change."},
    "fields": {"type": "object", "additionalProperties": {"type": "string"},
               "description": "The fields that need attention, by path (e.g. `parties[0].name`), with what is wrong."},
}, ["code", "message"])}, ["error"], example={"error": {"code": "validation_failed",
                                                          "message": "Some fields need attention.",
                                                          "fields": {"title": "This field is required."}}})


def components_schemas() -> dict[str, Schema]:
    schemas: dict[str, Schema] = {"Error": ERROR}
    for spec in BY_SLUG.values():
        name = _schema_name(spec.kind)
        schemas[f"{name}Input"] = {**item_input(spec.kind), "example": ITEM_EXAMPLES[spec.kind]}
        schemas[f"{name}Changes"] = item_input(spec.kind, partial=True)
        schemas[name] = item_output(spec.kind)
        schemas[f"{name}Page"] = page_of("items", ref(name))
    schemas.update({
        "Withdrawal": WITHDRAW_INPUT, "Attachment": ATTACHMENT,
        "ScreeningRequest": {**SCREENING_INPUT, "example": {"parties": [{"name": "Example Agency", "country": "FR"}],
                                                          "threshold": 0.85}},
        "ScreeningResult": SCREENING_RESULT,
        "ConsultationOpening": OPENING_INPUT, "ConsultationMessageInput": MESSAGE_INPUT,
        "ConsultationAnswer": ANSWER_INPUT, "ConsultationClosing": CLOSING_INPUT,
        "ConsultationMessage": MESSAGE, "Consultation": CONSULTATION,
        "ConsultationPage": page_of("consultations", ref("Consultation"), lower_bound=False),
        "AttachmentList": obj({"attachments": {"type": "array", "items": ref("Attachment")}}, ["attachments"]),
        "Meeting": MEETING, "MeetingPage": page_of("meetings", ref("Meeting")),
        "MeetingDetail": {"allOf": [ref("Meeting"), obj({"agenda": AGENDA}, ["agenda"])]},
        "Participants": PARTICIPANTS,
        # The objects inside follow STIX 2.1 itself (checked by stix2-validator in tests/taxii).
        "StixBundle": obj({"type": {"const": "bundle"}, "id": {"type": "string", "pattern": "^bundle--"},
                           "objects": {"type": "array", "items": {"type": "object"}}}, ["type", "id", "objects"]),
    })
    return schemas


def _schema_name(kind: ItemKind) -> str:
    return {ItemKind.THREAT_NOTICE: "ThreatNotice", ItemKind.DENIAL: "Denial", ItemKind.DOCUMENT: "Document"}[kind]


# --- operations -----------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    """What the document says about one endpoint (per kind, for the item routes)."""

    summary: str
    response: str | None = None  # a component schema name (JSON), or None for a file
    status: int = 200
    body: str | None = None  # a component schema name (JSON request body)
    upload: bool = False  # multipart/form-data with `file`
    media_type: str = "application/json"
    query: tuple[str, ...] = ()
    description: str = ""
    errors: tuple[int, ...] = field(default=())


PAGING = ("page", "per_page")
ITEM_FILTERS = (*PAGING, "state", "category", "severity", "tlp", "status", "from", "to", "q")
READ_ERRORS = (401, 403, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429)

# Keyed by endpoint; `{kind}` in a name is the item kind's schema name.
OPERATIONS: dict[str, Operation] = {
    "api.list_items": Operation("List {plural} shared with you", "{kind}Page", query=ITEM_FILTERS,
                                description="Newest first. Unknown filter values are ignored."),
    "api.get_item": Operation("Read one {label}", "{kind}"),
    "api.create_item": Operation("Draft a {label}", "{kind}", 201, body="{kind}Input", errors=WRITE_ERRORS),
    "api.patch_item": Operation("Change a draft {label}", "{kind}", body="{kind}Changes", errors=WRITE_ERRORS),
    "api.publish_item": Operation("Publish a {label}", "{kind}", errors=WRITE_ERRORS,
                                  description="Releases the item to its audience "
                                              "(a SPOC, or a client with `publish`)."),
    "api.withdraw_item": Operation("Withdraw a published {label}", "{kind}", body="Withdrawal", errors=WRITE_ERRORS),
    "attachments_api.upload": Operation("Attach a file to a {label}", "Attachment", 201, upload=True,
                                        errors=(*WRITE_ERRORS, 415)),
    "attachments_api.download_file": Operation("Download an attachment (decrypted, signature verified)", None,
                                               media_type="*/*",
                                               description="Served with the file's own media type, as an attachment."),
    "attachments_api.signature": Operation("The attachment's signature bundle (ZIP, checkable with OpenSSL)", None,
                                           media_type="application/zip"),
    "api.create_screening": Operation("Screen parties against the denials your state sees", "ScreeningResult",
                                      body="ScreeningRequest", errors=WRITE_ERRORS,
                                      description="The screening is kept for your state."),
    "consultations_api.list_consultations": Operation("List your state's consultations", "ConsultationPage",
                                                      query=PAGING),
    "consultations_api.open_consultation": Operation("Consult the denying state about its denial", "Consultation", 201,
                                                     body="ConsultationOpening", errors=WRITE_ERRORS),
    "consultations_api.get_consultation": Operation("Read a consultation and its thread", "Consultation"),
    "consultations_api.post_message": Operation("Write in a consultation's thread", "ConsultationMessage", 201,
                                                body="ConsultationMessageInput", errors=WRITE_ERRORS),
    "consultations_api.answer": Operation("Give the denying state's position", "Consultation",
                                          body="ConsultationAnswer", errors=WRITE_ERRORS),
    "consultations_api.close": Operation("Record the outcome (consulting state)", "Consultation",
                                         body="ConsultationClosing", errors=WRITE_ERRORS),
    "consultations_api.list_attachments": Operation("List a consultation's files", "AttachmentList"),
    "consultations_api.upload_attachment": Operation("Attach a file to a consultation", "Attachment", 201, upload=True,
                                                     errors=(*WRITE_ERRORS, 415)),
    "meetings_api.list_meetings": Operation("List the meetings your state is invited to", "MeetingPage",
                                            query=(*PAGING, "when")),
    "meetings_api.get_meeting": Operation("Read a meeting with its agenda", "MeetingDetail"),
    "meetings_api.participants": Operation("The invited states and the registered delegations", "Participants"),
    "stix.kind_bundle": Operation("{plural} as one STIX 2.1 bundle", "StixBundle", media_type=STIX_MEDIA_TYPE,
                                  query=ITEM_FILTERS, description="The live items you may read (never TLP:RED), "
                                                                  "filtered as the list is; at most 10,000."),
    "stix.item_bundle": Operation("One {label} as a STIX 2.1 bundle", "StixBundle", media_type=STIX_MEDIA_TYPE,
                                  description="A report, its originating state's identity and its TLP 2.0 marking."),
    "api_docs.openapi": Operation("This document", None, media_type="application/json",
                                  description="Public: it describes the API and holds no data."),
}

# List parameters follow the pages' rule: a value a list cannot use is ignored, never an error
# (portal.pagination, sharing.queries.apply_filters), so they are strings with their meaning.
QUERY_PARAMETERS: dict[str, Schema] = {
    "page": {"type": "string",
             "description": "The page, a whole number from 1 (other values: 1; past the end: the last)."},
    "per_page": {"type": "string", "description": f"Items per page, 1 to {MAX_PAGE_SIZE} (larger: {MAX_PAGE_SIZE}; "
                                                  "other values: the portal's page size, given in each answer)."},
    "state": {"type": "string", "description": "Originating state code, or SECRETARIAT."},
    "category": {"type": "string", "description": "A threat category or document category."},
    "severity": {"type": "string", "description": f"One of {', '.join(SEVERITIES)}."},
    "tlp": {"type": "string", "description": f"One of {', '.join(t.value for t in Tlp)}."},
    "status": {"type": "string", "description": "An item status or a denial status."},
    "from": {"type": "string", "description": "Published on or after this day (YYYY-MM-DD)."},
    "to": {"type": "string", "description": "Published on or before this day (YYYY-MM-DD)."},
    "q": {"type": "string", "description": "Words to search for."},
    "when": {"type": "string", "description": "past: meetings that have ended, latest first; otherwise upcoming ones, "
                                              "soonest first."},
}

_PARAMETER = re.compile(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?([a-z_]+)>")


def _security(endpoint: str, method: str, view_args: dict[str, str]) -> list[Schema]:
    """Who may call: a personal token, or a machine client with the scope access.required_scope names."""
    if endpoint in access.PUBLIC_ENDPOINTS or endpoint == "api_docs.openapi":
        return []
    needed = access.required_scope(endpoint, method, view_args)
    options: list[Schema] = [{"personalToken": []}]
    if needed in ("files", "feeds"):
        options += [{"machineClient": [s]} for s in access.CLIENT_SCOPES
                    if s.endswith(":read") and s != "meetings:read"]
    elif needed is not None:
        options.append({"machineClient": [needed]})
    return options


def _responses(op: Operation, endpoint: str, has_id: bool, response: str | None) -> dict[str, Any]:
    ok: Schema = {"description": "OK" if op.status == 200 else "Created"}
    if response is not None:
        ok["content"] = {op.media_type: {"schema": ref(response)}}
    else:
        ok["content"] = {op.media_type: {"schema": {"type": "string", "format": "binary"}
                                         if op.media_type != "application/json" else {"type": "object"}}}
    responses: dict[str, Any] = {str(op.status): ok}
    if endpoint == "api_docs.openapi":
        return responses
    errors = set(op.errors or READ_ERRORS)
    if has_id:
        errors.add(404)
    words = {400: "The request cannot be read (invalid JSON, bad parameters).", 401: "No valid bearer token.",
             403: "Not allowed (or, for a machine client, outside its scopes: insufficient_scope).",
             404: "No such object, or not yours to see.", 409: "The object can no longer change.",
             413: "Too large.", 415: "Not an accepted type of file.", 422: "Some fields need attention (see `fields`).",
             429: "Too many requests."}
    for status in sorted(errors):
        responses[str(status)] = {"description": words[status],
                                  "content": {"application/json": {"schema": ref("Error")}}}
    return responses


def _operation(rule_path: str, endpoint: str, method: str, slug: str | None) -> tuple[str, Schema]:
    op = OPERATIONS[endpoint]
    spec = BY_SLUG[slug] if slug else None
    names = ({"kind": _schema_name(spec.kind), "label": spec.label.lower(), "plural": spec.plural.lower()}
             if spec else {})

    def fill(value: str) -> str:
        return value.format(**names) if spec else value

    parameters: list[Schema] = []

    def path_part(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if converter == "any":
            return slug or ""
        schema = UUID if converter == "uuid" else {"type": "integer"} if converter == "int" else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    path = _PARAMETER.sub(path_part, rule_path)
    for name in op.query:
        parameters.append({"name": name, "in": "query", "required": False, "schema": QUERY_PARAMETERS[name]})
    operation: Schema = {
        "operationId": endpoint.replace(".", "_") + (f"_{slug.replace('-', '_')}" if slug else ""),
        "summary": fill(op.summary),
        "tags": [endpoint.split(".")[0]] if not spec else [spec.plural],
        "responses": _responses(op, endpoint, any(p["in"] == "path" for p in parameters),
                                fill(op.response) if op.response else None),
    }
    if op.description:
        operation["description"] = op.description
    if parameters:
        operation["parameters"] = parameters
    if op.body:
        name = fill(op.body)
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(name)}}}
    if op.upload:
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": obj(
            {"file": {"type": "string", "format": "binary", "description": "The file (PDF, office documents, images, "
                                                                            "text; see the portal's help)."}},
            ["file"])}}}
    view_args = {"kind_slug": slug, "kind": slug} if slug else {}
    operation["security"] = _security(endpoint, method, view_args)
    return path, operation


def build(app: Flask, base_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every /api/v1 route in `app`'s URL map."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        converter = rule._converters.get("kind_slug") or rule._converters.get("kind")
        slugs: list[str | None] = sorted(converter.items) if converter is not None else [None]  # type: ignore[attr-defined]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for slug in slugs:
                path, operation = _operation(rule.rule, rule.endpoint, method, slug)
                paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ECHRI Portal API", "version": API_VERSION,
            "description": (
                "The JSON API of the ECHRI Portal: what a person's token or a national system (OAuth2 client "
                "credentials) may read and post for its state, under the same rules as the pages. Objects you may "
                "not see answer 404. Every refusal is the envelope `{\"error\": {\"code\", \"message\", "
                "\"fields\"?}}`. TLP:RED never reaches a machine client."),
        },
        "servers": [{"url": base_url.rstrip("/") or "/"}],
        "paths": paths,
        "components": {
            "schemas": components_schemas(),
            "securitySchemes": {
                "personalToken": {"type": "http", "scheme": "bearer",
                                  "description": "A personal API token (Account → API tokens); "
                                                 "acts with its owner's rights."},
                "machineClient": {"type": "oauth2",
                                  "description": "A national system registered by its state's point "
                                                 "of contact; acts as an officer of that state within its scopes.",
                                  "flows": {"clientCredentials": {"tokenUrl": "/oauth/token",
                                                                  "scopes": dict(access.CLIENT_SCOPES)}}},
            },
        },
        "security": [{"personalToken": []}, {"machineClient": []}],
    }
