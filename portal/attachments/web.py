"""HTTP plumbing shared by the attachment pages and the API: streamed uploads, file responses."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, same_origin, validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError
from wtforms import ValidationError

from portal import downloads
from portal.attachments import service as attachments
from portal.errors import PortalError
from portal.extensions import db
from portal.attachments.content import response_media_type
from portal.attachments.download import Bundle, VerifiedFile
from portal.attachments.multipart import MalformedUpload, MultipartStream
from portal.attachments.service import AttachmentOwner, max_size
from portal.models.attachment import Attachment
from portal.models.item import Item
from portal.kinds import KINDS

# Room for the multipart framing and small fields around the file itself.
MULTIPART_OVERHEAD = 1024 * 1024


def open_upload(*, check_csrf: bool) -> MultipartStream:
    """Start reading the streamed multipart body up to its `file` part (413 when declared too large)."""
    # Per-request limit: Werkzeug refuses a larger Content-Length at once and stops a chunked body there.
    request.max_content_length = max_size() + MULTIPART_OVERHEAD
    mimetype, options = request.mimetype, request.mimetype_params
    if mimetype != "multipart/form-data":
        raise MalformedUpload("send the file as multipart/form-data in a field called 'file'")
    header_token = next((request.headers.get(h) for h in current_app.config["WTF_CSRF_HEADERS"]
                         if request.headers.get(h)), None)
    if check_csrf and header_token:
        _validate_csrf(header_token)
    upload = MultipartStream(request.stream, options.get("boundary", ""))
    found = upload.next_file("file")
    if check_csrf and not header_token:
        # The token field must come before the file (it does in the page's form) so that it is
        # checked before a byte of the file is read.
        _validate_csrf(upload.fields.get(current_app.config["WTF_CSRF_FIELD_NAME"]))
    if not found:
        raise MalformedUpload("choose a file to upload (the form field is called 'file')")
    return upload


def _validate_csrf(token: str | None) -> None:
    """Flask-WTF's checks, done by hand: its global hook would read request.form and so buffer the body."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(token)
    except ValidationError as error:
        raise CSRFError(error.args[0]) from None
    if request.is_secure and current_app.config.get("WTF_CSRF_SSL_STRICT", True) and (
            not request.referrer or not same_origin(request.referrer, f"https://{request.host}/")):
        raise CSRFError("The referrer does not match the host.")


def receive_upload(owner: AttachmentOwner, *, check_csrf: bool) -> Attachment:
    """Stream the request's file into an encrypted, signed attachment of an item or a consultation.
    On a refusal the rest of the body is read first, so the client gets the answer rather than a
    reset connection."""
    try:
        stream = open_upload(check_csrf=check_csrf)
        attachment = attachments.store_attachment(db.session, current_user, owner, stream.filename or "", stream)
        stream.finish()
    except PortalError:
        drain()
        raise
    return attachment


def drain() -> None:
    """Read and discard what is left of the body so the client gets our answer, not a reset connection."""
    try:
        while request.stream.read(1024 * 1024):
            pass
    except (RequestEntityTooLarge, OSError, ValueError):
        pass


def file_response(verified: VerifiedFile) -> Response:
    """Stream the decrypted file: constant memory, safe name, no sniffing, no rendering."""
    response = Response(verified.chunks(), direct_passthrough=True)
    response.headers["Content-Type"] = response_media_type(verified.media_type)
    response.headers["Content-Length"] = str(verified.size)
    response.call_on_close(verified.close)
    return downloads.protect(response, verified.filename)


def bundle_response(bundle: Bundle) -> Response:
    return downloads.download(bundle.data, "application/zip", bundle.filename)


def item_url(item: Item) -> str:
    """The item's page (the sharing pages' endpoint), or the home page if it is not available."""
    # The sharing pages' URL converter takes the ItemKind; a plain string rule would take the slug.
    for kind in (item.kind, KINDS[item.kind].slug):
        try:
            return url_for("sharing.detail", kind=kind, item_id=item.id)
        except (BuildError, ValueError, KeyError):
            continue
    return url_for("main.home")


def _str_or_none(value: object | None) -> str | None:
    return None if value is None else str(value)


def describe(attachment: Attachment) -> dict[str, Any]:
    """The attachment as the API returns it."""
    uploader = attachment.uploaded_by
    return {
        "id": str(attachment.id), "item_id": _str_or_none(attachment.item_id), "item_version": attachment.item_version,
        "consultation_id": _str_or_none(attachment.consultation_id),
        "filename": attachment.filename, "media_type": attachment.media_type, "size": attachment.size,
        "sha256": attachment.plaintext_sha256, "ciphertext_sha256": attachment.ciphertext_sha256,
        "tlp": attachment.tlp.value, "created_at": attachment.created_at.isoformat(),
        "uploaded_by": {"id": str(uploader.id), "name": uploader.name} if uploader else None,
        "signer": {"owner": attachment.signer_owner, "key_version": attachment.signer_key_version},
        "links": {
            "download": url_for("attachments_api.download_file", attachment_id=attachment.id),
            "signature": url_for("attachments_api.signature", attachment_id=attachment.id),
        },
    }
