"""JSON API v1 for shared items. Bearer tokens only; the same services and access rules as pages."""
from __future__ import annotations

import uuid
from typing import Any, Callable

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.extensions import csrf, db
from portal.models.item import Item
from portal.models.screening import ScreeningSource
from portal.screening import service as screening
from portal.sharing import queries, schema, service
from portal.sharing.records import item_record

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookie sessions reach the API (portal.guard), so there is nothing to forge

KIND_PATH = "<any('threat-notices', 'denials', 'documents'):kind_slug>"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> Any:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    return jsonify(error=body), error.status


def _call(operation: Callable[[], Any]) -> Any:
    """Run a service call, turning its refusals into the API's error answers."""
    try:
        return operation()
    except NotFound:
        raise ApiError(404, "not_found", "No such item, or it is not shared with you.") from None
    except Forbidden as error:
        raise ApiError(403, "forbidden", str(error) or "You may not do this.") from None
    except ValidationFailed as error:
        raise ApiError(422, "validation_failed", error.message, error.fields) from None


def _too_large() -> ApiError:
    limit = current_app.config["API_MAX_JSON_BYTES"]
    return ApiError(413, "too_large", f"The JSON body is larger than {limit:,} bytes; no item is that large.")


def _json_body() -> dict[str, Any]:
    if not request.is_json:  # Werkzeug would answer 415 with an HTML-shaped error
        raise ApiError(400, "invalid_json", "Send a JSON object with Content-Type: application/json.")
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
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None
    except RecursionError:  # arrays or objects nested deeper than the parser's stack
        raise ApiError(400, "invalid_json", "The body is nested too deeply.") from None
    if data is None:
        raise ApiError(400, "invalid_json", "Send a JSON object with Content-Type: application/json.")
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data


def _item(kind_slug: str, item_id: uuid.UUID) -> Item:
    return _call(lambda: service.get_visible_item(db.session, current_user, item_id, schema.SLUG_KINDS[kind_slug]))


def _input_payload(item: Item) -> dict[str, Any]:
    """The item's current fields in the shape POST takes, so PATCH can merge into it."""
    return {"title": item.title, "summary": item.summary, "body": item.body, "tlp": item.tlp.value,
            "audience": {"all_subscribing": item.all_subscribing, "countries": item.named_countries,
                         "secretariat": item.to_secretariat, "observers": item.to_observers},
            **item.details}


@bp.get(f"/{KIND_PATH}")
def list_items(kind_slug: str) -> Any:
    page = queries.list_items(db.session, current_user, schema.SLUG_KINDS[kind_slug], request.args)
    return jsonify(items=[item_record(i, current_user) for i in page.items], page=page.number, per_page=page.size,
                   total=page.total, total_is_lower_bound=page.more, pages=page.pages)


@bp.get(f"/{KIND_PATH}/<uuid:item_id>")
def get_item(kind_slug: str, item_id: uuid.UUID) -> Any:
    item = _item(kind_slug, item_id)
    service.record_open(db.session, current_user, item)
    return jsonify(item_record(item, current_user))


@bp.post(f"/{KIND_PATH}")
def create_item(kind_slug: str) -> Any:
    data = _json_body()
    item = _call(lambda: service.create_draft(db.session, current_user, schema.SLUG_KINDS[kind_slug], data))
    return jsonify(item_record(item, current_user)), 201


@bp.patch(f"/{KIND_PATH}/<uuid:item_id>")
def patch_item(kind_slug: str, item_id: uuid.UUID) -> Any:
    item = _item(kind_slug, item_id)
    changes = _json_body()
    merged = _input_payload(item)
    if isinstance(changes.get("audience"), dict):
        changes["audience"] = {**merged["audience"], **changes["audience"]}
    merged.update(changes)
    _call(lambda: service.update_draft(db.session, current_user, item, merged))
    return jsonify(item_record(item, current_user))


@bp.post(f"/{KIND_PATH}/<uuid:item_id>/publish")
def publish_item(kind_slug: str, item_id: uuid.UUID) -> Any:
    item = _item(kind_slug, item_id)
    _call(lambda: service.publish(db.session, current_user, item))
    return jsonify(item_record(item, current_user))


@bp.post(f"/{KIND_PATH}/<uuid:item_id>/withdraw")
def withdraw_item(kind_slug: str, item_id: uuid.UUID) -> Any:
    item = _item(kind_slug, item_id)
    reason = _json_body().get("reason")
    # A missing reason is the service's 422, after its 403: refusal comes before validation.
    _call(lambda: service.withdraw(db.session, current_user, item, reason if isinstance(reason, str) else ""))
    return jsonify(item_record(item, current_user))


@bp.post("/screenings")
def create_screening() -> Any:
    """Screen parties against the denials shared with the token owner's state; kept for that state."""
    result = screening.run_screening(db.session, current_user, _json_body(), ScreeningSource.API)
    return jsonify(screening.api_record(result))
