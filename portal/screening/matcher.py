"""Screen applicant parties against the parties of published denials.

Candidates come from the index (denial_party_keys, looked up with IN queries that carry the
caller's visibility filter, so a denial the screener may not see never becomes a candidate,
nor counts in a key's frequency); candidates are then scored in Python with rapidfuzz. Pure
of Flask: the caller passes the session and the visibility condition (access.items_filter).
"""
from __future__ import annotations

import heapq
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from portal.models.item import DenialStatus, Item, ItemKind, ItemStatus
from portal.models.screening import DenialParty, DenialPartyKey, DenialPartyName
from portal.screening.normalise import NormalName, index_keys, normalise, script_of

# Chosen with bench/screening.py (100,000 synthetic denial parties, 1,000 applicants, 30% variants;
# negatives at least three edits from any denied name): 0.75 → recall 0.97, precision 0.86;
# 0.8 → 0.97 / 0.92; 0.85 → 0.94 / 0.96; 0.9 → 0.89 / 0.96, the same on SQLite and PostgreSQL.
# Screening favours recall (a person reviews every hit). Still missed: two typos in one word
# that leave it no shared key (Uralpribor / Urapprbior), two-syllable Han names with a typo.
DEFAULT_THRESHOLD = 0.8
# A key shared by more names than this (a very common given name or word) is too weak to
# fetch its postings; names are still found through their rarer keys.
MAX_KEY_FREQUENCY = 600
CANDIDATES_PER_NAME = 25
COUNTRY_PENALTY = 0.08  # a different country lowers a score, never hides a perfect name match
COUNTRY_BONUS = 0.02
TOKEN_MISS_PENALTY = 0.2
IN_CHUNK = 2000
# When an input's best match scores this much, matches more than the margin below it are dropped.
DOMINANT_SCORE = 0.9
DOMINANCE_MARGIN = 0.1
ACTIVE = (DenialStatus.ACTIVE, DenialStatus.AMENDED)


@dataclass(frozen=True)
class InputParty:
    """An applicant's party as a national file has it."""

    name: str
    aliases: tuple[str, ...] = ()
    country: str | None = None


@dataclass
class Match:
    """A denial party that matches an input party, with why."""

    item_id: uuid.UUID
    party_id: int
    party_name: str
    matched_name: str  # the denial party's name or alias that matched
    input_name: str  # the input party's name or alias that matched it
    score: float
    features: dict[str, float | None] = field(default_factory=dict)
    country: str | None = None
    denial_status: DenialStatus | None = None


@dataclass(frozen=True)
class _Candidate:
    name_id: int
    party_id: int
    item_id: uuid.UUID
    name: str
    party_name: str
    normalised: str
    raw: str
    sorted_key: str
    phonetic_key: str
    consonant_key: str
    abjad: bool
    country: str | None
    denial_status: DenialStatus | None


def _similarity(a: str, b: str) -> float:
    # OSA: a swapped pair of letters is one typo, not two.
    return float(OSA.normalized_similarity(a, b))


def _reach(token: str) -> int:
    """Typos a word of this length may carry and still be the same word: none in two letters,
    one up to six, two from seven (a syllable more or less is another name: Tramar, Tramarrin)."""
    return 0 if len(token) <= 2 else 1 if len(token) <= 6 else 2


def _token_overlap(views: Sequence[tuple[Sequence[str], Sequence[str]]]) -> float:
    """Share of the longer name's words that are, in some view, within typing distance of a word
    of the other name."""
    a, b = views[0]
    if not a or not b:
        return 0.0
    longer = 0 if len(a) >= len(b) else 1
    found = 0
    for i in range(len(views[0][longer])):
        for view in views:
            token, others = view[longer][i], view[1 - longer]
            # The shorter word sets the reach: Tramar is not Tramarrin with two typos.
            if any(OSA.distance(token, u, score_cutoff=reach) <= reach
                   for u in others for reach in (_reach(min(token, u, key=len)),)):
                found += 1
                break
    return found / len(views[0][longer])


def _frame_similarity(a: list[str], b: list[str]) -> float:
    """Consonant frames compared in written order, `b` read from any of its words (a family
    name put first): Muhammad Hasan is not Hasan Muhammad."""
    if not a or not b:
        return 0.0
    first = " ".join(a)
    return max(_similarity(first, " ".join(b[i:] + b[:i])) for i in range(len(b)))


def _name_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Whole names compared with word order ignored, and joined (Hua Wei / Huawei)."""
    return max(_similarity(" ".join(sorted(a)), " ".join(sorted(b))), _similarity("".join(a), "".join(b)))


def score_pair(query: NormalName, query_country: str | None,
               candidate: _Candidate) -> tuple[float, dict[str, float | None]]:
    """The score in [0, 1] of one screened name against one denial party name, and its features."""
    tokens = candidate.normalised.split()
    raw = candidate.raw.split()
    same_script = query.script != "latin" and query.script == script_of(candidate.name)
    # Two names in the same non-Latin script went through the same transliteration: no
    # romanisation variant to fold, so the unfolded words are compared (shch is not s).
    views: list[tuple[Sequence[str], Sequence[str]]] = [(query.raw, raw)] if same_script else \
        [(query.tokens, tokens), (query.raw, raw)]
    name_similarity = max(_name_similarity(q, c) for q, c in views)
    phonetic = _similarity(query.phonetic_key, candidate.phonetic_key)
    consonant = _frame_similarity(query.consonant_key.split(), candidate.consonant_key.split())
    overlap = _token_overlap(views)
    if query.abjad != candidate.abjad:
        # One side was written without most vowels: compare what both spellings keep. The
        # metaphone of an unvowelled spelling says little, so the frames carry the score.
        score = max(name_similarity, 0.75 * consonant + 0.25 * max(name_similarity, phonetic))
    else:
        score = name_similarity if same_script else max(name_similarity, 0.7 * name_similarity + 0.3 * phonetic)
        if len(query.tokens) == len(tokens):
            # Same words but one of them clearly different (Sergei Kachiov / Sergei Kovchiov):
            # a shared given name or common word must not carry the match.
            score -= TOKEN_MISS_PENALTY * (1 - overlap)
    country_match: float | None = None
    if query_country and candidate.country:
        country_match = 1.0 if query_country.upper() == candidate.country.upper() else 0.0
        score = score + COUNTRY_BONUS if country_match else score - COUNTRY_PENALTY
    score = round(min(1.0, max(0.0, score)), 4)
    return score, {"name_similarity": round(name_similarity, 4), "phonetic": round(phonetic, 4),
                   "consonant": round(consonant, 4), "token_overlap": round(overlap, 4),
                   "country_match": country_match}


def _chunks(values: Sequence[str] | Sequence[int], size: int = IN_CHUNK) -> Iterable[list]:  # type: ignore[type-arg]
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def _denials(visible: ColumnElement[bool], include_inactive: bool) -> ColumnElement[bool]:
    condition = and_(Item.kind == ItemKind.DENIAL, Item.status == ItemStatus.PUBLISHED, visible)
    if not include_inactive:
        condition = and_(condition, Item.denial_status.in_(ACTIVE))
    return condition


def screen(session: Session, visible: ColumnElement[bool], parties: Sequence[InputParty],
           threshold: float = DEFAULT_THRESHOLD, include_inactive: bool = False,
           limit: int = 20) -> list[list[Match]]:
    """For each input party, the denial parties (visible through `visible`) scoring at least
    `threshold`, best first, at most `limit`; revoked and lapsed denials only if `include_inactive`."""
    denials = _denials(visible, include_inactive)
    # Not correlated: both databases read the visible denials' ids once and probe them per key row.
    visible_ids = select(Item.id).where(denials)
    queries: list[tuple[int, str, NormalName, set[str]]] = []
    for index, party in enumerate(parties):
        for text in (party.name, *party.aliases):
            norm = normalise(text or "")
            if not norm.empty:
                queries.append((index, text, norm, index_keys(norm)))
    results: list[list[Match]] = [[] for _ in parties]
    if not queries:
        return results

    all_keys = sorted(set().union(*(q[3] for q in queries)))
    frequency: dict[str, int] = {}
    for chunk in _chunks(all_keys):
        frequency.update(session.execute(
            select(DenialPartyKey.key, func.count())
            .where(DenialPartyKey.key.in_(chunk), DenialPartyKey.item_id.in_(visible_ids))
            .group_by(DenialPartyKey.key)).all())
    usable = set()
    for _, _, _, keys in queries:
        present = sorted((frequency[k], k) for k in keys if k in frequency)
        strong = [k for f, k in present if f <= MAX_KEY_FREQUENCY]
        usable.update(strong or [k for _, k in present[:2]])  # only common keys: keep the rarest

    postings: dict[str, list[int]] = defaultdict(list)
    for chunk in _chunks(sorted(usable)):
        for key, name_id in session.execute(
                select(DenialPartyKey.key, DenialPartyKey.name_id)
                .where(DenialPartyKey.key.in_(chunk), DenialPartyKey.item_id.in_(visible_ids))):
            postings[key].append(name_id)

    shortlist: list[list[int]] = []
    wanted: set[int] = set()
    for _, _, _, keys in queries:
        weights: dict[int, float] = defaultdict(float)
        for key in keys:
            ids = postings.get(key)
            if ids:
                weight = math.log(1 + MAX_KEY_FREQUENCY / len(ids))
                for name_id in ids:
                    weights[name_id] += weight
        # Ties broken by id, so both databases (whose posting order differs) shortlist the same names.
        best = heapq.nlargest(CANDIDATES_PER_NAME, weights.items(), key=lambda kv: (kv[1], -kv[0]))
        shortlist.append([name_id for name_id, _ in best])
        wanted.update(shortlist[-1])

    candidates: dict[int, _Candidate] = {}
    for chunk in _chunks(sorted(wanted)):
        rows = session.execute(
            select(DenialPartyName.id, DenialPartyName.party_id, DenialPartyName.item_id, DenialPartyName.name,
                   DenialParty.name, DenialPartyName.normalised, DenialPartyName.raw, DenialPartyName.sorted_key,
                   DenialPartyName.phonetic_key, DenialPartyName.consonant_key, DenialPartyName.abjad,
                   DenialParty.country, Item.denial_status)
            .join(DenialParty, DenialParty.id == DenialPartyName.party_id)
            .join(Item, Item.id == DenialPartyName.item_id)
            .where(DenialPartyName.id.in_(chunk), denials))
        for row in rows:
            candidates[row[0]] = _Candidate(*row)  # type: ignore[call-arg]

    best_per_party: list[dict[int, Match]] = [{} for _ in parties]
    for (index, text, norm, _), ids in zip(queries, shortlist, strict=True):
        country = parties[index].country
        for name_id in ids:
            cand = candidates.get(name_id)
            if cand is None:
                continue
            score, features = score_pair(norm, country, cand)
            if score < threshold:
                continue
            current = best_per_party[index].get(cand.party_id)
            if current is None or score > current.score:
                best_per_party[index][cand.party_id] = Match(
                    item_id=cand.item_id, party_id=cand.party_id, party_name=cand.party_name,
                    matched_name=cand.name, input_name=text, score=score, features=features,
                    country=cand.country, denial_status=cand.denial_status)
    for index, found in enumerate(best_per_party):
        ranked = sorted(found.values(), key=lambda m: (-m.score, m.party_id))
        if ranked and ranked[0].score >= DOMINANT_SCORE:
            # One party explains the name (near) exactly: parties a letter or two further off
            # are other entities of a crowded name space (Стальсосвязь / Стальщесвязь), not
            # other readings of this name.
            ranked = [m for m in ranked if m.score >= ranked[0].score - DOMINANCE_MARGIN]
        results[index] = ranked[:limit]
    return results
