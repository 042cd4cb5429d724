"""TAXII 2.1 (read side) at /taxii2/: discovery, one API root, the collections, objects, manifest.

Bearer tokens only, through the same path as the API (portal.guard): an OAuth2 client's access
token (within its `:read` scopes) or a personal token (its owner's rights). Refusals answer as
TAXII error messages; a collection or object the caller may not read is 404.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from portal.errors import PortalError
from portal.extensions import csrf, db
from portal.taxii import service

bp = Blueprint("taxii", __name__, url_prefix="/taxii2")
csrf.exempt(bp)  # bearer tokens only, no cookie session reaches it (portal.guard)

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
ACCEPTED = ("application/taxii+json", "application/json", "*/*", "application/*")


def _taxii(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=None,
                    content_type=TAXII_MEDIA_TYPE, headers=headers or {})


def _error(status: int, title: str, description: str | None = None) -> Response:
    body: dict[str, Any] = {"title": title, "http_status": str(status)}
    if description:
        body["description"] = description
    headers = {"WWW-Authenticate": 'Bearer realm="echri-portal"'} if status == 401 else {}
    return _taxii(body, status, headers)


@bp.errorhandler(PortalError)
def portal_error(error: PortalError) -> Response:
    db.session.rollback()
    return _error(error.status, error.code.replace("_", " ").capitalize(), error.message)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return _error(status, error.name, "Send a bearer token: an API client's access token or a personal token."
                  if status == 401 else None)


@bp.before_request
def negotiate() -> Response | None:
    """TAXII clients ask for TAXII JSON; one that accepts nothing we send gets 406."""
    accept = request.headers.get("Accept")
    if accept and not any(kind in accept for kind in ACCEPTED):
        return _error(406, "Not acceptable", f"This server answers {TAXII_MEDIA_TYPE}.")
    return None


def _api_root_url() -> str:
    return url_for("taxii.api_root", _external=True)


@bp.get("/")
def discovery() -> Response:
    return _taxii({"title": "ECHRI Portal TAXII server",
                   "description": "Threat notices and licence-denial notifications shared with your state, "
                                  "as STIX 2.1.",
                   "default": _api_root_url(), "api_roots": [_api_root_url()]})


@bp.get("/api/")
def api_root() -> Response:
    return _taxii({"title": "ECHRI Portal", "description": "Read-only collections of shared items.",
                   "versions": [TAXII_MEDIA_TYPE], "max_content_length": int(current_app.config["API_MAX_JSON_BYTES"])})


def _collection_record(collection: service.Collection) -> dict[str, Any]:
    return {"id": str(collection.id), "title": collection.title, "description": collection.description,
            "can_read": True, "can_write": False, "media_types": [service.STIX_MEDIA_TYPE]}


@bp.get("/api/collections/")
def collections() -> Response:
    return _taxii({"collections": [_collection_record(c) for c in service.readable_collections(current_user)]})


@bp.get("/api/collections/<uuid:collection_id>/")
def collection(collection_id: uuid.UUID) -> Response:
    return _taxii(_collection_record(service.get_collection(current_user, collection_id)))


def _page_response(page: service.Page, body: dict[str, Any]) -> Response:
    headers = {}
    if page.first_added is not None and page.last_added is not None:
        headers = {"X-TAXII-Date-Added-First": service.timestamp(page.first_added),
                   "X-TAXII-Date-Added-Last": service.timestamp(page.last_added)}
    envelope: dict[str, Any] = {"more": page.more}
    if page.next:
        envelope["next"] = page.next
    return _taxii({**envelope, **body}, headers=headers)


def _page(collection_id: uuid.UUID, object_id: str | None = None) -> service.Page:
    found = service.get_collection(current_user, collection_id)
    return service.page(db.session, current_user, found, service.parse_query(request.args, object_id))


@bp.get("/api/collections/<uuid:collection_id>/objects/")
def get_objects(collection_id: uuid.UUID) -> Response:
    page = _page(collection_id)
    return _page_response(page, {"objects": [data for _, data in page.entries]})


@bp.get("/api/collections/<uuid:collection_id>/manifest/")
def manifest(collection_id: uuid.UUID) -> Response:
    page = _page(collection_id)
    return _page_response(page, {"objects": [service.manifest_record(added, data) for added, data in page.entries]})


@bp.get("/api/collections/<uuid:collection_id>/objects/<object_id>/")
def get_object(collection_id: uuid.UUID, object_id: str) -> Response:
    page = _page(collection_id, object_id)
    if not page.entries:
        return _error(404, "Not found", "No such object in this collection, or not shared with you.")
    return _page_response(page, {"objects": [data for _, data in page.entries]})


@bp.get("/api/collections/<uuid:collection_id>/objects/<object_id>/versions/")
def object_versions(collection_id: uuid.UUID, object_id: str) -> Response:
    page = _page(collection_id, object_id)
    if not page.entries:
        return _error(404, "Not found", "No such object in this collection, or not shared with you.")
    return _page_response(page, {"versions": [service.manifest_record(a, d)["version"] for a, d in page.entries]})
