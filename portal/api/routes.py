"""JSON API v1 for shared items. Bearer tokens only; the same services and access rules as pages."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from portal.api.body import json_body
from portal.extensions import csrf, db
from portal.models.item import Item
from portal.models.screening import ScreeningSource
from portal.screening import service as screening
from portal.kinds import BY_SLUG, slug_rule
from portal.sharing import queries, service
from portal.sharing.records import item_record

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookie sessions reach the API (portal.guard), so there is nothing to forge

KIND_PATH = slug_rule("kind_slug")


def _item(kind_slug: str, item_id: uuid.UUID) -> Item:
    return service.get_visible_item(db.session, current_user, item_id, BY_SLUG[kind_slug].kind)


def _input_payload(item: Item) -> dict[str, Any]:
    """The item's current fields in the shape POST takes, so PATCH can merge into it."""
    return service.payload_of(item)


@bp.get(f"/{KIND_PATH}")
def list_items(kind_slug: str) -> Any:
    page = queries.list_items(db.session, current_user, BY_SLUG[kind_slug].kind, request.args)
    return jsonify(items=[item_record(i, current_user) for i in page.items], page=page.number, per_page=page.size,
                   total=page.total, total_is_lower_bound=page.more, pages=page.pages)


@bp.get(f"/{KIND_PATH}/<uuid:item_id>")
def get_item(kind_slug: str, item_id: uuid.UUID) -> Any:
    item = _item(kind_slug, item_id)
    service.record_open(db.session, current_user, item)
    return jsonify(item_record(item, current_user))


@bp.post(f"/{KIND_PATH}")
def create_item(kind_slug: str) -> Any:
    data = json_body()
    item = service.create_draft(db.session, current_user, BY_SLUG[kind_slug].kind, data)
    return jsonify(item_record(item, current_user)), 201


@bp.patch(f"/{KIND_PATH}/<uuid:item_id>")
def patch_item(kind_slug: str, item_id: uuid.UUID) -> Any:
    item = _item(kind_slug, item_id)
    changes = json_body()
    merged = _input_payload(item)
    if isinstance(changes.get("audience"), dict):
        changes["audience"] = {**merged["audience"], **changes["audience"]}
    merged.update(changes)
    service.update_draft(db.session, current_user, item, merged)
    return jsonify(item_record(item, current_user))


@bp.post(f"/{KIND_PATH}/<uuid:item_id>/publish")
def publish_item(kind_slug: str, item_id: uuid.UUID) -> Any:
    item = _item(kind_slug, item_id)
    service.publish(db.session, current_user, item)
    return jsonify(item_record(item, current_user))


@bp.post(f"/{KIND_PATH}/<uuid:item_id>/withdraw")
def withdraw_item(kind_slug: str, item_id: uuid.UUID) -> Any:
    item = _item(kind_slug, item_id)
    reason = json_body().get("reason")
    # A missing reason is the service's 422, after its 403: refusal comes before validation.
    service.withdraw(db.session, current_user, item, reason if isinstance(reason, str) else "")
    return jsonify(item_record(item, current_user))


@bp.post("/screenings")
def create_screening() -> Any:
    """Screen parties against the denials shared with the token owner's state; kept for that state."""
    result = screening.run_screening(db.session, current_user, json_body(), ScreeningSource.API)
    return jsonify(screening.api_record(result))
