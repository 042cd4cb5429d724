"""The e-mail outbox: written in the event's transaction, sent by a worker with retries.

Delivery is at-least-once towards the SMTP server and exactly-once per (recipient, event)
in the queue: the unique key stops an event from queueing a message twice, and a message is
marked sent in the same transaction that holds its row lock. On PostgreSQL the worker takes
rows with FOR UPDATE SKIP LOCKED, so concurrent workers never pick the same message.
Each Message-ID derives from the outbox id, so a resend after a crash is recognisable.
"""
from __future__ import annotations

import base64
import smtplib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import Flask, current_app
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal import mail
from portal.models.base import utcnow
from portal.models.notification import OutboxMessage, OutboxStatus
from portal.models.user import User, UserStatus

MAX_ATTEMPTS = 8
VisibilityCheck = Callable[[Session, User, str], bool]
Renderer = Callable[[Session, User, dict[str, Any]], "tuple[str, str, str | None] | None"]



@dataclass(frozen=True)
class Registry:
    """Every kind of queued message, listed once by the app factory (portal.notifications.init_app).

    `renderers[name](session, recipient, context)` writes a message at send time, or None to skip;
    `visibility_checks[subject_type](session, recipient, subject_id)` must be true at send time
    or the message is skipped.
    """

    renderers: Mapping[str, Renderer]
    visibility_checks: Mapping[str, VisibilityCheck]


def init_app(app: Flask, registry: Registry) -> None:
    app.extensions["portal.outbox"] = registry


def _registry() -> Registry:
    registry: Registry = current_app.extensions["portal.outbox"]
    return registry


def subject_visible(session: Session, id_column: Any, subject_id: str, visible: ColumnElement[bool]) -> bool:
    """The send-time check every domain's visibility check is made of: the row `subject_id` names
    (in the table of `id_column`) still passes the recipient's access filter `visible`."""
    try:
        key = uuid.UUID(subject_id)
    except ValueError:
        return False
    return session.scalar(select(id_column).where(id_column == key, visible)) is not None


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows, ignoring (recipient, event) pairs already queued; returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(OutboxMessage)
    statement = statement.on_conflict_do_nothing(index_elements=["recipient_id", "event_key"])
    return len(session.execute(statement.returning(OutboxMessage.id), rows).all())  # only new rows return


def _row(recipient: User, event_key: str, **fields: Any) -> dict[str, Any]:
    now = utcnow()
    return {"id": uuid.uuid4(), "recipient_id": recipient.id, "event_key": event_key[:200],
            "status": OutboxStatus.PENDING,
            "attempts": 0, "next_attempt_at": now, "created_at": now, "context": {}, "attachments": [], **fields}


def enqueue(
    session: Session, *, recipient: User, event_key: str, subject: str, text: str, html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (), subject_type: str | None = None, subject_id: str | None = None,
) -> bool:
    """Queue a pre-written message in the caller's transaction; False if this event already queued one."""
    files = [{"filename": n, "mimetype": t, "content": base64.b64encode(c).decode("ascii")} for n, t, c in attachments]
    return _insert(session, [_row(recipient, event_key, subject=subject[:300], text_body=text, html_body=html,
                                  attachments=files, subject_type=subject_type, subject_id=subject_id)]) == 1


def enqueue_rendered(session: Session, recipients: Sequence[User], event_key: str, renderer: str,
                     context: dict[str, Any], subject_type: str | None = None, subject_id: str | None = None) -> int:
    """Queue one message per recipient, rendered at send time by `renderer`; returns how many were new."""
    return _insert(session, [_row(r, event_key, renderer=renderer, context=context, subject_type=subject_type,
                                  subject_id=subject_id) for r in recipients])


def _compose(session: Session, message: OutboxMessage) -> EmailMessage | None:
    recipient = message.recipient
    if recipient.status is not UserStatus.ACTIVE:
        return None
    if message.subject_type is not None:
        check = _registry().visibility_checks.get(message.subject_type)
        if check is None or not check(session, recipient, message.subject_id or ""):
            return None
    if message.renderer is not None:
        rendered = _registry().renderers[message.renderer](session, recipient, message.context)
        if rendered is None:
            return None
        subject, text, html = rendered
    else:
        subject, text, html = message.subject or "", message.text_body or "", message.html_body
    config = current_app.config
    email = mail.build_message(config["MAIL_SENDER"], recipient.email, subject, text, html,
                               message_id=f"<{message.id}@echri-portal.invalid>")
    for file in message.attachments:
        maintype, _, rest = file["mimetype"].partition("/")
        subtype, *raw_params = [part.strip() for part in rest.split(";")]
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)  # e.g. method=REQUEST for calendars
        email.add_attachment(base64.b64decode(file["content"]), maintype=maintype, subtype=subtype,
                             filename=file["filename"], params=params)
    return email


BATCH = 25  # messages locked and committed together: fewer round trips, at most this many resent after a hard crash


def _next_due(session: Session, size: int) -> list[OutboxMessage]:
    query = (select(OutboxMessage)
             .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at).limit(size))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


# Refusals that concern one message; the connection stays usable for the next.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def _record_failure(message: OutboxMessage, error: Exception) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.FAILED
    else:  # exponential backoff: 1, 2, 4 … minutes, at most 6 hours
        message.next_attempt_at = utcnow() + timedelta(minutes=min(2 ** (message.attempts - 1), 360))


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())) or 0


def deliver_pending(session: Session, limit: int = 500) -> int:
    """Send due messages now, in small locked batches; returns how many were sent.

    A connection-level SMTP failure is recorded on the message and re-raised after the batch's
    progress is committed: the rest wait for the next run, their order and attempts intact.
    """
    sent = 0
    config = current_app.config
    if pending_count(session) == 0:
        return 0
    with mail.transport(config, current_app.instance_path) as outgoing:
        while sent < limit:
            batch = _next_due(session, min(BATCH, limit - sent))  # locked until the commit below
            if not batch:
                break
            for message in batch:
                try:
                    email = _compose(session, message)
                    if email is None:
                        message.status = OutboxStatus.SKIPPED
                    else:
                        outgoing.send(email)
                        message.status = OutboxStatus.SENT
                        message.sent_at = utcnow()
                        sent += 1
                except MESSAGE_ERRORS as error:
                    _record_failure(message, error)
                except OSError as error:  # SMTP connection lost (smtplib's errors are OSErrors)
                    _record_failure(message, error)
                    session.commit()
                    raise
                except Exception as error:  # a message that cannot be composed must not block the queue
                    current_app.logger.exception("outbox message %s could not be sent", message.id)
                    _record_failure(message, error)
            session.commit()
    return sent
