"""Append-only, hash-chained audit log.

Each entry's hash covers its own fields and the previous entry's hash, so altering or
removing any row breaks every hash after it; `verify_chain` finds the first broken link.
Callers record inside their own transaction: the entry commits (or rolls back) with the
change it describes.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from portal.models.audit import AuditEntry
from portal.models.base import utcnow

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 0x45434852  # "ECHR": one advisory lock id for the chain's tip on PostgreSQL

# Set by the web layer for each request so services need not know about HTTP.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_ip", default=None)


class Actor(Protocol):
    id: Any
    email: str
    country_code: str | None


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
            return ChainReport(count, entry.id, "previous hash does not match: an entry before it was removed or altered")
        if _digest(entry) != entry.entry_hash:
            return ChainReport(count, entry.id, "content does not match its hash: the entry was altered")
        expected_prev = entry.entry_hash
    return ChainReport(count)
