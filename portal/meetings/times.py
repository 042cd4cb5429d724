"""Meeting times: stored in UTC, entered and shown in the meeting's own IANA time zone."""
from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones



@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    """The IANA zones offered in forms (the legacy aliases left out)."""
    legacy = ("Etc/", "SystemV/", "posix/", "right/")
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(legacy))


def zone(name: str) -> ZoneInfo | None:
    """The zone called `name`, or None when it is not a known IANA zone."""
    if not name or name != name.strip() or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def to_utc(local: datetime, zone_name: str) -> datetime | None:
    """A wall-clock time in `zone_name` as UTC; None when that time does not exist there (clocks going forward)."""
    tz = zone(zone_name)
    if tz is None:
        return None
    aware = local.replace(tzinfo=tz, fold=0)
    as_utc = aware.astimezone(UTC)
    if as_utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # skipped by a daylight-saving change
    return as_utc


def to_local(moment: datetime, zone_name: str) -> datetime:
    """`moment` in the zone `zone_name` (UTC when the name is unknown)."""
    tz = zone(zone_name) or ZoneInfo("UTC")
    return moment.astimezone(tz)


def local_naive(moment: datetime | None, zone_name: str) -> datetime | None:
    """For form fields: the wall-clock time without a zone."""
    return None if moment is None else to_local(moment, zone_name).replace(tzinfo=None)


def format_moment(moment: datetime | None, zone_name: str, with_zone: bool = True) -> str:
    """e.g. "Tue 10 March 2026, 09:30 CET (Europe/Paris)"."""
    if moment is None:
        return "–"
    local = to_local(moment, zone_name)
    text = f"{local:%a} {local.day} {local:%B %Y, %H:%M}"
    return f"{text} {local.tzname()} ({zone_name})" if with_zone else text


def format_span(start: datetime, end: datetime, zone_name: str) -> str:
    """A meeting's dates, e.g. "Tue 10 March 2026, 09:30 – Wed 11 March 2026, 17:00 CET (Europe/Paris)"."""
    a, b = to_local(start, zone_name), to_local(end, zone_name)
    if a.date() == b.date():
        return f"{a:%a} {a.day} {a:%B %Y}, {a:%H:%M}–{b:%H:%M} {b.tzname()} ({zone_name})"
    return f"{format_moment(start, zone_name, False)} {a.tzname()} – {format_moment(end, zone_name)}"


def format_slot(start: datetime | None, end: datetime | None, zone_name: str, day_of: date | None = None) -> str:
    """An agenda time slot, e.g. "09:30–10:15"; the date is added when it differs from `day_of`."""
    if start is None:
        return ""
    a = to_local(start, zone_name)
    prefix = "" if day_of is not None and a.date() == day_of else f"{a:%a} {a.day} {a:%b}, "
    if end is None:
        return f"{prefix}{a:%H:%M}"
    b = to_local(end, zone_name)
    return f"{prefix}{a:%H:%M}–{b:%H:%M}"
