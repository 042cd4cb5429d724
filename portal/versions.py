"""Numbered versions of a document: items, agendas and minutes keep theirs the same way.

A version row belongs to one parent (an item, a meeting's agenda, a meeting's minutes), is
numbered from 1 without gaps, never changes once written, and is read newest first. Who may
read which version is not decided here: callers pass `access.py`'s conditions (and the join
they need), so the rule stays in one place.
"""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from portal.models.base import VersionRow

V = TypeVar("V", bound=VersionRow)


def _select(model: type[V], of: ColumnElement[bool], visible: tuple[ColumnElement[bool], ...],
            join: tuple[Any, Any] | None) -> Select[V]:
    query = select(model)
    if join is not None:
        query = query.join(*join)
    return query.where(of, *visible)


def newest_first(session: Session, model: type[V], of: ColumnElement[bool], *visible: ColumnElement[bool],
                 join: tuple[Any, Any] | None = None) -> list[V]:
    """Every version of the parent that `of` names (and `visible` admits), newest first."""
    return list(session.scalars(_select(model, of, visible, join).order_by(model.version.desc())))


def latest(session: Session, model: type[V], of: ColumnElement[bool]) -> V | None:
    """The newest version of the parent `of` names; None before the first."""
    return session.scalar(_select(model, of, (), None).order_by(model.version.desc()).limit(1))


def numbered(session: Session, model: type[V], of: ColumnElement[bool], number: int,
             *visible: ColumnElement[bool], join: tuple[Any, Any] | None = None) -> V | None:
    """Version `number` of the parent `of` names, if `visible` admits it."""
    return session.scalar(_select(model, of, visible, join).where(model.version == number))


def next_number(previous: VersionRow | None) -> int:
    """The number the next version takes: 1 for the first, then one more than the newest."""
    return previous.version + 1 if previous is not None else 1
