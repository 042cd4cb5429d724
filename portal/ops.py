"""Endpoints for operators and their tools: liveness, readiness and Prometheus metrics.

/healthz and /readyz need no sign-in and say nothing beyond "ok" or which dependency is not
ready. /metrics answers only a configured scraper (METRICS_TOKEN as a Bearer token, or an
address in METRICS_ALLOWED_IPS); to everyone else, loopback included, it does not exist (404).
"""
from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import text

from portal import metrics
from portal.crypto.keyprovider import FileKeyProvider
from portal.extensions import db

bp = Blueprint("ops", __name__)


def _plain(body: str, status: int = 200) -> Response:
    return Response(body + "\n", status=status, mimetype="text/plain")


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers. Touches no dependency, so a database outage does not
    make the orchestrator restart healthy app processes."""
    return _plain("ok")


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: the database, attachment storage and master key all answer."""
    failing = [name for name, check in (("database", _database_ready), ("storage", _storage_ready),
                                        ("keys", _keys_ready)) if not _passes(check)]
    if failing:
        return _plain("not ready: " + ", ".join(failing), 503)
    return _plain("ready")


def _passes(check: Any) -> bool:
    try:
        check()
    except Exception:
        current_app.logger.warning("readiness check %s failed", check.__name__, exc_info=True)
        return False
    return True


def _database_ready() -> None:
    with current_app.extensions["portal.db"].connect() as conn:
        conn.execute(text("SELECT 1"))


def _storage_ready() -> None:
    from portal.attachments import service as attachments

    attachments.storage().check_ready()


def _keys_ready() -> None:
    from portal.keys import service as keys

    provider = keys.provider()
    provider.master_key()
    if isinstance(provider, FileKeyProvider):
        # The provider caches the key; a secret mount that has gone away only shows on re-reading.
        FileKeyProvider(provider.path, create=False).master_key()


@bp.get("/metrics", endpoint="metrics")
def scrape() -> Response:
    """Prometheus exposition, for a configured scraper only."""
    if not _scraper_allowed():
        abort(404)
    return Response(metrics.exposition(db.session), mimetype="text/plain; version=0.0.4; charset=utf-8")


def _scraper_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if token:
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    allowed = current_app.config.get("METRICS_ALLOWED_IPS") or ""
    if allowed and request.remote_addr:
        try:
            address = ipaddress.ip_address(request.remote_addr)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(net.strip(), strict=False)
                   for net in str(allowed).split(",") if net.strip())
    return False
