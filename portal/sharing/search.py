"""Full-text search: SQLite FTS5 on the embedded default, PostgreSQL full-text in production.

The index holds only what the audience may read: a withdrawn item is re-indexed with its
title and withdrawal notice, never its body. Visibility itself is not decided here: the
caller adds access.items_filter to the query.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import (Column, ColumnElement, Integer, MetaData, Select, Table, Text, Uuid, delete, false, func,
                        insert, literal_column, select, text, update)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from portal.models.item import Item, ItemStatus

# The FTS5 virtual table is created by migration 0002 on SQLite only; it lives outside the
# models' metadata so schema comparison and PostgreSQL never see it.
fts_metadata = MetaData()
item_fts = Table("item_fts", fts_metadata, Column("rowid", Integer), Column("item_id", Uuid), Column("content", Text))

TERM = re.compile(r"\w+", re.UNICODE)
SEARCH_VECTOR: ColumnElement[Any] = literal_column("items.search_vector")
# SQLite: the rowid of the item's FTS row (migration 0018, unmodelled: SQLite only). A MATCH
# yields rowids from the index alone; reading item_id would cost a content read per match.
SEARCH_KEY: ColumnElement[Any] = literal_column("items.search_key")
WALKED_SEARCH_KEY: ColumnElement[Any] = literal_column("+items.search_key")
# Matches from which walking the newest-first index beats looking up and sorting each match.
COMMON = 1000
ITEM_KEYS = Table("items", fts_metadata, Column("id", Uuid), Column("search_key", Integer))  # to read and set it


def searchable_text(item: Item) -> str:
    if item.status is ItemStatus.WITHDRAWN:
        return f"{item.title}\n{item.withdrawal_reason or ''}"
    parts: list[str] = [item.title, item.summary, item.body]
    _flatten(item.details, parts)
    return "\n".join(p for p in parts if p)


def _flatten(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _flatten(v, out)
    elif isinstance(value, list):
        for v in value:
            _flatten(v, out)


def index_item(session: Session, item: Item) -> None:
    """Refresh the item's entry in the full-text index (within the caller's transaction)."""
    item.search_text = searchable_text(item)
    if session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's tsvector is a generated column
    session.flush()  # the item's row must exist to carry its key
    key = session.scalar(select(ITEM_KEYS.c.search_key).where(ITEM_KEYS.c.id == item.id))
    if key is not None:  # re-index under the same key (by rowid: the FTS index has no item_id lookup)
        session.execute(delete(item_fts).where(item_fts.c.rowid == key))
        session.execute(insert(item_fts).values(rowid=key, item_id=item.id, content=item.search_text))
        return
    inserted = session.execute(insert(item_fts).values(item_id=item.id, content=item.search_text))
    key = cast(CursorResult[Any], inserted).lastrowid  # an FTS5 table takes no RETURNING
    session.execute(update(ITEM_KEYS).where(ITEM_KEYS.c.id == item.id).values(search_key=key))


def narrow(session: Session, query: Select[Any], words: str, ordered: bool = True) -> Select[Any]:
    """`query` (on Item) narrowed to the items matching `words`; to none when `words` has no
    searchable word ("*", "(" match nothing rather than everything). `ordered`: the rows will be
    read newest first up to a page; false when they are only counted (capped)."""
    terms = TERM.findall(words)[:20]
    if not terms:
        return query.where(false())
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.plainto_tsquery("english", " ".join(terms))
        # The stored tsvector of migration 0012 (unmodelled: PostgreSQL only), so testing a row
        # never re-parses its text. Which plan reads it: see from_index().
        return query.where(SEARCH_VECTOR.op("@@")(tsquery))
    # Each term quoted: user input can never become FTS5 query syntax.
    fts_query = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    match = item_fts.c.content.op("MATCH")(fts_query)
    if not ordered:
        # A capped count needs no order: go through the matches (rowids, lazily, from the index),
        # look each item up by its key, stop at the cap: a few ms whatever the word.
        return query.join(item_fts, item_fts.c.rowid == SEARCH_KEY).where(match)
    # SQLite's planner cannot tell a common word from a rare one, so ask the index (rowids only,
    # stops at COMMON). A rare word: look its items up by key and sort them. A common one: walk
    # the newest-first index (it covers search_key), test each entry against the matches, stop
    # at the page; the unary + keeps the planner off the key index.
    hits = select(item_fts.c.rowid).where(match)
    common = session.scalar(select(func.count()).select_from(hits.limit(COMMON).subquery())) == COMMON
    return query.where((WALKED_SEARCH_KEY if common else SEARCH_KEY).in_(hits))


# PostgreSQL: the planner settings that read search matches from the GIN index (see from_index).
FROM_INDEX_SETTINGS = {"enable_seqscan": "off", "enable_indexscan": "off", "work_mem": "64MB"}


@contextmanager
def from_index(session: Session, when: bool = True) -> Iterator[None]:
    """Run what is inside (`when` true) reading the search matches from the full-text index: a
    search's capped count always, and its page when the matches are few (under COMMON).

    PostgreSQL: under LIMIT the planner prefers reading rows in some order and testing each
    one's tsvector, but the tsvectors are stored out of line (TOAST), and its cost model does
    not know a test costs a fetch. Counting a word in one item of six that way took ~350 ms
    over 200,000 items; paging a word in 50 items of 1,000,000 walked the whole list, 11 s.
    From the GIN index (a bitmap of the matches, no tsvector read, then the access filter on
    each row, then a sort of the few for a page) each costs a few ms. A common word's page
    keeps the planner's walk down the newest-first list: a page of matches turns up at once.
    The settings are local to the transaction and put back right after. SQLite: see narrow().
    """
    if not when or session.get_bind().dialect.name != "postgresql":
        yield
        return
    names = list(FROM_INDEX_SETTINGS)
    before = session.execute(text("SELECT " + ", ".join(f"current_setting('{name}')" for name in names))).one()
    _set(session, FROM_INDEX_SETTINGS)
    try:
        yield
    finally:
        _set(session, dict(zip(names, before, strict=True)))


def _set(session: Session, settings: dict[str, str]) -> None:
    """SET LOCAL for each setting (names are ours; values go as parameters)."""
    calls = ", ".join(f"set_config('{name}', :value{i}, true)" for i, name in enumerate(settings))
    session.execute(text(f"SELECT {calls}"), {f"value{i}": value for i, value in enumerate(settings.values())})
