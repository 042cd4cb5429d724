"""Attachment endpoints of the JSON API (/api/v1): bearer tokens, no CSRF, JSON errors."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from portal import access
from portal.attachments import content, download, web
from portal.attachments import service as attachments
from portal.attachments.multipart import MalformedUpload
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.extensions import csrf, db
from portal.sharing.schema import SLUG_KINDS
from portal.sharing.service import get_visible_item

bp = Blueprint("attachments_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # authenticated by bearer token, not by cookie


def _error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Any:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify({"error": body}), status


def _not_found() -> Any:
    return _error(404, "not_found", "No such item or attachment, or it is not shared with you.")


@bp.post("/<kind>/<uuid:item_id>/attachments")
def upload(kind: str, item_id: uuid.UUID) -> Any:
    """Attach a file (multipart/form-data, field `file`); answers 201 with the attachment."""
    if kind not in SLUG_KINDS:
        return _not_found()
    try:
        item = get_visible_item(db.session, current_user, item_id, SLUG_KINDS[kind])
    except NotFound:
        return _not_found()
    if not access.can_attach(current_user, item):
        return _error(403, "forbidden", "Only the originating state attaches files: its editors to drafts, "
                                        "its point of contact to published items.")
    try:
        stream = web.open_upload(check_csrf=False)
        attachment = attachments.store_attachment(db.session, current_user, item, stream.filename or "", stream)
        stream.finish()
    except attachments.TooLarge as error:
        web.drain()
        return _error(413, "too_large", str(error))
    except content.UnsupportedType as error:
        web.drain()
        return _error(415, "unsupported_type", error.message, error.fields)
    except ValidationFailed as error:
        web.drain()
        return _error(400, "invalid", error.message, error.fields)
    except MalformedUpload as error:
        web.drain()
        return _error(400, "malformed_upload", f"The upload could not be read: {error}.")
    except Forbidden as error:
        web.drain()
        return _error(403, "forbidden", str(error))
    response = jsonify(web.describe(attachment))
    response.status_code = 201
    response.headers["Location"] = web.describe(attachment)["links"]["download"]
    return response


def _tampered(error: download.TamperDetected) -> Any:
    return _error(500, "integrity_check_failed",
                  "The file failed its integrity check and was not sent. The event has been recorded.")


@bp.get("/attachments/<uuid:attachment_id>")
def download_file(attachment_id: uuid.UUID) -> Any:
    """The decrypted, verified file."""
    try:
        verified = download.open_download(db.session, current_user, attachment_id)
    except NotFound:
        return _not_found()
    except download.TamperDetected as error:
        return _tampered(error)
    return web.file_response(verified)


@bp.get("/attachments/<uuid:attachment_id>/signature")
def signature(attachment_id: uuid.UUID) -> Any:
    """The signature bundle (ZIP) for offline verification with OpenSSL."""
    try:
        bundle = download.signature_bundle_for(db.session, current_user, attachment_id)
    except NotFound:
        return _not_found()
    except download.TamperDetected as error:
        return _tampered(error)
    return web.bundle_response(bundle)
