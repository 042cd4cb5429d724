"""Two app nodes, nothing shared but the database, the object store and Redis.

Two real gunicorn processes (config/gunicorn.py, the production settings) on two loopback ports,
each with its own empty instance folder, over one PostgreSQL database, one S3 API server
(moto) and one Redis: what the README's production layout puts behind a load balancer. The
tests talk plain HTTP, as a browser behind the TLS proxy would (the proxy's X-Forwarded-Proto
and X-Forwarded-For headers included), and switch nodes between requests the way a load
balancer may. Then two outbox workers run at once against the same queue.

PostgreSQL only (the scaled-out layout; SQLite is the one-machine default): the module builds
its own database, so it runs once per `make test`, not once per backend. All its tests share
one pair of nodes and run on one xdist worker.
"""
from __future__ import annotations

import base64
import io
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
from flask import Flask
from sqlalchemy import select, text

from portal import create_app
from portal.auth.service import GENERIC_LOGIN_ERROR, passwords
from portal.countries import service as countries
from portal.extensions import db
from portal.models import AuditEntry, ItemKind, OutboxMessage, Role, User, UserStatus
from portal.models.base import utcnow
from portal.models.notification import OutboxStatus
from portal.notifications import outbox
from portal.sharing import service as sharing
from tests.attachments.conftest import pdf_bytes, threat_payload
from tests.conftest import CSRF_PATTERN, FLASH_ERROR_PATTERN, PASSWORD, migrate

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_LIMIT = 3  # failed sign-ins per account per hour: below the database lock-out (5)

pytestmark = pytest.mark.xdist_group("two_nodes")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    nodes: dict[str, str]  # name -> base URL
    app: Flask  # an app on the same database, for setting up accounts and looking at rows
    env: dict[str, str]  # the production environment every process shares
    logs: dict[str, Path]

    def logs_text(self) -> str:
        return "\n".join(f"--- {name}\n{path.read_text()[-4000:]}" for name, path in self.logs.items())


@dataclass
class Account:
    id: uuid.UUID
    email: str
    totp_secret: str

    def code(self) -> str:
        return pyotp.TOTP(self.totp_secret).now()


def _start_node(name: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    node_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "INSTANCE_PATH": str(log.parent / name)}
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "wsgi:app"],
                            cwd=ROOT, env=node_env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90  # two cold starts on a busy two-core machine
    while True:
        try:
            answer = requests.get(base + "/readyz", timeout=30)
            if answer.status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert process.poll() is None, log.read_text()[-4000:]
        assert time.monotonic() < deadline, "node not ready: " + log.read_text()[-4000:]
        time.sleep(0.3)


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if request.config.getoption("--backend") == "sqlite":
        pytest.skip("the two-node layout runs on PostgreSQL")
    postgres = request.getfixturevalue("postgres")
    s3 = request.getfixturevalue("s3_server")
    redis = request.getfixturevalue("redis_server")
    smtp = request.getfixturevalue("smtp_server")
    root = tmp_path_factory.mktemp("two_nodes")

    url = postgres.create_database(f"nodes_{uuid.uuid4().hex[:10]}")
    migrate(url)
    env = {**os.environ, "PORTAL_CONFIG": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": url,
           "PORTAL_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "RATELIMIT_STORAGE_URI": redis.url, "LOGIN_ACCOUNT_RATE_LIMIT": f"{ACCOUNT_LIMIT} per hour",
           "BASE_URL": "https://portal.example", "WEBAUTHN_RP_ID": "portal.example",
           "WEBAUTHN_ORIGIN": "https://portal.example", "TRUSTED_PROXY_COUNT": "1", "FORWARDED_ALLOW_IPS": "127.0.0.1",
           "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
           "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "4", "GUNICORN_GRACEFUL_TIMEOUT": "3"}
    env.update({key: str(value) for key, value in s3.settings(s3.new_bucket()).items()})
    for key in ("PROMETHEUS_MULTIPROC_DIR", "ATTACHMENT_STORAGE", "INSTANCE_PATH"):
        env.pop(key, None)  # nothing on a node's disk is shared

    ports = {"A": _free_port(), "B": _free_port()}
    logs = {name: root / f"{name}.log" for name in ports}
    processes = {name: _start_node(name, port, env, logs[name]) for name, port in ports.items()}
    app = create_app("testing", DATABASE_URL=url, INSTANCE_PATH=str(root / "tests"))
    try:
        with app.app_context():
            countries.seed_register(db.session)
            db.session.remove()
        nodes = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, base in nodes.items():
            _wait_ready(base, processes[name], logs[name])
        yield Cluster(nodes, app, env, logs)
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
        app.extensions["portal.db"].dispose()


def make_account(cluster: Cluster, role: Role = Role.OFFICER, country: str | None = "DK") -> Account:
    """An active, enrolled account, written straight into the shared database."""
    secret = pyotp.random_base32()
    email = f"{role.value}.{uuid.uuid4().hex[:10]}@echri.example"
    with cluster.app.app_context():
        user = User(email=email, name=email.split("@")[0].replace(".", " ").title(), role=role,
                    country_code=country if role.belongs_to_state else None, status=UserStatus.ACTIVE,
                    password_hash=passwords().hash(PASSWORD), password_changed_at=utcnow(),
                    totp_secret=secret, totp_enrolled_at=utcnow())
        db.session.add(user)
        db.session.commit()
        account = Account(user.id, email, secret)
        db.session.remove()
    return account


class Browser:
    """One browser behind the load balancer: one cookie jar, each request sent to the node named.

    Requests carry what the TLS-terminating proxy adds (X-Forwarded-Proto: https and the
    client's address), so the nodes see HTTPS and keep their Secure, __Host- cookie. The jar
    keeps what the nodes set; the Cookie header is written here because a jar sends Secure
    cookies over HTTPS only, and the hop from the proxy to a node is plain HTTP.
    """

    def __init__(self, cluster: Cluster, client_address: str = "198.51.100.10") -> None:
        self.cluster = cluster
        self.http = requests.Session()
        self.client_address = client_address

    def request(self, node: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        base = self.cluster.nodes[node]
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": self.client_address,
                   # a browser's Referer: Flask-WTF checks it on HTTPS requests
                   "Referer": base.replace("http://", "https://") + path, **kwargs.pop("headers", {})}
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.http.cookies)
        if cookies:
            headers["Cookie"] = cookies
        return self.http.request(method, base + path, headers=headers, allow_redirects=False, timeout=60, **kwargs)

    def get(self, node: str, path: str) -> requests.Response:
        return self.request(node, "GET", path)

    def csrf(self, node: str, path: str) -> str:
        answer = self.get(node, path)
        match = CSRF_PATTERN.search(answer.text)
        assert match, f"no CSRF token on {path} ({answer.status_code})"
        return match.group(1) or match.group(2)

    def post_form(self, node: str, path: str, data: dict[str, str], *, page: str | None = None) -> requests.Response:
        return self.request(node, "POST", path, data={"csrf_token": self.csrf(node, page or path), **data})

    def sign_in(self, password_node: str, code_node: str, account: Account) -> requests.Response:
        """The password step on one node, the code step on the other."""
        answer = self.post_form(password_node, "/login", {"email": account.email, "password": PASSWORD})
        assert (answer.status_code, answer.headers.get("Location")) == (302, "/login/code"), errors(answer)
        return self.post_form(code_node, "/login/code", {"code": account.code()})

    def signed_in(self, node: str) -> bool:
        answer = self.get(node, "/account/")
        assert answer.status_code in (200, 302)
        return answer.status_code == 200


def errors(answer: requests.Response) -> list[str]:
    return [m.strip() for m in FLASH_ERROR_PATTERN.findall(answer.text)]


def password_checks(cluster: Cluster, account: Account) -> int:
    """Failed sign-ins whose password was actually checked (the audit log's `failures` count)."""
    with cluster.app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(
            AuditEntry.target_id == str(account.id), AuditEntry.action.in_(("login.failure", "login.locked"))))
        found = sum(1 for row in rows if row.details.get("step") == "password" and "failures" in row.details)
        db.session.remove()
    return found


# --- sessions ---------------------------------------------------------------------------

def test_a_session_started_on_one_node_works_on_the_other_and_a_logout_ends_it_on_both(cluster: Cluster) -> None:
    account = make_account(cluster)
    browser = Browser(cluster)
    answer = browser.sign_in("A", "B", account)  # even the sign-in's two steps land on different nodes
    assert (answer.status_code, answer.headers.get("Location")) == (302, "/"), errors(answer)
    assert browser.signed_in("A") and browser.signed_in("B")
    assert account.email in browser.get("B", "/account/").text

    # A copy of the signed-in cookie, as a second tab (or a thief) would hold it.
    copy = Browser(cluster)
    copy.http.cookies.update(browser.http.cookies)
    assert copy.signed_in("B")

    answer = browser.post_form("A", "/logout", {}, page="/account/")
    assert (answer.status_code, answer.headers.get("Location")) == (302, "/login")
    # Ended server-side: the browser is out on B, and so is the copy of the old cookie, on both nodes.
    assert not browser.signed_in("B")
    assert not copy.signed_in("B") and not copy.signed_in("A")


# --- attachments ------------------------------------------------------------------------

def test_an_upload_through_one_node_downloads_verified_through_the_other(cluster: Cluster) -> None:
    spoc = make_account(cluster, Role.SPOC, "DK")
    reader = make_account(cluster, Role.OFFICER, "NO")
    with cluster.app.app_context():
        actor = db.session.get(User, spoc.id)
        assert actor is not None
        item = sharing.create_draft(db.session, actor, ItemKind.THREAT_NOTICE, threat_payload(("NO",), "AMBER"))
        sharing.publish(db.session, actor, item)
        item_id = item.id
        db.session.remove()

    uploader = Browser(cluster)
    assert uploader.sign_in("A", "A", spoc).status_code == 302
    page = f"/threat-notices/{item_id}"
    token = uploader.csrf("A", page)
    data = pdf_bytes(300_000)
    answer = uploader.request("A", "POST", f"/items/{item_id}/attachments", headers={"Accept": "application/json"},
                              files=[("csrf_token", (None, token)), ("file", ("evidence.pdf", io.BytesIO(data),
                                                                              "application/pdf"))])
    assert answer.status_code == 200, answer.text[:2000]
    attachment_id = answer.json()["attachment"]["id"]

    # Node B has no copy of anything: the file, the state's keys and the wraps come from the
    # shared store and database, and the download verifies the signature before a byte leaves.
    downloader = Browser(cluster, "203.0.113.5")
    assert downloader.sign_in("B", "B", reader).status_code == 302
    answer = downloader.get("B", f"/attachments/{attachment_id}")
    assert answer.status_code == 200, answer.text[:2000]
    assert answer.content == data
    assert downloader.get("B", f"/attachments/{attachment_id}/signature").status_code == 200
    assert "evidence.pdf" in downloader.get("B", page).text
    assert uploader.get("B", f"/attachments/{attachment_id}").content == data
    assert not list((Path(cluster.logs["B"]).parent / "B").rglob("*.pdf"))


# --- rate limits ------------------------------------------------------------------------

def test_failed_sign_ins_count_across_both_nodes(cluster: Cluster) -> None:
    account = make_account(cluster)
    nodes = ["A", "B", "A"]  # from different client addresses too: the per-account limit follows the account
    for n, node in enumerate(nodes):
        answer = Browser(cluster, f"192.0.2.{n + 1}").post_form(node, "/login", {"email": account.email,
                                                                                 "password": "wrong-guess-1234"})
        assert (answer.status_code, errors(answer)) == (200, [GENERIC_LOGIN_ERROR])
    assert password_checks(cluster, account) == ACCOUNT_LIMIT == len(nodes)

    # Counted in one node's memory, node B would have seen one failure and let this through.
    answer = Browser(cluster, "192.0.2.9").post_form("B", "/login", {"email": account.email, "password": PASSWORD})
    assert (answer.status_code, errors(answer)) == (200, [GENERIC_LOGIN_ERROR])
    answer = Browser(cluster, "192.0.2.10").post_form("A", "/login", {"email": account.email, "password": PASSWORD})
    assert (answer.status_code, errors(answer)) == (200, [GENERIC_LOGIN_ERROR])
    assert password_checks(cluster, account) == ACCOUNT_LIMIT  # refused before the password was checked

    # Another account is not affected, on either node.
    other = make_account(cluster)
    answer = Browser(cluster, "192.0.2.9").post_form("B", "/login", {"email": other.email, "password": PASSWORD})
    assert answer.headers.get("Location") == "/login/code"


# --- the outbox ---------------------------------------------------------------------------

MESSAGES = 60


def _waiting_on_locks(cluster: Cluster) -> int:
    with cluster.app.extensions["portal.db"].connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar_one())


def test_two_outbox_workers_at_once_send_each_message_exactly_once(cluster: Cluster, mailbox: Any) -> None:
    recipients = [make_account(cluster) for _ in range(10)]
    with cluster.app.app_context():
        users = [db.session.get(User, account.id) for account in recipients]
        for n in range(MESSAGES):
            user = users[n % len(users)]
            assert user is not None
            assert outbox.enqueue(db.session, recipient=user, event_key=f"two-nodes:{n}",
                                  subject=f"Message {n}", text=f"Body {n}")
        db.session.commit()
        queued = {str(i) for i in db.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.status == OutboxStatus.PENDING))}
        db.session.remove()
    assert len(queued) >= MESSAGES
    mailbox.clear()

    # A starting line: hold the outbox table until both workers wait on it, then let go, so
    # their rounds really overlap (each starts in its own interpreter, a second or two apart).
    engine = cluster.app.extensions["portal.db"]
    gate = engine.connect()
    gate_tx = gate.begin()
    gate.execute(text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))
    workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "run", "--once"],
                                cwd=ROOT, env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while _waiting_on_locks(cluster) < 2:
            assert all(w.poll() is None for w in workers), [w.communicate() for w in workers]
            assert time.monotonic() < deadline, "the workers never reached the outbox"
            time.sleep(0.1)
    finally:
        gate_tx.commit()
        gate.close()
    outputs = [w.communicate(timeout=60) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    sent = [int(re.search(r"(\d+) message\(s\) sent", out).group(1)) for out, _ in outputs]  # type: ignore[union-attr]

    assert sum(sent) == len(queued)
    assert all(n > 0 for n in sent), sent  # both took a share: the row locks split the queue
    ids = [m["Message-ID"].strip("<>").split("@")[0] for m in mailbox.messages]
    assert len(ids) == len(set(ids)) == len(queued)  # nothing twice
    assert set(ids) == queued  # nothing lost
    with cluster.app.app_context():
        statuses = set(db.session.scalars(select(OutboxMessage.status)))
        db.session.remove()
    assert statuses == {OutboxStatus.SENT}
