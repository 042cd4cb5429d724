"""How dates, times and countries read on every page and e-mail: one format each.

Dates as `30 November 2026`, times on the 24-hour clock in UTC (`30 November 2026, 14:05 UTC`),
countries by name. Registered as Jinja filters (`date`, `datetime`, `country`) in pages.init_app,
and used by exports, so a page, a printout and a CSV say the same thing.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from portal.country_names import country_name


def format_date(value: date | datetime | str | None) -> str:
    """`30 November 2026` ("" for none; an ISO date string is read first)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return str(value)
    return f"{value.day} {value:%B %Y}"


def format_datetime(value: datetime | None) -> str:
    """`30 November 2026, 14:05 UTC` (stored times are UTC; a naive one is taken as UTC)."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{format_date(value)}, {value:%H:%M} UTC"


def format_country(code: str | None) -> str:
    """A country's name for its ISO code."""
    return country_name(code)
