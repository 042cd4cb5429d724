"""The refusals services raise. Each carries the HTTP status and a stable `code`; one
app-level handler (portal.pages) answers them as a page or as the API's JSON envelope, so
routes never translate them. Routes catch only ValidationFailed, to re-render their form.
"""
from __future__ import annotations

from typing import ClassVar


class PortalError(Exception):
    """A refusal with a message safe to show to the person who caused it."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    default_message: ClassVar[str] = "The request could not be understood."
    # A page of its own for refusals that need more than a message (given `error`); else the
    # shared error page.
    template: ClassVar[str | None] = None

    def __init__(self, message: str | None = None, fields: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.fields = fields or {}
        super().__init__(self.message)


class NotFound(PortalError):
    """The object does not exist or the actor may not see it (we never tell which)."""

    status, code = 404, "not_found"
    default_message = "Not found, or not shared with you."


class Forbidden(PortalError):
    """The actor may see the object but not do this to it."""

    status, code = 403, "forbidden"
    default_message = "Your account does not allow this action."


class InsufficientScope(PortalError):
    """A machine client called a route its scopes do not cover (RFC 6750's insufficient_scope)."""

    status, code = 403, "insufficient_scope"
    default_message = "This client's scopes do not cover this request."


class ValidationFailed(PortalError):
    """Input was refused; `fields` maps field names to messages for the form or JSON body."""

    status, code = 422, "validation_failed"
    default_message = "Some fields need attention."


class Locked(PortalError):
    """The object can no longer change (adopted minutes, a held meeting's agenda)."""

    status, code = 409, "locked"
    default_message = "This can no longer be changed."


class TooLarge(PortalError):
    """A body or file over its limit."""

    status, code = 413, "too_large"
    default_message = "The request is too large."


class UnsupportedType(PortalError):
    """A file whose content is not one of the accepted types."""

    status, code = 415, "unsupported_type"
    default_message = "This type of file is not accepted."


class MalformedRequest(PortalError):
    """A body that cannot be read at all (broken multipart framing, invalid JSON)."""

    status, code = 400, "malformed_request"


class IntegrityFailure(PortalError):
    """Stored content failed verification; nothing of it was sent (the event is audited). A 500:
    monitoring must see it."""

    status, code = 500, "integrity_check_failed"
    default_message = "The file failed its integrity check and was not sent. The event has been recorded."
