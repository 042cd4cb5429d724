"""Screening operations: run a screening for a state, keep it, show it again, export it.

A screening runs over what the screener may see (access.items_filter, inside the matcher's
candidate query) and is kept for the screener's state only. The audit log gets counts, never
the screened names: those are the state's own data.
"""
from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.errors import Forbidden, NotFound
from portal.downloads import safe_cell
from portal.models.item import Item, Tlp
from portal.models.screening import DenialParty, Screening, ScreeningSource
from portal.models.user import User
from portal.pagination import Page, paginate
from portal.screening.matcher import ACTIVE, InputParty, Match, screen
from portal.screening.schema import CleanScreening, validate

MATCHES_PER_PARTY = 50
IN_FORCE = {s.value for s in ACTIVE}  # revoked and lapsed denials are flagged as such


def _explanation(match: Match) -> list[dict[str, Any]]:
    return [{"feature": name, "value": value} for name, value in match.features.items() if value is not None]


def _records(session: Session, actor: User, clean: CleanScreening, found: list[list[Match]]) -> list[dict[str, Any]]:
    """The results as kept and answered: per input party, its matches, best first."""
    item_ids = {m.item_id for ms in found for m in ms}
    party_ids = {m.party_id for ms in found for m in ms}
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(item_ids), access.items_filter(actor)))} \
        if item_ids else {}
    parties = {p.id: p for p in session.scalars(select(DenialParty).where(DenialParty.id.in_(party_ids)))} \
        if party_ids else {}
    results = []
    for index, (party, matches) in enumerate(zip(clean.parties, found, strict=True)):
        records = []
        for m in sorted(matches, key=lambda m: (-m.score, m.party_id)):
            item, row = items.get(m.item_id), parties.get(m.party_id)
            if item is None or row is None:  # the matcher saw it through the same filter; belt and braces
                continue
            records.append({
                "denial_id": str(item.id), "title": item.title, "originator": item.originator_code,
                "denial_status": m.denial_status.value if m.denial_status else None,
                "party": {"role": row.role, "name": row.name, "country": row.country},
                "matched_name": m.matched_name, "input_name": m.input_name, "score": m.score,
                "explanation": _explanation(m)})
        results.append({"index": index, "input": party, "matches": records})
    return results


def run_screening(session: Session, actor: User, data: Any | CleanScreening,
                  source: ScreeningSource) -> Screening:
    """Screen parties against the denials `actor` may see; keep and audit the screening."""
    if not access.can_screen(actor):
        raise Forbidden("Only a state's point of contact and officers screen parties.")
    clean = data if isinstance(data, CleanScreening) else validate(data)
    inputs = [InputParty(name=p["name"], aliases=tuple(p["aliases"]), country=p["country"] or None)
              for p in clean.parties]
    found = screen(session, access.items_filter(actor), inputs, clean.threshold, clean.include_inactive,
                   limit=MATCHES_PER_PARTY)
    results = _records(session, actor, clean, found)
    assert actor.country_code is not None  # can_screen
    screening = Screening(
        id=uuid.uuid4(), country_code=actor.country_code, screener_id=actor.id, source=source,
        threshold=clean.threshold, include_inactive=clean.include_inactive, party_count=len(results),
        flagged_count=sum(1 for r in results if r["matches"]), match_count=sum(len(r["matches"]) for r in results),
        results=results)
    session.add(screening)
    session.flush()
    # Counts only: the screened names are the state's data and stay out of the audit log.
    audit.record(session, "screening.run", actor=actor, target_type="screening", target_id=screening.id,
                 details={"source": source.value, "parties": screening.party_count,
                          "flagged": screening.flagged_count, "matches": screening.match_count,
                          "include_inactive": screening.include_inactive})
    session.commit()
    return screening


def api_record(screening: Screening) -> dict[str, Any]:
    """The API's answer (its field names are a contract)."""
    keep = ("denial_id", "title", "originator", "denial_status", "party", "matched_name", "score", "explanation")
    return {"screening_id": str(screening.id), "threshold": screening.threshold,
            "results": [{"index": r["index"], "matches": [{k: m[k] for k in keep} for m in r["matches"]]}
                        for r in screening.results]}


def get_screening(session: Session, actor: User, screening_id: uuid.UUID) -> Screening:
    """The screening if `actor` may see it; NotFound otherwise."""
    screening = session.scalar(select(Screening).where(Screening.id == screening_id,
                                                       access.screenings_filter(actor)))
    if screening is None:
        raise NotFound()
    return screening


def list_screenings(session: Session, actor: User, args: Mapping[str, Any]) -> Page[Screening]:
    """The state's past screenings, newest first."""
    if not access.can_screen(actor):
        raise Forbidden("Only a state's point of contact and officers screen parties.")
    query = select(Screening).where(access.screenings_filter(actor)).order_by(
        Screening.created_at.desc(), Screening.id)
    return paginate(session, query, args)


@dataclass
class ShownResult:
    """One input party as the page shows it now."""

    index: int
    input: dict[str, Any]
    matches: list[dict[str, Any]]
    withheld: int  # matches whose denial is no longer shared with the viewer's state


def shown_results(session: Session, actor: User, screening: Screening) -> list[ShownResult]:
    """The kept results, each matched denial re-checked: one that is no longer visible to
    `actor` (audience narrowed, withdrawn to a notice) is withheld, not shown as it was."""
    ids = {uuid.UUID(m["denial_id"]) for r in screening.results for m in r["matches"]}
    visible = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids), access.items_filter(actor)))} \
        if ids else {}
    shown = []
    for r in screening.results:
        kept = []
        for m in r["matches"]:
            item = visible.get(uuid.UUID(m["denial_id"]))
            if item is not None:
                kept.append({**m, "tlp": item.tlp.value, "title": item.title,
                             "inactive": m["denial_status"] not in IN_FORCE,
                             "may_consult": access.can_open_consultation(actor, item)})
        shown.append(ShownResult(r["index"], r["input"], kept, len(r["matches"]) - len(kept)))
    return shown


CSV_COLUMNS = ("party_number", "input_name", "input_country", "matched_input_name", "score", "denial_id", "title",
               "originator", "denial_status", "tlp", "party_role", "party_name", "party_country", "matched_name",
               "explanation")


def results_csv(session: Session, actor: User, screening: Screening) -> str:
    """The results as CSV (one row per match, one per input party without a match).

    TLP:RED never leaves in bulk: a RED denial's row keeps its id, score and status but not
    its title or party names.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for result in shown_results(session, actor, screening):
        base = [result.index + 1, result.input.get("name"), result.input.get("country")]
        if not result.matches:
            writer.writerow([safe_cell(v) for v in [*base, *[""] * (len(CSV_COLUMNS) - len(base))]])
        for m in result.matches:
            red = m["tlp"] == Tlp.RED.value
            party = m["party"]
            explanation = "; ".join(f"{e['feature']}={e['value']}" for e in m["explanation"])
            writer.writerow([safe_cell(v) for v in [
                *base, m["input_name"], m["score"], m["denial_id"],
                "(TLP:RED: open it in the portal)" if red else m["title"],
                m["originator"], m["denial_status"], m["tlp"], party["role"], "" if red else party["name"],
                party["country"], "" if red else m["matched_name"], explanation]])
    return buffer.getvalue()
