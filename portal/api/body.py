"""The JSON body of an API request: one reader for every API route, so every route refuses
the same malformed, oversized or deeply nested bodies in the same way."""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from portal.errors import PortalError, TooLarge


class InvalidJson(PortalError):
    """A body that is not one JSON object."""

    status, code = 400, "invalid_json"
    default_message = "Send a JSON object with Content-Type: application/json."


def _too_large() -> TooLarge:
    limit = current_app.config["API_MAX_JSON_BYTES"]
    return TooLarge(f"The JSON body is larger than {limit:,} bytes; nothing the API takes is that large.")


def json_body() -> dict[str, Any]:
    """The request's JSON object, or the refusal that says what is wrong with it."""
    if not request.is_json:  # Werkzeug would answer 415 with an HTML-shaped error
        raise InvalidJson()
    # JSON bodies get their own ceiling, far below the upload limit that MAX_CONTENT_LENGTH allows:
    # a declared length is refused before reading, a chunked body is cut off at the limit.
    limit = current_app.config["API_MAX_JSON_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    # A stream without a length is read up to one byte past the limit (Werkzeug cuts it off
    # there quietly): getting that byte means the body was too large.
    request.max_content_length = limit + 1
    try:
        if len(request.get_data(cache=True)) > limit:
            raise _too_large()
        data = request.get_json(force=False, silent=False)
    except RequestEntityTooLarge:
        raise _too_large() from None
    except BadRequest:
        raise InvalidJson("The body is not valid JSON.") from None
    except RecursionError:  # arrays or objects nested deeper than the parser's stack
        raise InvalidJson("The body is nested too deeply.") from None
    if data is None:
        raise InvalidJson()
    if not isinstance(data, dict):
        raise InvalidJson("The body must be a JSON object.")
    return data
