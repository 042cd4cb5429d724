"""Offset pagination for list pages: one COUNT and one page query, whatever the page size."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Mapping, TypeVar

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_PAGE_SIZE = 100


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    size: int
    total: int

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


def paginate(session: Session, query: Select[Any], args: Mapping[str, Any]) -> Page[Any]:
    """Run `query` for the page named in `args` (?page=, ?per_page=), clamped to sane bounds."""
    size = min(_positive_int(args.get("per_page"), current_app.config["PAGE_SIZE"]), MAX_PAGE_SIZE)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // size))
    number = min(_positive_int(args.get("page"), 1), pages)
    items = list(session.scalars(query.limit(size).offset((number - 1) * size)).unique())
    return Page(items=items, number=number, size=size, total=total)
