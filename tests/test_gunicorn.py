"""The production serving configuration: a real gunicorn with config/gunicorn.py serves the app."""
from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import migrate

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # timeout: a busy machine
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_gunicorn_serves_with_the_production_config(tmp_path: Path, redis_server: Any) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    migrate(url)
    port, token = _free_port(), secrets.token_urlsafe(32)
    (tmp_path / "prom").mkdir()
    env = {**os.environ, "PORTAL_CONFIG": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": url,
           "PORTAL_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "ATTACHMENT_STORAGE": str(tmp_path / "files"), "METRICS_TOKEN": token,
           "RATELIMIT_STORAGE_URI": redis_server.url,
           "WEBAUTHN_RP_ID": "portal.example", "WEBAUTHN_ORIGIN": "https://portal.example",
           "BASE_URL": "https://portal.example",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "2"}
    log = (tmp_path / "gunicorn.log").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body, headers = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        assert (status, body) == (200, "ok\n")
        assert len(headers["X-Request-ID"]) == 32
        assert _get(f"http://127.0.0.1:{port}/readyz")[:2] == (200, "ready\n")
        for _ in range(4):  # spread over both workers
            _get(f"http://127.0.0.1:{port}/healthz")
        assert _get(f"http://127.0.0.1:{port}/metrics")[0] == 404
        status, text, _ = _get(f"http://127.0.0.1:{port}/metrics", {"Authorization": f"Bearer {token}"})
        assert status == 200
        # Multiprocess mode: the scrape adds up every worker's counts.
        line = next(l for l in text.splitlines()
                    if l.startswith('portal_http_requests_total{endpoint="ops.healthz",method="GET",status="2xx"}'))
        assert float(line.split()[-1]) == 5
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=40)
    log.seek(0)
    lines = [l for l in log.read().splitlines() if l.strip()]
    records = [json.loads(l) for l in lines]  # production: every line is JSON, gunicorn's own included
    assert any(r.get("endpoint") == "ops.readyz" and r.get("status") == 200 for r in records)
    assert any(r.get("logger") == "gunicorn.error" for r in records)
    request_ids = [r["request_id"] for r in records if r.get("logger") == "portal.request"]
    assert len(request_ids) == len(set(request_ids)) == 8  # each request logged once, not once per handler
    assert token not in "\n".join(lines)
