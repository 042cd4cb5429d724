"""Errors that services raise and routes turn into pages or JSON."""
from __future__ import annotations


class NotFound(Exception):
    """The object does not exist or the actor may not see it (we never tell which)."""


class Forbidden(Exception):
    """The actor may see the object but not do this to it."""


class ValidationFailed(Exception):
    """Input was refused; `fields` maps field names to messages for the form or JSON body."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
