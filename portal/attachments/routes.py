"""Attachment pages: upload to an item, download, signature bundle."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, request
from flask.blueprints import BlueprintSetupState
from flask_login import current_user

from portal import access
from portal.attachments import content, download, web
from portal.errors import Forbidden
from portal.extensions import csrf, db
from portal.sharing.service import get_visible_item

bp = Blueprint("attachments", __name__)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = state.app
    app.jinja_env.filters.setdefault("filesize", content.size_label)
    app.jinja_env.filters.setdefault("media_label", content.type_label)
    app.jinja_env.globals.setdefault("attachment_accept", content.ACCEPT_ATTRIBUTE)
    app.jinja_env.globals.setdefault("attachment_types", content.ALLOWED_SUMMARY)


def _wants_json() -> bool:
    """The upload script asks for JSON so it can show the outcome in place."""
    return request.accept_mimetypes.best == "application/json"


@bp.post("/items/<uuid:item_id>/attachments")
def upload(item_id: uuid.UUID) -> Any:
    item = get_visible_item(db.session, current_user, item_id)
    if not access.can_attach(current_user, item):
        raise Forbidden("Only the originating state attaches files: its editors to drafts, "
                        "its point of contact to published items.")
    attachment = web.receive_upload(item, check_csrf=True)
    if attachment.item_version and attachment.item_version > 1 and item.is_live:
        flash(f"“{attachment.filename}” was attached and published as version {attachment.item_version}: "
              "encrypted for the item's audience, signed, and the audience is notified.", "success")
    else:
        flash(f"“{attachment.filename}” was attached: encrypted for the item's audience and signed.", "success")
    target = web.item_url(item)
    if _wants_json():
        return jsonify({"redirect": target, "attachment": {"id": str(attachment.id), "filename": attachment.filename}})
    return redirect(target, 303)


# CSRF is checked by web.open_upload as the body streams in: the global hook would read
# request.form and so buffer the whole file first.
csrf.exempt(upload)


@bp.get("/attachments/<uuid:attachment_id>")
def download_file(attachment_id: uuid.UUID) -> Any:
    return web.file_response(download.open_download(db.session, current_user, attachment_id))


@bp.get("/attachments/<uuid:attachment_id>/signature")
def signature(attachment_id: uuid.UUID) -> Any:
    return web.bundle_response(download.signature_bundle_for(db.session, current_user, attachment_id))
