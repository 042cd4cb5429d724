"""Full-text search: SQLite FTS5 on the embedded default, PostgreSQL full-text in production.

The index holds only what the audience may read: a withdrawn item is re-indexed with its
title and withdrawal notice, never its body. Visibility itself is not decided here: the
caller adds access.items_filter to the query.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Column, ColumnElement, MetaData, Table, Text, Uuid, delete, func, insert, literal_column, select
from sqlalchemy.orm import Session

from portal.models.item import Item, ItemStatus

# The FTS5 virtual table is created by migration 0002 on SQLite only; it lives outside the
# models' metadata so schema comparison and PostgreSQL never see it.
fts_metadata = MetaData()
item_fts = Table("item_fts", fts_metadata, Column("item_id", Uuid), Column("content", Text))

TERM = re.compile(r"\w+", re.UNICODE)
SEARCH_VECTOR: ColumnElement[Any] = literal_column("items.search_vector")


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
    if session.get_bind().dialect.name == "sqlite":
        session.execute(delete(item_fts).where(item_fts.c.item_id == item.id))
        session.execute(insert(item_fts).values(item_id=item.id, content=item.search_text))


def matches(session: Session, query: str) -> ColumnElement[bool] | None:
    """A condition on Item for `query`; None when the query has no searchable words."""
    terms = TERM.findall(query)[:20]
    if not terms:
        return None
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.plainto_tsquery("english", " ".join(terms))
        # The stored tsvector of migration 0012 (unmodelled: PostgreSQL only), so testing a row
        # never re-parses its text.
        return SEARCH_VECTOR.op("@@")(tsquery)
    # Each term quoted: user input can never become FTS5 query syntax.
    fts_query = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    hits = select(item_fts.c.item_id).where(item_fts.c.content.op("MATCH")(fts_query))
    return Item.id.in_(hits)
