"""Attachment pages: upload to an item, download, signature bundle."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_login import current_user

from portal import access
from portal.attachments import content, download, web
from portal.attachments import service as attachments
from portal.attachments.multipart import MalformedUpload
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.extensions import csrf, db
from portal.models.item import Item
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
    """The upload script asks for JSON so it can show errors in place."""
    return request.accept_mimetypes.best == "application/json"


def _upload_error(item: Item, status: int, message: str, code: str) -> Any:
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("attachments/upload_error.html", item=item, item_url=web.item_url(item),
                           status=status, message=message), status


@bp.post("/items/<uuid:item_id>/attachments")
def upload(item_id: uuid.UUID) -> Any:
    try:
        item = get_visible_item(db.session, current_user, item_id)
    except NotFound:
        abort(404)
    if not access.can_attach(current_user, item):
        abort(403)
    try:
        stream = web.open_upload(check_csrf=True)
        attachment = attachments.store_attachment(db.session, current_user, item, stream.filename or "", stream)
        stream.finish()
    except attachments.TooLarge as error:
        web.drain()
        return _upload_error(item, 413, str(error), "too_large")
    except content.UnsupportedType as error:
        web.drain()
        return _upload_error(item, 415, error.message, "unsupported_type")
    except ValidationFailed as error:
        web.drain()
        return _upload_error(item, 400, error.message, "invalid")
    except MalformedUpload as error:
        web.drain()
        return _upload_error(item, 400, f"The upload could not be read: {error}.", "malformed_upload")
    except Forbidden as error:
        web.drain()
        return _upload_error(item, 403, str(error), "forbidden")
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
    try:
        verified = download.open_download(db.session, current_user, attachment_id)
    except NotFound:
        abort(404)
    except download.TamperDetected as error:
        return render_template("attachments/tamper.html", attachment_id=error.attachment_id), 500
    return web.file_response(verified)


@bp.get("/attachments/<uuid:attachment_id>/signature")
def signature(attachment_id: uuid.UUID) -> Any:
    try:
        bundle = download.signature_bundle_for(db.session, current_user, attachment_id)
    except NotFound:
        abort(404)
    except download.TamperDetected as error:
        return render_template("attachments/tamper.html", attachment_id=error.attachment_id), 500
    return web.bundle_response(bundle)
