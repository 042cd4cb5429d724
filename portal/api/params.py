"""Query parameters of the API's lists. Pages ignore what they cannot use (a stale link still
shows a list); an API client that sends `page=abc` or `to=yesterday` has a bug it should hear
about, so the API refuses such values with the fields named (422), as its document says."""
from __future__ import annotations

from collections.abc import Collection
from datetime import date

from werkzeug.datastructures import MultiDict

from portal.errors import ValidationFailed
from portal.pagination import MAX_PAGE_SIZE

LIMITS = {"page": None, "per_page": MAX_PAGE_SIZE}


def _positive(raw: str, ceiling: int | None) -> bool:
    return raw.isascii() and raw.isdigit() and 1 <= int(raw) <= (ceiling or int(raw))


def _is_date(raw: str) -> bool:
    try:
        date.fromisoformat(raw)
    except ValueError:
        return False
    return len(raw) == 10


def check_list_args(args: MultiDict[str, str], *, dates: Collection[str] = (),
                    choices: dict[str, Collection[str]] | None = None) -> None:
    """Refuse paging values that are not whole numbers in range, dates that are not YYYY-MM-DD,
    and values outside a parameter's choices."""
    fields: dict[str, str] = {}
    for name, ceiling in LIMITS.items():
        if any(not _positive(v, ceiling) for v in args.getlist(name)):
            fields[name] = f"A whole number from 1{f' to {ceiling}' if ceiling else ''}."
    for name in dates:
        if any(not _is_date(v) for v in args.getlist(name)):
            fields[name] = "A date as YYYY-MM-DD."
    for name, allowed in (choices or {}).items():
        if any(v not in allowed for v in args.getlist(name)):
            fields[name] = f"One of: {', '.join(allowed)}."
    if fields:
        raise ValidationFailed("Some parameters need attention.", fields)
