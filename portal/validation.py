"""Rules for free text that every form and the API share: one-line and multi-line fields.

A CR or LF in a title or a name ends up in an e-mail header (and makes the alert fail on
every retry, or worse, adds a header); a lone surrogate cannot be encoded as UTF-8 for the
database or the mail server; PostgreSQL refuses NUL in text. So text is checked once, here,
and both `Checker` below and every Flask-WTF form (`portal.forms.PortalForm`)
call these functions, so a new field inherits the rule.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from portal.errors import ValidationFailed

ONE_LINE_MESSAGE = "Must be on one line, without control characters."
MULTI_LINE_MESSAGE = "Contains control characters; only line breaks and tabs are allowed."
SURROGATE_MESSAGE = "Contains an invalid character (a lone UTF-16 surrogate)."

E = TypeVar("E", bound=Enum)

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
MAX_TEXT, MAX_LIST = 4000, 100

# Unicode's own line and paragraph separators: str.splitlines() and mail clients break on them.
_LINE_SEPARATORS = {"Zl", "Zp"}


def _bad(char: str, multiline: bool) -> bool:
    if multiline and char in "\n\t":
        return False
    category = unicodedata.category(char)
    return category == "Cc" or category in _LINE_SEPARATORS


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """The message for what is wrong with `value` as a one-line (or multi-line) text; None if fine."""
    if any(unicodedata.category(c) == "Cs" for c in value):
        return SURROGATE_MESSAGE
    if any(_bad(c, multiline) for c in value):
        return MULTI_LINE_MESSAGE if multiline else ONE_LINE_MESSAGE
    return None


def normalise_newlines(value: str) -> str:
    """Browsers send a textarea's line breaks as CRLF: store them as LF (a lone CR stays, and is refused)."""
    return value.replace("\r\n", "\n")


def clean_text(value: str, *, multiline: bool = False) -> tuple[str, str | None]:
    """`value` stripped (and, for multi-line text, with CRLF as LF) and the problem with it, if any."""
    if multiline:
        value = normalise_newlines(value)
    value = value.strip()
    return value, text_problem(value, multiline=multiline)


class Checker:
    """Collects every problem of a JSON-shaped payload (API body or form data) as `path: message`,
    so a service raises one ValidationFailed naming them all. Every domain validates with it:
    the API's JSON and a form's `payload()` (whose values may already be dates or booleans)
    go through the same rules. `message` arguments replace the generic "required" message with
    one that says what to do ("Enter the meeting's title.")."""

    def __init__(self, data: Any, *, partial: bool = False) -> None:
        if not isinstance(data, dict):
            raise ValidationFailed("The request body must be a JSON object.")
        self.data = data
        self.errors: dict[str, str] = {}
        # A draft saves part-filled: what is given is still checked (types, limits, vocabularies),
        # but nothing is required yet except what a check marks `draft_too` (publish checks all).
        self.partial = partial

    def _needs(self, required: bool, draft_too: bool) -> bool:
        return required and (draft_too or not self.partial)

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def done(self, message: str = "Some fields need attention.") -> None:
        """Raise one ValidationFailed naming every field with a problem, if any has one."""
        if self.errors:
            raise ValidationFailed(message, self.errors)

    def text(self, name: str, *, required: bool = False, limit: int = MAX_TEXT, source: dict[str, Any] | None = None,
             path: str | None = None, multiline: bool = False, missing: str | None = None,
             draft_too: bool = False) -> str:
        """A text field: one line unless `multiline` (then line breaks and tabs are allowed).
        `missing` is the specific message when a required field is empty ("Enter a title.")."""
        value = (self.data if source is None else source).get(name)
        path = path or name
        required = self._needs(required, draft_too)
        missing = missing or "This field is required."
        if value is None or value == "":
            if required:
                self.fail(path, missing)
            return ""
        if not isinstance(value, str):
            self.fail(path, "Must be text.")
            return ""
        value, problem = clean_text(value, multiline=multiline)
        if problem:
            self.fail(path, problem)
        if required and not value:
            self.fail(path, missing)
        if len(value) > limit:
            self.fail(path, f"Use at most {limit:,} characters.")
        return value

    def choice(self, name: str, options: Collection[str], *, required: bool = True,
               source: dict[str, Any] | None = None, path: str | None = None, message: str | None = None,
               missing: str | None = None) -> str | None:
        """One value of `options`; anything else (a list, an object, a number) is a field error."""
        value = (self.data if source is None else source).get(name)
        path = path or name
        if value is None or value == "":
            if self._needs(required, False):
                self.fail(path, missing or message or "This field is required.")
            return None
        if not isinstance(value, str) or value not in options:
            self.fail(path, message or f"Must be one of: {', '.join(options)}.")
            return None
        return value

    def enum(self, name: str, kind: type[E], *, message: str, default: E) -> E:
        """A member of the enum `kind` by its value; `default` (after a field error) otherwise."""
        value = self.choice(name, [member.value for member in kind], message=message)
        return kind(value) if value is not None else default

    def flag(self, name: str) -> bool:
        """A tick box or JSON boolean; absent is False."""
        return self.boolean(self.data, name, name)

    def day(self, name: str, *, required: str | None = None,
            message: str = "Enter a date, e.g. 2026-06-30.") -> date | None:
        """A calendar date: a date (from a form) or YYYY-MM-DD text (from JSON). `required` is the
        message when it is missing."""
        value = self.data.get(name)
        if value in (None, ""):
            if required:
                self.fail(name, required)
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.fail(name, message)
            return None

    def moment(self, name: str, *, required: str | None = None,
               message: str = "Enter a date and time, e.g. 2026-03-10 09:30.") -> datetime | None:
        """A wall-clock date and time without zone (the domain knows the zone): a datetime (from a
        form) or ISO text (from JSON). `required` is the message when it is missing."""
        value = self.data.get(name)
        if value in (None, ""):
            if required:
                self.fail(name, required)
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                self.fail(name, message)
                return None
        if not isinstance(value, datetime):
            self.fail(name, message)
            return None
        return value.replace(tzinfo=None)

    def choices(self, name: str, options: dict[str, str], *, minimum: int = 0, missing: str | None = None) -> list[str]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, "Must be a list of values.")
            return []
        unknown = [v for v in value if v not in options]
        if unknown:
            self.fail(name, f"Unknown value(s) {', '.join(unknown)}; allowed: {', '.join(options)}.")
        if len(value) < minimum and not self.partial:
            self.fail(name, missing or "Choose at least one.")
        return sorted(set(value) - set(unknown))

    def strings(self, name: str, *, pattern: re.Pattern[str] | None = None, limit: int = 300) -> list[str]:
        return self.text_list(self.data, name, name, pattern=pattern, limit=limit)

    def text_list(self, source: dict[str, Any], name: str, path: str, *, pattern: re.Pattern[str] | None = None,
                  limit: int = 300) -> list[str]:
        """A list of one-line texts (names, codes), empty entries dropped."""
        value = source.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > MAX_LIST:
            self.fail(path, f"Must be a list of at most {MAX_LIST} texts.")
            return []
        cleaned = []
        for raw in value:
            v, problem = clean_text(raw)
            if problem:
                self.fail(path, problem)
            elif len(v) > limit or (pattern and not pattern.match(v)):
                self.fail(path, f"{v[:40]!r} is not valid here." + (" Use two-letter ISO codes." if pattern else ""))
            if v:
                cleaned.append(v)
        return cleaned

    def date(self, name: str, *, required: bool = False, missing: str | None = None) -> str | None:
        """A calendar date as YYYY-MM-DD text (for JSON details)."""
        needed = (missing or "This field is required.") if self._needs(required, False) else None
        day = self.day(name, required=needed, message="Must be a date as YYYY-MM-DD.")
        return day.isoformat() if day else None

    def boolean(self, source: dict[str, Any], name: str, path: str) -> bool:
        value = source.get(name, False)
        if not isinstance(value, bool):
            self.fail(path, "Must be true or false.")
            return False
        return value
