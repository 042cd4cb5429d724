"""Outgoing e-mail: SMTP in production and tests, console plus .eml files in development."""
from __future__ import annotations

import smtplib
import sys
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Mapping

from portal.models.base import utcnow


def build_message(sender: str, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="echri-portal.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send(config: Mapping[str, Any], instance_path: str, message: EmailMessage) -> None:
    """Deliver `message` with the configured backend; raises on SMTP failure."""
    backend = config["MAIL_BACKEND"]
    if backend == "console":
        folder = Path(instance_path) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(message))
        print(f"--- mail to {message['To']}: {message['Subject']} (saved to {path})", file=sys.stderr)
        print(message.get_body(("plain",)).get_content(), file=sys.stderr)  # type: ignore[union-attr]
        return
    if backend != "smtp":
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=30) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)
