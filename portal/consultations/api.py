"""JSON API v1 for consultations. Bearer tokens (portal.guard); the same service, rules and
validation as the pages; refusals become the JSON envelope in portal.pages."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from portal.api.body import json_body
from portal.attachments import service as attachments
from portal.attachments import web
from portal.consultations import service
from portal.extensions import csrf, db

bp = Blueprint("consultations_api", __name__, url_prefix="/api/v1/consultations")
csrf.exempt(bp)  # no cookie sessions reach the API (portal.guard), so there is nothing to forge


@bp.get("")
def list_consultations() -> Any:
    page = service.list_for(db.session, current_user, request.args)
    return jsonify(consultations=[service.record(c, with_thread=False) for c in page.items], page=page.number,
                   per_page=page.size, total=page.total, pages=page.pages)


@bp.post("")
def open_consultation() -> Any:
    consultation = service.open_consultation(db.session, current_user, json_body())
    return jsonify(service.record(consultation)), 201


@bp.get("/<uuid:consultation_id>")
def get_consultation(consultation_id: uuid.UUID) -> Any:
    return jsonify(service.record(service.get_visible(db.session, current_user, consultation_id)))


@bp.post("/<uuid:consultation_id>/messages")
def post_message(consultation_id: uuid.UUID) -> Any:
    consultation = service.get_visible(db.session, current_user, consultation_id)
    message = service.post_message(db.session, current_user, consultation, json_body())
    return jsonify(service.message_record(message)), 201


@bp.post("/<uuid:consultation_id>/answer")
def answer(consultation_id: uuid.UUID) -> Any:
    consultation = service.get_visible(db.session, current_user, consultation_id)
    service.answer(db.session, current_user, consultation, json_body())
    return jsonify(service.record(consultation))


@bp.post("/<uuid:consultation_id>/close")
def close(consultation_id: uuid.UUID) -> Any:
    consultation = service.get_visible(db.session, current_user, consultation_id)
    service.close(db.session, current_user, consultation, json_body())
    return jsonify(service.record(consultation))


@bp.get("/<uuid:consultation_id>/attachments")
def list_attachments(consultation_id: uuid.UUID) -> Any:
    """The consultation's files (download and signature links go to /api/v1/attachments/<id>)."""
    consultation = service.get_visible(db.session, current_user, consultation_id)
    return jsonify(attachments=[web.describe(a) for a in
                                attachments.consultation_attachments(db.session, current_user, consultation)])


@bp.post("/<uuid:consultation_id>/attachments")
def upload_attachment(consultation_id: uuid.UUID) -> Any:
    """Attach a file (multipart/form-data, field `file`); answers 201 with the attachment."""
    consultation = service.get_visible(db.session, current_user, consultation_id)
    attachment = web.receive_upload(consultation, check_csrf=False)
    described = web.describe(attachment)
    response = jsonify(described)
    response.status_code = 201
    response.headers["Location"] = described["links"]["download"]
    return response
