"""Rules for free text that every form and the API share: one-line and multi-line fields.

A CR or LF in a title or a name ends up in an e-mail header (and makes the alert fail on
every retry, or worse, adds a header); a lone surrogate cannot be encoded as UTF-8 for the
database or the mail server; PostgreSQL refuses NUL in text. So text is checked once, here,
and both `portal.sharing.schema._Checker` and every Flask-WTF form (`portal.forms.PortalForm`)
call these functions, so a new field inherits the rule.
"""
from __future__ import annotations

import unicodedata

ONE_LINE_MESSAGE = "Must be on one line, without control characters."
MULTI_LINE_MESSAGE = "Contains control characters; only line breaks and tabs are allowed."
SURROGATE_MESSAGE = "Contains an invalid character (a lone UTF-16 surrogate)."

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
