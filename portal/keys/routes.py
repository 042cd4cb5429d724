"""Published public keys: /keys as JSON, and the keys section of the country directory."""
from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState

from portal.extensions import db
from portal.keys import service
from portal.models.keys import SECRETARIAT_OWNER

bp = Blueprint("keys", __name__)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    service.init_app(cast(Flask, state.app))


@bp.get("/keys")
def index() -> Any:
    """Every owner's public keys with fingerprints and versions; retired ones stay listed.
    Machines get JSON; a browser (asking for HTML first) gets the page."""
    keys = service.list_keys(db.session)
    labels = {k.owner: service.owner_label(db.session, k.owner) for k in keys}
    described = [service.describe(k, labels[k.owner]) for k in keys]
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]:
        return render_template("keys/index.html", keys=described)
    response = jsonify({"keys": described})
    response.vary.add("Accept")
    return response


@bp.app_context_processor
def _key_helpers() -> dict[str, Any]:
    def state_keys(owner: str) -> list[dict[str, Any]]:
        """Public keys of one owner for templates (the country directory)."""
        return [service.describe(k) for k in service.list_keys(db.session, [owner])]

    return {"state_keys": state_keys, "SECRETARIAT_OWNER": SECRETARIAT_OWNER}
