"""Attachment endpoints of the JSON API (/api/v1): bearer tokens, no CSRF, JSON errors."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from portal import access
from portal.attachments import download, web
from portal.errors import Forbidden
from portal.extensions import csrf, db
from portal.kinds import BY_SLUG, slug_rule
from portal.sharing.service import get_visible_item

bp = Blueprint("attachments_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # authenticated by bearer token, not by cookie


@bp.post(f"/{slug_rule('kind')}/<uuid:item_id>/attachments")
def upload(kind: str, item_id: uuid.UUID) -> Any:
    """Attach a file (multipart/form-data, field `file`); answers 201 with the attachment."""
    item = get_visible_item(db.session, current_user, item_id, BY_SLUG[kind].kind)
    if not access.can_attach(current_user, item):
        raise Forbidden("Only the originating state attaches files: its editors to drafts, "
                        "its point of contact to published items.")
    attachment = web.receive_upload(item, check_csrf=False)
    response = jsonify(web.describe(attachment))
    response.status_code = 201
    response.headers["Location"] = web.describe(attachment)["links"]["download"]
    return response


@bp.get("/attachments/<uuid:attachment_id>")
def download_file(attachment_id: uuid.UUID) -> Any:
    """The decrypted, verified file."""
    return web.file_response(download.open_download(db.session, current_user, attachment_id))


@bp.get("/attachments/<uuid:attachment_id>/signature")
def signature(attachment_id: uuid.UUID) -> Any:
    """The signature bundle (ZIP) for offline verification with OpenSSL."""
    return web.bundle_response(download.signature_bundle_for(db.session, current_user, attachment_id))
