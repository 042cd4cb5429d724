"""Append-only, hash-chained audit log.

Each entry's hash covers its own fields and the previous entry's hash, so altering or
removing any row breaks every hash after it; `verify_chain` finds the first broken link.
Callers record inside their own transaction: the entry commits (or rolls back) with the
change it describes.

Administrators read this log and never read shared content, so an entry's `details` hold
only ids, counts, markings, kinds, status values, booleans and dates: `record` checks every
key against one allow-list (DETAIL_SHAPES) and refuses free text. Titles, names, reasons,
notes and file names stay in the content tables, behind access.py.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from portal.kinds import SEVERITIES, THREAT_CATEGORIES
from portal.models.audit import AuditEntry
from portal.models.base import utcnow
from portal.models.consultation import ConsultationOutcome, ConsultationPosition, ConsultationStatus
from portal.models.country import CountryStatus
from portal.models.item import Tlp
from portal.models.meeting import ActionStatus, MeetingKind, MinutesStatus
from portal.models.notification import AlertTopic, DeliveryMode
from portal.models.screening import ScreeningSource
from portal.models.user import Role, UserStatus

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 0x45434852  # "ECHR": one advisory lock id for the chain's tip on PostgreSQL

# Set by the web layer for each request so services need not know about HTTP.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_ip", default=None)


class Actor(Protocol):
    @property
    def id(self) -> Any: ...
    @property
    def email(self) -> str: ...
    @property
    def country_code(self) -> str | None: ...


class UnsafeAuditDetails(ValueError):
    """A caller passed a detail key outside the allow-list, or a value of the wrong shape:
    a programming error (tests catch it), never a user's mistake."""


Shape = Callable[[object], bool]
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MASTER_KEY_ID_PATTERN = re.compile(r"^mk-[0-9a-f]{16}$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([+-]\d{2}:\d{2})?$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
CLIENT_ID_PATTERN = re.compile(r"^ecc_[0-9a-f]{24}$")
SCOPE_PATTERN = re.compile(r"^[a-z]{1,20}(:[a-z]{1,10})?$")
ENDPOINT_PATTERN = re.compile(r"^[a-z_]{1,40}\.[a-z_]{1,40}$")
MAX_LIST = 64
# Names of fields that changed (meetings, the register): the name of a field, never its value.
FIELD_NAMES = frozenset({
    "kind", "title", "description", "timezone", "starts_at", "ends_at", "registration_deadline", "venue",
    "online_url", "invite_all_subscribing", "invite_observers", "states", "name", "status", "endorsed_on",
    # a state's identity provider (single sign-on)
    "issuer", "client_id", "client_secret", "email_claim", "mfa_amr", "mfa_acr", "enabled",
})
# `amr`/`acr` values an administrator accepts as multi-factor: short tokens or URIs, not prose.
CLAIM_VALUE_PATTERN = re.compile(r"^[A-Za-z0-9_.:/#-]{1,200}$")


def _uuid(value: object) -> bool:
    return isinstance(value, str) and UUID_PATTERN.match(value) is not None


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _boolean(value: object) -> bool:
    return isinstance(value, bool)


def _date(value: object) -> bool:
    if not isinstance(value, str) or not DATE_PATTERN.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _datetime(value: object) -> bool:
    if not isinstance(value, str) or not DATETIME_PATTERN.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _country(value: object) -> bool:
    return isinstance(value, str) and COUNTRY_PATTERN.match(value) is not None


def _one_of(*vocabularies: Iterable[object] | Callable[[], Iterable[object]]) -> Shape:
    """A value from fixed vocabularies (enums, or a function returning one, read at first use)."""
    @cache
    def allowed() -> frozenset[str]:
        return frozenset(str(v) for vocabulary in vocabularies
                         for v in (vocabulary if isinstance(vocabulary, Iterable) else vocabulary()))

    return lambda value: isinstance(value, str) and value in allowed()


def _list_of(shape: Shape) -> Shape:
    return lambda value: (isinstance(value, list) and len(value) <= MAX_LIST
                          and all(shape(v) for v in value))


def _pattern(pattern: re.Pattern[str]) -> Shape:
    return lambda value: isinstance(value, str) and pattern.match(value) is not None


def _either(*shapes: Shape) -> Shape:
    return lambda value: any(shape(value) for shape in shapes)


def _media_types() -> Iterable[str]:
    from portal.attachments.content import ALLOWED
    return (kind.media_type for kind in ALLOWED.values())


# THE allow-list: every key an entry's details may hold, with the shape its value must have.
# None is accepted for any of them (a value that is not set says nothing).
DETAIL_SHAPES: dict[str, Shape] = {
    # ids of rows (the row itself stays behind access.py)
    "item_id": _uuid, "denial_id": _uuid, "message_id": _uuid, "consultation_id": _uuid, "grant_notice_id": _uuid,
    "meeting": _uuid, "key_id": _uuid, "agenda_item": _uuid, "delegate": _uuid, "comment": _uuid,
    "previous": _either(_uuid, lambda v: isinstance(v, str) and MASTER_KEY_ID_PATTERN.match(v) is not None),
    # counts, sizes and version numbers
    "version": _count, "sequence": _count, "position": _count, "size": _count, "length": _count,
    "failures": _count, "mails_queued": _count, "fallback_states": _count, "uncovered_states": _count,
    "sessions_ended": _count, "api_tokens_revoked": _count, "replaced": _count, "keys_removed": _count, "added": _count,
    "files": _count, "rows": _count, "signing_key_version": _count,
    "parties": _count, "flagged": _count, "matches": _count, "days_before": _count, "messages": _count,
    "wraps": _count, "wraps_added": _count, "wraps_removed": _count, "hpke_version": _count,
    "signing_version": _count, "rewrapped_data_keys": _count, "rewrapped_private_keys": _count,
    # booleans
    "head": _boolean, "sent": _boolean, "required": _boolean, "user_verified": _boolean, "designated": _boolean,
    "include_inactive": _boolean,
    # dates and times
    "due": _date, "endorsed_on": _date, "review_date": _date, "deadline": _date, "locked_until": _datetime,
    "expires_at": _datetime,
    # markings, kinds and status values
    "tlp": _one_of(Tlp), "kind": _one_of(MeetingKind), "role": _one_of(Role),
    "status": _one_of(MinutesStatus, ActionStatus, CountryStatus, ConsultationStatus),
    "answer": _one_of(ConsultationPosition), "outcome": _one_of(ConsultationOutcome),
    "previous_status": _one_of(ActionStatus),
    "from": _one_of(Role, UserStatus, CountryStatus), "to": _one_of(Role, UserStatus, CountryStatus),
    "topic": _one_of(AlertTopic), "mode": _one_of(DeliveryMode), "min_severity": _one_of(SEVERITIES),
    "categories": _list_of(_one_of(THREAT_CATEGORIES)), "media_type": _one_of(_media_types),
    "step": _one_of({"password", "totp", "totp_enrolment", "webauthn", "oidc"}),
    "reason": _one_of({"unknown account", "other state", "subject mismatch", "email not verified", "token refused"}),
    "stage": _one_of({"download", "signature bundle"}), "database": _one_of({"sqlite", "postgresql"}),
    "store": _one_of({"local", "s3"}), "source": _one_of(ScreeningSource), "changed": _list_of(_one_of(FIELD_NAMES)),
    # the state of an account (account data administrators manage), never an item's audience
    "country": _country,
    # machine clients: which client, what it may do, which route it called (a name, never a URL)
    "client_id": _pattern(CLIENT_ID_PATTERN), "scopes": _list_of(_pattern(SCOPE_PATTERN)),
    "auth_method": _one_of({"client_secret_basic", "private_key_jwt"}), "endpoint": _pattern(ENDPOINT_PATTERN),
    "method": _one_of({"GET", "HEAD", "OPTIONS", "POST", "PATCH", "PUT", "DELETE"}), "http_status": _count,
    # single sign-on: the multi-factor values a state accepts, where its client secret lives
    "mfa_amr": _list_of(_pattern(CLAIM_VALUE_PATTERN)), "mfa_acr": _list_of(_pattern(CLAIM_VALUE_PATTERN)),
    "secret_source": _one_of({"environment", "sealed"}), "mfa_by_idp": _boolean, "bindings_removed": _count,
    "enabled": _boolean,
}


def check_details(details: dict[str, Any]) -> None:
    """Raise UnsafeAuditDetails unless every key is allow-listed and its value has the key's shape."""
    for key, value in details.items():
        shape = DETAIL_SHAPES.get(key)
        if shape is None:
            raise UnsafeAuditDetails(f"audit detail {key!r} is not in the allow-list (portal.audit.DETAIL_SHAPES)")
        if value is not None and not shape(value):
            raise UnsafeAuditDetails(f"audit detail {key!r} has a value of the wrong shape: {type(value).__name__}")


def displayable(details: dict[str, Any]) -> dict[str, Any]:
    """Details as an administrator may see them: entries written before the allow-list (which
    the chain keeps as they were) show only their allow-listed values; the rest is withheld."""
    shown: dict[str, Any] = {}
    for key, value in details.items():
        shape = DETAIL_SHAPES.get(key)
        shown[key] = value if shape is not None and (value is None or shape(value)) else "(withheld)"
    return shown


def _digest(entry: AuditEntry) -> str:
    payload = {
        "prev": entry.prev_hash,
        "at": entry.at.isoformat(),
        "action": entry.action,
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "actor_country": entry.actor_country,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details,
        "ip": entry.ip_address,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    action: str,
    *,
    actor: Actor | None = None,
    target_type: str | None = None,
    target_id: object | None = None,
    details: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain within the caller's transaction (not committed here)."""
    client_id = getattr(actor, "client_id", None)
    if isinstance(client_id, str):
        details = {**(details or {}), "client_id": client_id}  # a machine client's act names the client
    check_details(details or {})
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so each reads the true tip; released at commit/rollback.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    session.flush()
    tip = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        at=utcnow(),
        action=action,
        actor_id=str(actor.id) if actor is not None else None,
        actor_label=actor.email if actor is not None else actor_label,
        actor_country=actor.country_code if actor is not None else None,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        details=details or {},
        ip_address=current_ip.get(),
        prev_hash=tip or GENESIS_HASH,
    )
    entry.entry_hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_bad_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in order; report the first entry that does not fit the chain."""
    expected_prev = GENESIS_HASH
    count = 0
    rows = session.execute(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    ).scalars()
    for entry in rows:
        count += 1
        if entry.prev_hash != expected_prev:
            return ChainReport(count, entry.id,
                               "previous hash does not match: an entry before it was removed or altered")
        if _digest(entry) != entry.entry_hash:
            return ChainReport(count, entry.id, "content does not match its hash: the entry was altered")
        expected_prev = entry.entry_hash
    return ChainReport(count)
