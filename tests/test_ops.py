"""Operations endpoints: /healthz, /readyz (each failure mode), /metrics (closed unless configured,
never content), request ids, and the trusted-proxy fix. SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import io
import os
import re
import secrets
import uuid
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import update

from portal import create_app
from portal.extensions import db
from portal.models import ItemKind, Role, User
from portal.models.notification import OutboxMessage, OutboxStatus
from portal.notifications import outbox
from portal.sharing import service as sharing
from tests.conftest import PASSWORD, csrf_token, run_sql, sign_in
from tests.sharing import helpers

TOKEN = "scrape-" + "x" * 40


# --- liveness and readiness --------------------------------------------------------------

def test_healthz_and_readyz_answer_without_signing_in(client: Any) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok\n")
    response = client.get("/readyz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ready\n")
    assert client.get("/health").status_code == 200  # the older name still answers


def _stopped_database_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.db'}"
    socket_dir = tmp_path / "pg-stopped"  # a server that is not running: no socket there
    socket_dir.mkdir()
    return f"postgresql+psycopg://postgres@/portal?host={socket_dir}"


def test_readyz_reports_an_unreachable_database(backend: str, tmp_path: Path, smtp_server: Any) -> None:
    app = create_app("testing", DATABASE_URL=_stopped_database_url(backend, tmp_path),
                     ATTACHMENT_STORAGE=str(tmp_path / "files"), SMTP_PORT=smtp_server.port)
    app.instance_path = str(tmp_path / "instance")
    try:
        client = app.test_client()
        assert client.get("/healthz").status_code == 200  # alive, just not ready
        response = client.get("/readyz")
        assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready: database\n")
    finally:
        app.extensions["portal.db"].dispose()


def test_readyz_reports_storage_that_cannot_be_written(app: Flask, client: Any, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "storage-is-a-file"
    not_a_folder.write_text("")
    app.config["ATTACHMENT_STORAGE"] = str(not_a_folder)
    response = client.get("/readyz")
    assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready: storage\n")

    if os.geteuid() != 0:  # root writes through permission bits
        read_only = tmp_path / "read-only"
        read_only.mkdir(mode=0o500)
        app.config["ATTACHMENT_STORAGE"] = str(read_only)
        assert client.get("/readyz").status_code == 503

    writable = tmp_path / "storage"
    app.config["ATTACHMENT_STORAGE"] = str(writable)
    assert client.get("/readyz").status_code == 200
    assert list(writable.iterdir()) == []  # the probe file is gone


def test_readyz_checks_object_storage(app: Flask, client: Any, s3_server: Any) -> None:
    bucket = s3_server.new_bucket()
    app.config.update(s3_server.settings(bucket))
    assert (client.get("/readyz").status_code, client.get("/readyz").get_data(as_text=True)) == (200, "ready\n")
    app.config.update(s3_server.settings("portal-no-such-bucket"))
    response = client.get("/readyz")
    assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready: storage\n")
    assert s3_server.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0  # the probe writes nothing


def test_readyz_reports_a_missing_master_key(app: Flask, client: Any, tmp_path: Path) -> None:
    # Production-like: the key file is named explicitly and is never created by the app.
    key_file = tmp_path / "secrets" / "master.key"
    app.config.update(NAME="production", PORTAL_MASTER_KEY_FILE=str(key_file))
    app.extensions.pop("portal.keyprovider", None)
    response = client.get("/readyz")
    assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready: keys\n")
    assert not key_file.exists()

    key_file.parent.mkdir()
    key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    key_file.chmod(0o600)
    assert client.get("/readyz").status_code == 200
    # The secret mount goes away while the app runs: the cached key hides it from uploads, not from readiness.
    key_file.unlink()
    response = client.get("/readyz")
    assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready: keys\n")


def test_readyz_names_every_failing_dependency_and_nothing_else(app: Flask, client: Any, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    app.config.update(ATTACHMENT_STORAGE=str(tmp_path / "file"), NAME="production",
                      PORTAL_MASTER_KEY_FILE=str(tmp_path / "missing.key"))
    app.extensions.pop("portal.keyprovider", None)
    body = client.get("/readyz").get_data(as_text=True)
    assert body == "not ready: storage, keys\n"
    assert str(tmp_path) not in body


# --- metrics -------------------------------------------------------------------------------

def scrape(client: Any, **kwargs: Any) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_are_closed_unless_configured(app: Flask, client: Any, make_user: Any, login_as: Any) -> None:
    assert client.get("/metrics").status_code == 404  # loopback too
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404
    admin = login_as(app.test_client(), make_user(Role.ADMIN))
    assert admin.get("/metrics").status_code == 404  # signing in does not open it either


def test_metrics_token(app: Flask, client: Any) -> None:
    app.config["METRICS_TOKEN"] = TOKEN
    assert "portal_http_requests_total" in scrape(client, headers={"Authorization": f"Bearer {TOKEN}"})
    for wrong in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", TOKEN, f"Basic {TOKEN}"):
        assert client.get("/metrics", headers={"Authorization": wrong}).status_code == 404, wrong
    assert client.get("/metrics").status_code == 404


def test_metrics_allowed_addresses(app: Flask, client: Any) -> None:
    app.config["METRICS_ALLOWED_IPS"] = "10.20.0.0/16, 192.0.2.7"
    assert scrape(client, environ_base={"REMOTE_ADDR": "10.20.3.4"})
    assert scrape(client, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    for other in ("10.21.0.1", "192.0.2.8", "127.0.0.1"):
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": other}).status_code == 404, other


def test_metrics_count_by_endpoint_and_never_show_content(app: Flask, make_user: Any, login_as: Any) -> None:
    app.config["METRICS_TOKEN"] = TOKEN
    marker = helpers.unique_word("metricsmarker")
    spoc = make_user("spoc", "NO", email=f"{marker}@people.example")
    officer = make_user("officer", "DK")
    item_id = helpers.make_item(app, spoc, "denial", title=f"Denial {marker}", body=f"Body {marker}",
                                audience=helpers.audience(all_subscribing=True))
    client = login_as(app.test_client(), officer)
    before = scrape(app.test_client(), headers={"Authorization": f"Bearer {TOKEN}"})
    assert client.get(f"/denials/{item_id}").status_code == 200
    assert client.get("/search", query_string={"q": marker}).status_code == 200
    assert client.get(f"/denials/{uuid.uuid4()}").status_code == 404
    assert client.get(f"/no-such-page/{marker}").status_code == 404
    text = scrape(app.test_client(), headers={"Authorization": f"Bearer {TOKEN}"})

    assert marker not in text and "people.example" not in text and str(item_id) not in text
    assert "/denials/" not in text and "/search" not in text  # endpoint names, never URLs
    labels = '{endpoint="sharing.search",method="GET",status="2xx"}'
    assert sample(text, "portal_http_requests_total", labels) == sample(before, "portal_http_requests_total", labels) + 1
    assert 'portal_http_requests_total{endpoint="sharing.detail",method="GET",status="4xx"}' in text or \
        re.search(r'portal_http_requests_total\{endpoint="sharing\.[a-z_]+",method="GET",status="4xx"\}', text)
    assert 'portal_http_requests_total{endpoint="unmatched",method="GET",status="4xx"}' in text
    assert 'portal_http_request_duration_seconds_bucket{endpoint="sharing.search",le="0.1"}' in text


def test_metrics_outbox_logins_and_attachments(app: Flask, make_user: Any, login_as: Any, tmp_path: Path) -> None:
    app.config.update(METRICS_TOKEN=TOKEN, ATTACHMENT_STORAGE=str(tmp_path / "files"))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = scrape(app.test_client(), headers=auth)
    assert sample(before, "portal_outbox_pending") == 0 and sample(before, "portal_outbox_failed") == 0

    reader = make_user("reader", "DK")
    with app.app_context():
        recipient = db.session.get(User, reader.id)
        for n in range(3):
            outbox.enqueue(db.session, recipient=recipient, event_key=f"metrics-test-{n}", subject="s", text="t")
        db.session.commit()
        db.session.remove()
    run_sql(app, update(OutboxMessage).where(OutboxMessage.event_key == "metrics-test-0").values(status=OutboxStatus.FAILED))
    run_sql(app, update(OutboxMessage).where(OutboxMessage.event_key == "metrics-test-1").values(attempts=2))

    spoc = make_user("spoc", "DK")
    web = app.test_client()
    assert sign_in(web, spoc.email, PASSWORD + "-wrong").status_code == 200
    assert sign_in(web, spoc.email, PASSWORD, spoc.code()).status_code == 302
    with app.app_context():
        item = sharing.create_draft(db.session, db.session.get(User, spoc.id), ItemKind.DENIAL, helpers.denial_payload())
        item_id = item.id
        db.session.remove()
    data = b"%PDF-1.7\n" + os.urandom(2000)
    response = web.post(f"/items/{item_id}/attachments", data={"csrf_token": csrf_token(web), "file": (io.BytesIO(data), "a.pdf")},
                        content_type="multipart/form-data")
    assert response.status_code == 303
    attachment = re.search(r'href="/attachments/([0-9a-f-]{36})"', web.get(f"/denials/{item_id}").get_data(as_text=True))
    assert attachment
    assert web.get(f"/attachments/{attachment.group(1)}").data == data

    after = scrape(app.test_client(), headers=auth)
    assert sample(after, "portal_outbox_pending") == 2
    assert sample(after, "portal_outbox_retrying") == 1
    assert sample(after, "portal_outbox_failed") == 1
    assert sample(after, "portal_logins_total", '{result="signed_in"}') == 1
    assert sample(after, "portal_logins_total", '{result="failure"}') == 1
    assert sample(after, "portal_login_lockouts_total") == 0
    for name in ("portal_attachment_uploads_total", "portal_attachment_downloads_total"):
        assert sample(after, name) == sample(before, name) + 1, name


# --- request ids and proxies ----------------------------------------------------------------

def test_request_id_header(client: Any) -> None:
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/healthz").headers["X-Request-ID"] != generated
    kept = "lb-7f3a9c21-0001"
    assert client.get("/healthz", headers={"X-Request-ID": kept}).headers["X-Request-ID"] == kept
    for unsafe in ("short", "a" * 65, "abc def ghij", 'x"}{"level":"error', "../../etc/passwd", "id;rm -rf"):
        answered = client.get("/healthz", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert answered != unsafe and re.fullmatch(r"[0-9a-f]{32}", answered), unsafe
    assert "X-Request-ID" in client.get("/no-such-page").headers  # error pages too


def test_forwarded_headers_are_trusted_from_the_configured_proxy_only(shared_app: Any, tmp_path: Path) -> None:
    _, settings = shared_app
    overrides = {k: v for k, v in settings.items() if k in ("DATABASE_URL", "SMTP_PORT")}
    app = create_app("testing", TRUSTED_PROXY_COUNT=1, FORWARDED_ALLOW_IPS="10.0.0.5",
                     METRICS_ALLOWED_IPS="203.0.113.9", **overrides)
    try:
        client = app.test_client()
        forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        # Through the proxy: the client address is the forwarded one.
        assert client.get("/metrics", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 200
        # Straight from anywhere else, the same headers are ignored.
        assert client.get("/metrics", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.6"}).status_code == 404
        # Only one hop is trusted: a client-supplied address in front of the proxy's is not believed.
        spoofed = {"X-Forwarded-For": "203.0.113.9, 198.51.100.1"}
        assert client.get("/metrics", headers=spoofed, environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 404
    finally:
        app.extensions["portal.db"].dispose()

    plain = create_app("testing", METRICS_ALLOWED_IPS="203.0.113.9", **overrides)  # TRUSTED_PROXY_COUNT = 0
    try:
        forwarded_from_loopback = plain.test_client().get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert forwarded_from_loopback.status_code == 404
    finally:
        plain.extensions["portal.db"].dispose()
