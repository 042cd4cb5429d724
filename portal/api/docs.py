"""The API's description: the OpenAPI document (public, it holds no data) and a readable
page of it for signed-in people, rendered here with our own template (no outside assets)."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template

from portal.api import spec

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/openapi.json")
def openapi() -> Any:
    return jsonify(spec.build(current_app))


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(component name, schema) for a `$ref`, else (None, schema)."""
    target = schema.get("$ref")
    if isinstance(target, str):
        name = target.rsplit("/", 1)[-1]
        return name, document["components"]["schemas"][name]
    return None, schema


@bp.get("/api/docs")
def page() -> Any:
    document = spec.build(current_app)
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {})
            media_type, content = next(iter(body.items()), (None, {"schema": {}}))
            operations.append({"path": path, "method": method.upper(), "op": operation, "body_type": media_type,
                               "body_schema": _resolve(document, content["schema"])[0]})
    return render_template("api/docs.html", document=document, operations=operations,
                           as_json=lambda value: json.dumps(value, indent=2, ensure_ascii=False))
