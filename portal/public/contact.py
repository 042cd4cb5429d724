""""Contact the Initiative": messages from outside into the secretariat's inbox.

A message enters no inbox until its sender confirms the address through a signed, expiring link
(itsdangerous, keyed by the app's secret); only then is the acknowledgement sent. Both e-mails
are owed by the message row (`mail_due`) in the operation's transaction and sent by the outbox
worker (`deliver_mail`), so a request never waits on SMTP and a lost mail server loses nothing.
Neither e-mail repeats what the sender wrote: the form cannot be used to mail text to others.
Messages are deleted after the retention period (`purge`).
"""
from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from portal import access, audit, mail
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.models.base import rowcount, utcnow
from portal.models.country import Country
from portal.models.public import (
    CONTACT_TRANSITIONS, ContactMail, ContactMessage, ContactStatus, ContactStep, OrganisationType,
)
from portal.models.user import Role, User, UserStatus
from portal.urls import external_url
from portal.validation import Checker

PUBLIC_ACTOR = "public"
MAX_MESSAGE = 5000
MAX_SUBJECT = 200
MAX_LINE = 200
MAIL_MAX_ATTEMPTS = 5
ORGANISATION_TYPES = {t.value: t.label for t in OrganisationType}
_SALT = "contact-confirm"


def retention_days() -> int:
    return int(current_app.config.get("CONTACT_RETENTION_DAYS", 365))


def confirm_hours() -> int:
    return int(current_app.config.get("CONTACT_CONFIRM_HOURS", 48))


@dataclass(frozen=True)
class CleanContact:
    organisation_type: OrganisationType
    organisation: str
    name: str
    email: str
    country: str
    subject: str
    message: str


def validate(data: Any) -> CleanContact:
    """The form's payload: all fields required, plain text, bounded; a deliverable-looking address."""
    c = Checker(data)
    kind = c.choice("organisation_type", ORGANISATION_TYPES)
    organisation = c.text("organisation", required=True, limit=MAX_LINE)
    name = c.text("name", required=True, limit=MAX_LINE)
    raw_email = c.text("email", required=True, limit=254)
    country = c.text("country", required=True, limit=120)
    subject = c.text("subject", required=True, limit=MAX_SUBJECT)
    message = c.text("message", required=True, limit=MAX_MESSAGE, multiline=True)
    email = ""
    if raw_email:
        try:
            email = validate_email(raw_email, check_deliverability=False).normalized
        except EmailNotValidError:
            c.fail("email", "Enter an e-mail address like name@example.org.")
    if c.errors:
        raise ValidationFailed("Some fields need attention.", c.errors)
    assert kind is not None
    return CleanContact(OrganisationType(kind), organisation, name, email, country, subject, message)


def submit(session: Session, data: Any) -> ContactMessage:
    """Keep an unconfirmed message and owe its sender the confirmation e-mail."""
    clean = validate(data)
    message = ContactMessage(id=uuid.uuid4(), organisation_type=clean.organisation_type,
                             organisation=clean.organisation, name=clean.name, email=clean.email,
                             country=clean.country, subject=clean.subject, message=clean.message,
                             status=ContactStatus.UNCONFIRMED, mail_due=ContactMail.CONFIRM, created_at=utcnow())
    session.add(message)
    session.commit()
    return message


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def confirmation_token(message: ContactMessage) -> str:
    return _serializer().dumps(str(message.id))


def confirm(session: Session, token: str) -> ContactMessage:
    """The sender followed the link: the message enters the inbox and the acknowledgement is owed.
    NotFound for a bad, expired or used link, or a message deleted meanwhile."""
    try:
        raw = _serializer().loads(token, max_age=confirm_hours() * 3600)
        message_id = uuid.UUID(str(raw))
    except (SignatureExpired, BadSignature, ValueError):
        raise NotFound("This confirmation link is not valid or has expired. Please send your message again.") from None
    message = session.get(ContactMessage, message_id, with_for_update=True)
    if message is None or message.status not in CONTACT_TRANSITIONS[ContactStep.CONFIRM][0]:
        raise NotFound("This confirmation link is not valid or has expired. Please send your message again.")
    message.status = CONTACT_TRANSITIONS[ContactStep.CONFIRM][1]
    message.confirmed_at = utcnow()
    message.mail_due = ContactMail.ACKNOWLEDGE
    message.mail_attempts = 0
    audit.record(session, "contact.confirmed", actor_label=PUBLIC_ACTOR, target_type="contact_message",
                 target_id=message.id)
    session.commit()
    return message


# --- e-mail (the outbox worker) ---------------------------------------------------------------

def _compose(message: ContactMessage) -> tuple[str, str]:
    reference = str(message.id)[:8].upper()
    days = retention_days()
    if message.mail_due is ContactMail.CONFIRM:
        link = external_url("public.contact_confirm", token=confirmation_token(message))
        return ("Confirm your message to the Export Controls and Human Rights Initiative",
                "Someone, hopefully you, sent a message to the Export Controls and Human Rights Initiative "
                "using this e-mail address.\n\n"
                f"To confirm your address and deliver the message, open this link within {confirm_hours()} hours:\n\n"
                f"{link}\n\n"
                "If you did not write to us, ignore this e-mail: the message will be deleted unread.\n")
    if message.consultation is not None:
        # The call's title and state are public already; nothing the sender wrote is repeated.
        state = message.consultation.originator.name
        return ("We received your response (reference " + reference + ")",
                f"Thank you for responding to the public consultation of {state}, "
                f"“{message.consultation.title}”. Your address is confirmed and your response "
                f"(reference {reference}) is with {state}.\n\n"
                f"It is kept for {days} days and then deleted.\n")
    return ("We received your message (reference " + reference + ")",
            "Thank you for writing to the Export Controls and Human Rights Initiative. Your address is "
            f"confirmed and your message (reference {reference}) is with the secretariat.\n\n"
            f"We keep messages for {days} days and then delete them.\n")


def deliver_mail(session: Session, limit: int = 100) -> int:
    """Send the e-mails messages owe their senders; returns how many were sent. A refused
    recipient is retried a few times and then given up; a lost connection stops the round."""
    due = list(session.scalars(select(ContactMessage).where(ContactMessage.mail_due.is_not(None))
                               .order_by(ContactMessage.created_at).limit(limit)))
    if not due:
        return 0
    sent = 0
    config = current_app.config
    with mail.transport(config, current_app.instance_path) as outgoing:
        for message in due:
            subject, text = _compose(message)
            try:
                outgoing.send(mail.build_message(config["MAIL_SENDER"], message.email, subject, text))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
                message.mail_attempts += 1
                if message.mail_attempts >= MAIL_MAX_ATTEMPTS:
                    message.mail_due = None
                session.commit()
                continue
            message.mail_due = None
            session.commit()
            sent += 1
    return sent


# --- the inbox (signed in) ---------------------------------------------------------------------

def inbox(session: Session, actor: User) -> list[ContactMessage]:
    """The actor's inbox, open messages first, newest first."""
    if not access.can_view_contact_inbox(actor):
        raise NotFound()
    return list(session.scalars(select(ContactMessage).where(access.contact_messages_filter(actor))
                                .order_by(ContactMessage.status, ContactMessage.created_at.desc()).limit(500)))


def get_message(session: Session, actor: User, message_id: uuid.UUID) -> ContactMessage:
    message = session.scalar(select(ContactMessage).where(ContactMessage.id == message_id,
                                                          access.contact_messages_filter(actor)))
    if message is None or not access.can_view_contact_message(actor, message):
        raise NotFound()
    return message


def _step(session: Session, actor: User, message: ContactMessage, step: ContactStep) -> None:
    if not access.can_take_contact_step(actor, message, step):
        raise Forbidden("Only the secretariat handles messages from outside.")
    message.status = CONTACT_TRANSITIONS[step][1]


def mark_handled(session: Session, actor: User, message: ContactMessage) -> None:
    """The secretariat marks the message handled."""
    _step(session, actor, message, ContactStep.HANDLE)
    message.handled_at = utcnow()
    audit.record(session, "contact.handled", actor=actor, target_type="contact_message", target_id=message.id)
    session.commit()


def reopen(session: Session, actor: User, message: ContactMessage) -> None:
    """The secretariat reopens a handled message."""
    _step(session, actor, message, ContactStep.REOPEN)
    message.handled_at = None
    audit.record(session, "contact.reopened", actor=actor, target_type="contact_message", target_id=message.id)
    session.commit()


def forward_targets(session: Session) -> list[Country]:
    """States with an active point of contact (forwarding to a state nobody reads helps no one)."""
    with_spoc = select(User.country_code).where(User.role == Role.SPOC, User.status == UserStatus.ACTIVE)
    return list(session.scalars(select(Country).where(Country.code.in_(with_spoc)).order_by(Country.name)))


def forward(session: Session, actor: User, message: ContactMessage, country_code: Any) -> None:
    """The secretariat forwards the message to a state's point of contact, who then sees it in their inbox."""
    _step(session, actor, message, ContactStep.FORWARD)
    codes = {c.code for c in forward_targets(session)}
    if not isinstance(country_code, str) or country_code not in codes:
        raise ValidationFailed("Some fields need attention.",
                               {"country": "Choose a state that has an active point of contact."})
    message.forwarded_to_code = country_code
    message.forwarded_at = utcnow()
    audit.record(session, "contact.forwarded", actor=actor, target_type="contact_message", target_id=message.id,
                 details={"country": country_code})
    session.commit()


def delete_message(session: Session, actor: User, message: ContactMessage) -> None:
    """The secretariat deletes the message (and the sender's details with it) now."""
    if not access.can_delete_contact_message(actor, message):
        raise Forbidden("Only the secretariat deletes messages from outside.")
    audit.record(session, "contact.deleted", actor=actor, target_type="contact_message", target_id=message.id)
    session.delete(message)
    session.commit()


def purge(session: Session, now: datetime | None = None) -> int:
    """Delete messages past the retention period, and unconfirmed ones whose link has expired;
    returns how many (for the outbox worker and `flask contact purge`)."""
    now = now or utcnow()
    kept_until = now - timedelta(days=retention_days())
    unconfirmed_until = now - timedelta(hours=confirm_hours())
    result = session.execute(delete(ContactMessage).where(or_(
        ContactMessage.created_at < kept_until,
        (ContactMessage.status == ContactStatus.UNCONFIRMED) & (ContactMessage.created_at < unconfirmed_until))))
    count = rowcount(result)
    if count:
        audit.record(session, "contact.purged", actor_label="system", details={"messages": count})
    session.commit()
    return count
