"""Request ids, one log line per request, JSON logs in production, and request metrics.

A log line holds who (user id), what (endpoint name, method, status), how long and which
request: never URLs or query strings (search words, calendar tokens), form fields, file names
or exception messages (a database error quotes the row it failed on). LOG_FORMAT picks "json"
(production: one object per line on stderr) or "text" (development: Flask's readable default).
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

from portal import metrics

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is short and plain, so it cannot forge log structure.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
EMAIL = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+\.[A-Za-z]{2,}")
request_log = logging.getLogger("portal.request")


def init_app(app: Flask) -> None:
    """Register the request hooks (first, so they time everything) and configure logging."""
    app.before_request(_start)
    app.after_request(_finish)
    if app.config.get("LOG_FORMAT") == "json":
        configure_json_logging(app)


def _start() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _user_id() -> str | None:
    # Only a user the request already loaded: looking one up here would cost a query on
    # static files and health checks.
    user = g.get("_login_user")
    return str(user.id) if user is not None and getattr(user, "is_authenticated", False) else None


def _finish(response: Response) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    metrics.observe_request(request.endpoint, request.method, response.status_code, seconds)
    request_log.info("request", extra={"endpoint": request.endpoint, "method": request.method,
                                       "status": response.status_code, "duration_ms": round(seconds * 1000, 1)})
    return response


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, request id, user id, and
    the request fields when the record has them. Exceptions give their type and frames only."""

    FIELDS = ("endpoint", "method", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": EMAIL.sub("<email>", record.getMessage()),
        }
        if has_request_context():
            entry["request_id"] = current_request_id()
            entry["user_id"] = _user_id()
        for field in self.FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info and record.exc_info[0] is not None:
            # The message of an exception may quote data (SQL parameters, file names): only
            # its type and where it happened are logged.
            entry["exception"] = {
                "type": record.exc_info[0].__name__,
                "frames": [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(record.exc_info[2])],
            }
        return json.dumps(entry, default=str)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to whatever sys.stderr is at the time (gunicorn and test capture replace it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_json_logging(app: Flask | None = None) -> None:
    """Route every log record through one JSON handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "portal_json", False):
            root.removeHandler(handler)
    # gunicorn's logconfig_dict (config/gunicorn.py) already puts a JSON handler on the root
    # logger: a second one would print every line twice.
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = StderrHandler()
        handler.portal_json = True  # type: ignore[attr-defined]
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    portal_logger = logging.getLogger("portal")
    portal_logger.removeHandler(default_handler)  # else Flask's text handler prints each line again
    if app is not None:
        app.logger.removeHandler(default_handler)
