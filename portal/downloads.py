"""Responses that deliver a file: downloaded, never sniffed, never rendered by our origin.

Every route that sends a file (attachments, signature bundles, exports, calendars, CSV lists)
sets these three guarantees, whatever the content claims to be: the upload type check looks
only at the first bytes, so the headers, not the check, keep a file from running as a page.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Response

from portal.attachments.content import content_disposition

# A sandbox with nothing allowed: even a file opened in the browser runs no script, as no origin.
DOWNLOAD_CSP = "default-src 'none'; sandbox"
# Spreadsheet programs run a cell that starts like a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet cannot take for a formula (CSV injection): every CSV export uses it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def protect(response: Response, filename: str) -> Response:
    """Set the download headers on a response that carries a file named `filename`."""
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


def download(body: str | bytes | Iterable[bytes], mimetype: str, filename: str,
             headers: Mapping[str, str] | None = None) -> Response:
    """A response that delivers `body` as the file `filename`."""
    response = Response(body, mimetype=mimetype, headers=dict(headers or {}))
    return protect(response, filename)
