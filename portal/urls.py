"""Absolute links for e-mails, calendars and feeds.

They are built from the configured public base URL (BASE_URL), never from the request's Host
header, so they are right in the outbox worker and cron commands too and cannot be steered by
whoever sent the request.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of `endpoint` under BASE_URL."""
    base = urlsplit(str(current_app.config["BASE_URL"]))
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
