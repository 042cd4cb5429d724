"""Validation of consultation payloads, shared by the pages and the API.

Forms produce the API's payload shape and the service passes it through these functions, so
a field is checked the same way wherever it comes from (`portal.validation.Checker`).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from portal.errors import ValidationFailed
from portal.models.consultation import ConsultationOutcome, ConsultationPosition
from portal.validation import COUNTRY_CODE, MAX_TEXT, Checker

DEFAULT_DEADLINE_DAYS = 30
MIN_DEADLINE_DAYS = 10
MAX_DEADLINE_DAYS = 365
MAX_MESSAGE = 20_000

POSITIONS = {p.value: p.label for p in ConsultationPosition}
OUTCOMES = {o.value: o.label for o in ConsultationOutcome}


@dataclass
class CleanOpening:
    denial_id: uuid.UUID
    applicant: str
    consignee: str
    end_user: str
    item_description: str
    destination: str
    end_use: str
    question: str
    deadline: date
    control_entries: list[dict[str, str]] = field(default_factory=list)


def _fail_if(c: Checker) -> None:
    if c.errors:
        raise ValidationFailed("Some fields need attention.", c.errors)


def _control_entries(c: Checker) -> list[dict[str, str]]:
    raw = c.data.get("control_entries", [])
    if not isinstance(raw, list) or len(raw) > 100:
        c.fail("control_entries", "Must be a list of {regime, code} objects.")
        return []
    entries = []
    for entry in raw:
        if not isinstance(entry, dict):
            c.fail("control_entries", "Each entry must be an object with regime and code.")
            continue
        regime = c.text("regime", required=True, limit=60, source=entry, path="control_entries")
        code = c.text("code", required=True, limit=60, source=entry, path="control_entries")
        entries.append({"regime": regime, "code": code})
    return entries


def validate_opening(data: Any, today: date) -> CleanOpening:
    """B's transaction, its question and the deadline (default 30 days, at least 10)."""
    c = Checker(data)
    denial_id: uuid.UUID | None = None
    try:
        denial_id = uuid.UUID(str(data.get("denial_id")))
    except ValueError:
        c.fail("denial_id", "Name the denial the consultation is about (its id).")
    applicant = c.text("applicant", required=True, limit=300)
    consignee = c.text("consignee", limit=300)
    end_user = c.text("end_user", required=True, limit=300)
    item_description = c.text("item_description", required=True)
    destination = c.text("destination", required=True, limit=2).upper()
    if destination and not COUNTRY_CODE.match(destination):
        c.fail("destination", "Use a two-letter ISO country code.")
    end_use = c.text("end_use")
    question = c.text("question", required=True, limit=MAX_TEXT)
    entries = _control_entries(c)
    deadline = today + timedelta(days=DEFAULT_DEADLINE_DAYS)
    raw = data.get("deadline")
    if raw not in (None, ""):
        chosen = c.date("deadline")
        if chosen is not None:
            deadline = date.fromisoformat(chosen)
            if deadline < today + timedelta(days=MIN_DEADLINE_DAYS):
                c.fail("deadline", f"Give the denying state at least {MIN_DEADLINE_DAYS} days to answer.")
            elif deadline > today + timedelta(days=MAX_DEADLINE_DAYS):
                c.fail("deadline", f"Choose a deadline within {MAX_DEADLINE_DAYS} days.")
    _fail_if(c)
    assert denial_id is not None
    return CleanOpening(denial_id=denial_id, applicant=applicant, consignee=consignee, end_user=end_user,
                        item_description=item_description, destination=destination, end_use=end_use,
                        question=question, deadline=deadline, control_entries=entries)


def validate_message(data: Any) -> str:
    c = Checker(data)
    body = c.text("body", required=True, limit=MAX_MESSAGE)
    _fail_if(c)
    return body


def validate_answer(data: Any) -> tuple[ConsultationPosition, str]:
    """A's position, with its reasons (required: B decides on them)."""
    c = Checker(data)
    position = c.choice("position", POSITIONS)
    reasons = c.text("reasons", required=True, limit=MAX_MESSAGE)
    _fail_if(c)
    assert position is not None
    return ConsultationPosition(position), reasons


def validate_closing(data: Any) -> tuple[ConsultationOutcome, str]:
    """B's outcome; granting needs reasons (every state in the denial's audience reads them)."""
    c = Checker(data)
    outcome_raw = c.choice("outcome", OUTCOMES)
    reasons = c.text("reasons", limit=MAX_MESSAGE)
    if outcome_raw is not None and ConsultationOutcome(outcome_raw).needs_reasons and not reasons:
        c.fail("reasons", "Explain why the licence was granted: every state that received the denial is told.")
    _fail_if(c)
    assert outcome_raw is not None
    return ConsultationOutcome(outcome_raw), reasons
