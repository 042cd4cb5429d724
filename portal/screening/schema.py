"""What a screening request may hold, checked once for the page, the CSV upload, the API and the CLI.

The page and the CSV parser produce the API's payload shape
(`{"parties": [{"name", "aliases", "country", "address"}], "threshold", "include_inactive"}`)
and everything goes through `validate`, so a party is refused for the same reason wherever
it comes from.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

from portal.country_names import country_names
from portal.errors import ValidationFailed
from portal.screening.matcher import DEFAULT_THRESHOLD
from portal.validation import COUNTRY_CODE, Checker

MAX_PARTIES = 1000
MAX_CSV_BYTES = 1024 * 1024
MAX_ALIASES = 50
CSV_HEADER = ("name", "aliases", "country", "address")
@dataclass(frozen=True)
class CleanScreening:
    """A checked screening request."""

    parties: list[dict[str, Any]]
    threshold: float
    include_inactive: bool


def _party(c: Checker, index: int, raw: Any) -> dict[str, Any]:
    where = f"parties[{index}]"
    if not isinstance(raw, dict):
        c.fail(where, "Must be an object with name, aliases, country and address.")
        return {}
    aliases = raw.get("aliases", [])
    if aliases is None:
        aliases = []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases) or len(aliases) > MAX_ALIASES:
        c.fail(f"{where}.aliases", f"Must be a list of at most {MAX_ALIASES} names.")
        aliases = []
    cleaned = [a.strip() for a in aliases if a.strip()]
    if any(len(a) > 300 for a in cleaned):
        c.fail(f"{where}.aliases", "Each alias must be at most 300 characters.")
    country = c.text("country", limit=2, source=raw, path=f"{where}.country").upper()
    if country and (not COUNTRY_CODE.match(country) or country not in country_names()):
        c.fail(f"{where}.country", f"{country!r} is not a two-letter ISO country code.")
    return {"name": c.text("name", required=True, limit=300, source=raw, path=f"{where}.name"),
            "aliases": cleaned, "country": country,
            "address": c.text("address", limit=1000, source=raw, path=f"{where}.address")}


def validate(data: Any) -> CleanScreening:
    """Check a screening request; raise ValidationFailed listing every problem."""
    c = Checker(data)
    raw = data.get("parties")
    parties: list[dict[str, Any]] = []
    if not isinstance(raw, list) or not raw:
        c.fail("parties", "Send at least one party.")
    elif len(raw) > MAX_PARTIES:
        c.fail("parties", f"At most {MAX_PARTIES:,} parties per screening ({len(raw):,} sent).")
    else:
        parties = [_party(c, i, p) for i, p in enumerate(raw)]
    threshold = data.get("threshold")
    if threshold is None:
        threshold = DEFAULT_THRESHOLD
    elif isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold) \
            or not 0 <= threshold <= 1:
        c.fail("threshold", "Must be a number from 0 to 1.")
        threshold = DEFAULT_THRESHOLD
    include_inactive = c.boolean(data, "include_inactive", "include_inactive")
    if c.errors:
        raise ValidationFailed("Some fields need attention.", c.errors)
    return CleanScreening(parties=parties, threshold=float(threshold), include_inactive=include_inactive)


def split_aliases(text: str) -> list[str]:
    """Aliases as the page and CSV files write them: separated by semicolons."""
    return [a.strip() for a in text.split(";") if a.strip()]


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"file": message})


def parse_csv(data: bytes) -> list[dict[str, Any]]:
    """A CSV file (`name,aliases,country,address`) as the payload's list of parties.

    Refuses, naming the row, what cannot become parties: a file over the size limit, not
    UTF-8, with another header, rows of the wrong width, too many rows. Field rules (a name
    is required, country codes) are `validate`'s; `validate_csv` names their rows too.
    """
    if len(data) > MAX_CSV_BYTES:
        raise _file_error(f"The file is larger than {MAX_CSV_BYTES // 1024 // 1024} MiB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise _file_error(f"The file is not UTF-8 text (first bad byte on line {line}); "
                          "save it as CSV UTF-8.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise _file_error(f"Row {reader.line_num}: the file is not valid CSV ({error}).") from None
    if not rows:
        raise _file_error("The file is empty. The first row must be: " + ",".join(CSV_HEADER) + ".")
    header = tuple(cell.strip().lower() for cell in rows[0][1])
    if header != CSV_HEADER:
        raise _file_error("The first row must be the header " + ",".join(CSV_HEADER)
                          + f" (found: {','.join(rows[0][1])[:100]}).")
    parties: list[dict[str, Any]] = []
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not parties
        if len(parties) == MAX_PARTIES:
            raise _file_error(f"Row {line}: at most {MAX_PARTIES:,} parties per file.")
        if len(row) != len(CSV_HEADER):
            raise _file_error(f"Row {line}: {len(row)} columns; expected {len(CSV_HEADER)} ({','.join(CSV_HEADER)}).")
        name, aliases, country, address = row
        parties.append({"name": name, "aliases": split_aliases(aliases), "country": country.strip(),
                        "address": address, "_row": line})
    if not parties:
        raise _file_error("The file has a header but no parties.")
    return parties


def validate_csv(data: bytes, threshold: Any = None, include_inactive: Any = False) -> CleanScreening:
    """Parse and check a CSV file; errors name the file's row."""
    parties = parse_csv(data)
    rows = [p.pop("_row") for p in parties]
    try:
        return validate({"parties": parties, "threshold": threshold, "include_inactive": include_inactive})
    except ValidationFailed as error:
        fields: dict[str, str] = {}
        messages = []
        for path, message in error.fields.items():
            if path.startswith("parties["):
                index, _, field = path[len("parties["):].partition("].")
                text = f"Row {rows[int(index)]}, {field or 'party'}: {message}"
                messages.append(text)
            else:
                fields[path] = message
        if messages:
            fields["file"] = " ".join(messages)
        raise ValidationFailed(" ".join(messages) or error.message, fields) from None
