"""Keep denial_parties (and their names and keys) in step with published denials."""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal.models.item import Item, ItemKind, ItemStatus
from portal.models.screening import DenialParty, DenialPartyKey, DenialPartyName
from portal.screening.normalise import index_keys, normalise


def party_names(party: dict[str, Any]) -> list[tuple[str, bool]]:
    """The party's name and its aliases, each once, as (text, is_alias)."""
    seen: set[str] = set()
    out: list[tuple[str, bool]] = []
    for text, is_alias in [(party.get("name") or "", False), *((a, True) for a in party.get("aliases") or [])]:
        text = text.strip()[:300]
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append((text, is_alias))
    return out


def name_fields(text: str) -> tuple[dict[str, Any], set[str]]:
    """The normalised columns of a denial_party_names row and its lookup keys."""
    norm = normalise(text)
    fields = {"normalised": norm.normalised[:600], "raw": norm.raw_key[:600], "sorted_key": norm.sorted_key[:600],
              "phonetic_key": norm.phonetic_key[:600], "consonant_key": norm.consonant_key[:600],
              "abjad": norm.abjad}
    return fields, (index_keys(norm) if not norm.empty else set())


def sync_parties(session: Session, item: Item) -> None:
    """Rewrite the item's party rows from its current details (flushes, never commits).

    Published denials have rows whatever their denial status (revoked and lapsed ones are
    told apart through the item); drafts, withdrawn items and other kinds have none.
    """
    session.flush()
    for model in (DenialPartyKey, DenialPartyName, DenialParty):
        session.execute(delete(model).where(model.item_id == item.id).execution_options(synchronize_session=False))
    if item.kind is not ItemKind.DENIAL or item.status is not ItemStatus.PUBLISHED:
        session.flush()
        return
    for position, party in enumerate((item.details or {}).get("parties") or []):
        row = DenialParty(item_id=item.id, position=position, role=party.get("role"), name=party.get("name") or "",
                          aliases=list(party.get("aliases") or []), address=party.get("address") or "",
                          country=(party.get("country") or None))
        for text, is_alias in party_names(party):
            fields, keys = name_fields(text)
            row.names.append(DenialPartyName(item_id=item.id, name=text, is_alias=is_alias, **fields,
                                             keys=[DenialPartyKey(key=k, item_id=item.id) for k in sorted(keys)]))
        session.add(row)
    session.flush()
