"""JSON logs: one object per line with request id, user id, endpoint, status and duration, and
never item text, file names, passwords, tokens or one-time codes. SQLite and PostgreSQL."""
from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from portal import logs
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.sharing import helpers
from tests.sharing.helpers import api_url, bearer, to_form


@pytest.fixture
def json_logs(app: Flask, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Switch the process to JSON logging (as LOG_FORMAT=json does) and give back the lines."""
    root = logging.getLogger()
    level = root.level
    logs.configure_json_logging(app)
    capsys.readouterr()

    def lines() -> list[str]:
        return [line for line in capsys.readouterr().err.splitlines() if line.strip()]

    yield lines
    for handler in list(root.handlers):
        if getattr(handler, "portal_json", False):
            root.removeHandler(handler)
    root.setLevel(level)


def test_a_full_scenario_logs_no_secrets_and_no_content(app: Flask, make_user: Any, json_logs: Any,
                                                        tmp_path: Any) -> None:
    app.config["ATTACHMENT_STORAGE"] = str(tmp_path / "files")
    title_marker, body_marker = helpers.unique_word("titlemarker"), helpers.unique_word("bodymarker")
    file_marker = helpers.unique_word("filemarker")
    spoc = make_user("spoc", "NO")
    client = app.test_client()

    # Sign in with password and TOTP code, through the pages.
    code = spoc.code()
    assert sign_in(client, spoc.email, PASSWORD, code).status_code == 302
    # Create and publish a threat notice whose text carries the markers.
    payload = helpers.threat_payload(title=f"Notice {title_marker}", body=f"Text {body_marker}",
                                     audience=helpers.audience(all_subscribing=True))
    response = client.post("/threat-notices/new", data=to_form("threat_notice", payload, csrf_token=csrf_token(client)))
    assert response.status_code == 302
    item_path = response.headers["Location"]
    item_id = item_path.rsplit("/", 1)[1]
    assert client.post(f"{item_path}/publish", data={"csrf_token": csrf_token(client)}).status_code == 302
    # Upload an attachment with a marker file name, and download it.
    data = b"%PDF-1.7\n" + os.urandom(3000)
    response = client.post(f"/items/{item_id}/attachments", content_type="multipart/form-data",
                           data={"csrf_token": csrf_token(client), "file": (io.BytesIO(data), f"{file_marker}.pdf")})
    assert response.status_code == 303
    page = client.get(item_path).get_data(as_text=True)
    assert file_marker in page
    attachment = re.search(r'href="(/attachments/[0-9a-f-]{36})"', page)
    assert attachment and client.get(attachment.group(1)).data == data
    assert client.get("/search", query_string={"q": title_marker}).status_code == 200
    # The API with a bearer token, a search in its query string.
    token = helpers.api_token(app, spoc)
    response = client.get(api_url("threat_notice"), query_string={"q": body_marker}, headers=bearer(token))
    assert response.status_code == 200 and response.get_json()["items"]
    # A failed sign-in with a wrong password, and an unhandled error path: still nothing leaks.
    other = app.test_client()
    wrong_password = PASSWORD + "-Wrong-Guess"
    sign_in(other, spoc.email, wrong_password)
    app.logger.error("mail to %s failed", spoc.email)  # e-mail addresses are masked in every message

    lines = json_logs()
    assert lines, "no log output"
    text = "\n".join(lines)
    for secret in (title_marker, body_marker, file_marker, PASSWORD, wrong_password, token, code, spoc.email):
        assert secret not in text, secret
    assert token[:12] not in text

    records = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = [r for r in records if r.get("logger") == "portal.request"]
    for record in requests:
        assert {"timestamp", "level", "request_id", "user_id", "endpoint", "status", "duration_ms"} <= set(record)
        assert re.fullmatch(r"[0-9a-f]{32}", record["request_id"])
    endpoints = {(r["endpoint"], r["status"]) for r in requests}
    assert {("auth.login", 302), ("auth.login_mfa", 302), ("sharing.new", 302), ("sharing.publish", 302),
            ("attachments.upload", 303), ("attachments.download_file", 200), ("sharing.search", 200),
            ("api.list_items", 200)} <= endpoints, endpoints
    signed_in = [r for r in requests if r["endpoint"] in ("sharing.search", "api.list_items", "attachments.upload")]
    assert {r["user_id"] for r in signed_in} == {str(spoc.id)}
    assert len({r["request_id"] for r in requests}) == len(requests)
    assert any(r["message"] == "mail to <email> failed" for r in records)


def test_exceptions_are_logged_by_type_and_place_only(app: Flask, json_logs: Any) -> None:
    secret = "sekret-row-content-4711"
    try:
        raise ValueError(f"could not insert {secret}")
    except ValueError:
        with app.test_request_context("/x"):
            app.logger.exception("unhandled error")
    record = json.loads(json_logs()[-1])
    assert record["exception"]["type"] == "ValueError" and record["exception"]["frames"]
    assert secret not in json.dumps(record)


def test_production_logs_json_and_development_stays_readable() -> None:
    from config import load_config

    assert load_config("default", {})["LOG_FORMAT"] == "text"
    production = {"SECRET_KEY": "x", "DATABASE_URL": "sqlite://", "PORTAL_MASTER_KEY": "x",
                  "RATELIMIT_STORAGE_URI": "redis://localhost:6379", "WEBAUTHN_RP_ID": "portal.example",
                  "WEBAUTHN_ORIGIN": "https://portal.example",
                  "BASE_URL": "https://portal.example"}
    assert load_config("production", production)["LOG_FORMAT"] == "json"
    assert load_config("default", {"LOG_FORMAT": "json"})["LOG_FORMAT"] == "json"
