"""The one error meetings add to portal.errors."""
from __future__ import annotations


class Locked(Exception):
    """The object can no longer change (adopted minutes, a held meeting's agenda): answered with 409."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
