"""URL converters shared by every blueprint."""
from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

# The integers in our URLs (version numbers of items, agendas and minutes) are INTEGER columns.
INT_MAX = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` for numbers a column can hold: anything larger cannot exist, so it is 404.

    Without the bound a number past 64 bits reaches the query, where PostgreSQL refuses it
    (integer out of range) and the page answers 500 instead of 404.
    """

    regex = r"[0-9]{1,10}"  # ASCII digits only: \d would also take other scripts' digits

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.max = INT_MAX if self.max is None or self.max > INT_MAX else self.max


def init_app(app: Flask) -> None:
    """Replace the stock `int` converter; called before any blueprint adds its rules."""
    app.url_map.converters["int"] = BoundedIntConverter
