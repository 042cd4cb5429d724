"""STIX 2.1 downloads: through the API (bearer tokens; machine clients need a `:read` scope) and,
for one item, from its page (a signed-in person)."""
from __future__ import annotations

import uuid
from typing import Any

import stix2
from flask import Blueprint, Response, request
from flask_login import current_user

from portal import access, downloads
from portal.extensions import db
from portal.kinds import BY_SLUG, KINDS, slug_rule
from portal.models.item import ItemKind
from portal.stix import service

bp = Blueprint("stix", __name__, url_prefix="/api/v1")
pages_bp = Blueprint("stix_pages", __name__)

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
KIND_PATH = slug_rule("kind_slug", access.FEED_KINDS)


def _send(bundle: stix2.Bundle, filename: str) -> Response:
    return downloads.download(bundle.serialize(pretty=False), STIX_MEDIA_TYPE, filename)


@bp.get(f"/{KIND_PATH}/stix")
def kind_bundle(kind_slug: str) -> Any:
    bundle = service.kind_bundle(db.session, current_user, BY_SLUG[kind_slug].kind, request.args)
    return _send(bundle, f"echri-{kind_slug}.stix.json")


@bp.get(f"/{KIND_PATH}/<uuid:item_id>/stix")
def item_bundle(kind_slug: str, item_id: uuid.UUID) -> Any:
    bundle = service.item_bundle(db.session, current_user, BY_SLUG[kind_slug].kind, item_id)
    return _send(bundle, f"echri-{kind_slug}-{item_id}.stix.json")


@pages_bp.get("/<kind:kind>/<uuid:item_id>/stix.json")
def item_download(kind: ItemKind, item_id: uuid.UUID) -> Any:
    bundle = service.item_bundle(db.session, current_user, kind, item_id)
    return _send(bundle, f"echri-{KINDS[kind].slug}-{item_id}.stix.json")
