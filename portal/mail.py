"""Outgoing e-mail: SMTP in production and tests, console plus .eml files in development."""
from __future__ import annotations

import smtplib
import socket
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

from portal.models.base import utcnow


def build_message(sender: str, to: str, subject: str, text: str, html: str | None = None,
                  message_id: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or make_msgid(domain="echri-portal.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class _ConsoleTransport:
    """Development: print the text part and keep the whole message as an .eml file."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: EmailMessage) -> None:
        path = self.folder / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(message))
        print(f"--- mail to {message['To']}: {message['Subject']} (saved to {path})", file=sys.stderr)
        body = message.get_body(("plain",))
        if body is not None:
            print(body.get_content(), file=sys.stderr)


class _SmtpTransport:
    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp

    def send(self, message: EmailMessage) -> None:
        self.smtp.send_message(message)


@contextmanager
def transport(config: Mapping[str, Any], instance_path: str) -> Iterator[Transport]:
    """One connection for many messages (the outbox worker sends in batches)."""
    backend = config["MAIL_BACKEND"]
    if backend == "console":
        yield _ConsoleTransport(config.get("MAIL_FOLDER") or Path(instance_path) / "mail")
        return
    if backend != "smtp":
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=30) as smtp:
        # SMTP is chatty in small writes; without this, delayed ACKs stall every message.
        assert smtp.sock is not None  # connected by the constructor
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        yield _SmtpTransport(smtp)


def send(config: Mapping[str, Any], instance_path: str, message: EmailMessage) -> None:
    """Deliver one message now; raises on SMTP failure."""
    with transport(config, instance_path) as outgoing:
        outgoing.send(message)
