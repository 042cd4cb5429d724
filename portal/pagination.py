"""Offset pagination for list pages: one capped COUNT and one page query, whatever the page size.

Counting every match exactly costs time in proportion to the matches (a common search word
over 200,000 items: hundreds of milliseconds), while the page itself only needs its rows.
So the count stops at COUNT_CAP + 1 rows: below the cap it is exact; above it the page says
"more than 1,000" and page links reach as far as the cap (refining the filters finds the rest).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_PAGE_SIZE = 100
DEFAULT_COUNT_CAP = 1000


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    size: int
    total: int  # exact when `more` is false, else the cap
    more: bool = False  # there are more than `total` matches

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _positive_int(raw: Any, default: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def page_size(args: Mapping[str, Any]) -> int:
    """The ?per_page= of `args`, clamped to 1..MAX_PAGE_SIZE (default PAGE_SIZE)."""
    return min(_positive_int(args.get("per_page"), current_app.config["PAGE_SIZE"]), MAX_PAGE_SIZE)


def count_cap() -> int:
    return int(current_app.config.get("COUNT_CAP") or DEFAULT_COUNT_CAP)


def capped_count_query(query: Select[Any], cap: int) -> Select[int]:
    """COUNT over at most cap + 1 rows of `query`: the database stops scanning at the cap."""
    return select(func.count()).select_from(query.order_by(None).limit(cap + 1).subquery())


def capped_count(session: Session, query: Select[Any], cap: int) -> tuple[int, bool]:
    """(count, more): the exact count up to `cap`, else (cap, True)."""
    found: int = session.scalar(capped_count_query(query, cap)) or 0
    return min(found, cap), found > cap


def paginate(session: Session, query: Select[Any], args: Mapping[str, Any],
             counted: tuple[int, bool] | None = None) -> Page[Any]:
    """Run `query` for the page named in `args` (?page=, ?per_page=), clamped to sane bounds.
    `counted`: the capped count of `query`'s rows when the caller made it (by a plan of its own)."""
    size = page_size(args)
    total, more = counted if counted is not None else capped_count(session, query, count_cap())
    pages = max(1, -(-total // size))
    number = min(_positive_int(args.get("page"), 1), pages)
    items = list(session.scalars(query.limit(size).offset((number - 1) * size)).unique())
    return Page(items=items, number=number, size=size, total=total, more=more)
