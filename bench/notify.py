"""Fan-out of one publication to 2,000 users in 24 states, on SQLite and PostgreSQL.

Prints the time to write the outbox (the publishing transaction, which computes recipients
through access.py and queues their messages), and the worker's send rate to a local SMTP
sink (aiosmtpd on loopback). Run: .venv/bin/python bench/notify.py [USERS] [--external-sink]
"""
from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.cli import alembic_config  # noqa: E402
from portal.countries.register import FOUNDING_STATES  # noqa: E402
from portal.countries.service import seed_register  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import ItemKind, OutboxMessage, Role, User, UserStatus  # noqa: E402
from portal.models.base import new_uuid, utcnow  # noqa: E402
from portal.notifications import outbox  # noqa: E402
from portal.sharing import service  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402
from tests.smtp import SmtpServer, free_port  # noqa: E402

ROLES = [Role.SPOC, Role.OFFICER, Role.OFFICER, Role.READER]


def run(label: str, url: str, users: int, smtp: "SmtpServer | ExternalSink") -> None:
    app = create_app("testing", DATABASE_URL=url, SMTP_PORT=smtp.port)
    app.instance_path = tempfile.mkdtemp()
    with app.app_context():
        command.upgrade(alembic_config(url), "head")
        seed_register(db.session)
        codes = [code for code, _ in FOUNDING_STATES]
        now = utcnow()
        rows = [{"id": new_uuid(), "email": f"user{i}@bench.example", "name": f"User {i}", "role": ROLES[i % 4],
                 "country_code": codes[i % len(codes)], "status": UserStatus.ACTIVE, "is_designated_poc": False,
                 "failed_logins": 0, "created_at": now} for i in range(users)]
        db.session.execute(insert(User), rows)
        db.session.commit()
        author = db.session.scalar(select(User).where(User.role == Role.SPOC).limit(1))
        payload = {"title": "Benchmark alert", "summary": "s", "body": "b", "tlp": "GREEN",
                   "audience": {"all_subscribing": True, "countries": [], "secretariat": False, "observers": False},
                   "severity": "critical", "categories": ["other"], "regions": [], "entities": []}
        item = service.create_draft(db.session, author, ItemKind.THREAT_NOTICE, payload)
        started = time.perf_counter()
        service.publish(db.session, author, item)  # recipients + outbox + notifications, one transaction
        write_s = time.perf_counter() - started
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        smtp.mailbox.clear()
        started = time.perf_counter()
        sent = outbox.deliver_pending(db.session, limit=100_000)
        send_s = time.perf_counter() - started
        db.session.remove()
    print(f"{label:<11} users={users:>5}  queued={queued:>5}  outbox write={write_s * 1000:7.0f} ms  "
          f"sent={sent:>5} in {send_s:6.2f} s = {sent / send_s:6.0f} msg/s  received={len(smtp.mailbox.messages)}")


class ExternalSink:
    """aiosmtpd's Sink in its own process, so the sink does not share our interpreter's GIL."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = SmtpServer().mailbox  # stays empty: the sink discards what it receives

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
                                         "-c", "aiosmtpd.handlers.Sink"])
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def main() -> None:
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    users = int(numbers[0]) if numbers else 2000
    # The in-process sink (which counts what arrives) proves delivery; the external one gives the rate.
    smtp: SmtpServer | ExternalSink = ExternalSink() if "--external-sink" in sys.argv else SmtpServer()
    smtp.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            run("sqlite", f"sqlite:///{folder}/bench.db", users, smtp)
        server = PostgresServer()
        server.start()
        try:
            run("postgresql", server.create_database("bench"), users, smtp)
        finally:
            server.stop()
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
