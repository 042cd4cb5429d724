"""The application's request class."""
from __future__ import annotations

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.utils import cached_property


class PortalRequest(Request):
    """Query arguments never carry NUL: no link of ours has one, PostgreSQL cannot compare text
    with it (a filter holding one failed in the query), and filters ignore what they cannot
    use rather than refuse it — so it is dropped here, once, for every list, search and export."""

    @cached_property
    def args(self) -> MultiDict[str, str]:
        raw = super().args
        if not any("\x00" in key or "\x00" in value for key, value in raw.items(multi=True)):
            return raw
        return ImmutableMultiDict([(key.replace("\x00", ""), value.replace("\x00", ""))
                                   for key, value in raw.items(multi=True)])


# The one page under /api/ that is a page for people (signed in with a session), not an API call.
API_PAGES = frozenset({"/api/docs"})


def is_api_path(path: str) -> bool:
    """Whether `path` is an API call: bearer tokens only, JSON errors (portal.guard, portal.pages)."""
    return path.startswith("/api/") and path not in API_PAGES
