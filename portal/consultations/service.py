"""Consultations: open, write, answer, close. Each operation takes the actor, checks
portal.access, writes, audits (ids, statuses, counts only), queues alerts, and commits once."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.consultations import notify, schema
from portal.errors import Forbidden, NotFound
from portal.models.base import utcnow
from portal.models.consultation import (
    CONSULTATION_TRANSITIONS, Consultation, ConsultationMessage, ConsultationOutcome, ConsultationStep, GrantNotice,
    MessageKind,
)
from portal.models.item import Item, ItemKind, ItemStatus
from portal.models.user import User
from portal.pagination import Page, paginate
from portal.sharing import service as sharing


def _today() -> date:
    return utcnow().date()


def get_visible(session: Session, actor: User, consultation_id: uuid.UUID) -> Consultation:
    """The consultation if `actor` takes part in it (A's or B's SPOCs and officers); NotFound otherwise."""
    found = session.scalar(select(Consultation).where(Consultation.id == consultation_id,
                                                      access.consultations_filter(actor)))
    if found is None:
        raise NotFound()
    return found


def list_for(session: Session, actor: User, args: Mapping[str, Any]) -> Page[Consultation]:
    """The consultations the actor takes part in, newest first."""
    query = select(Consultation).where(access.consultations_filter(actor)).order_by(Consultation.created_at.desc())
    return paginate(session, query, args)


def denial_for_opening(session: Session, actor: User, denial_id: uuid.UUID) -> Item:
    """The denial B wants to consult about: NotFound unless B sees it, Forbidden unless B may consult."""
    denial = sharing.get_visible_item(session, actor, denial_id, ItemKind.DENIAL)
    if not access.can_open_consultation(actor, denial):
        raise Forbidden("Only points of contact and officers of another state consult about a published denial.")
    return denial


def _audit(session: Session, action: str, actor: User, consultation: Consultation, **details: Any) -> None:
    audit.record(session, f"consultation.{action}", actor=actor, target_type="consultation",
                 target_id=consultation.id, details={"denial_id": str(consultation.denial_id),
                                                     "status": consultation.status.value, **details})


def open_consultation(session: Session, actor: User, payload: Any) -> Consultation:
    """B opens a consultation with the denying state A about A's denial."""
    clean = schema.validate_opening(payload, _today())
    denial = denial_for_opening(session, actor, clean.denial_id)
    assert denial.originator_code is not None and actor.country_code is not None
    now = utcnow()
    consultation = Consultation(
        id=uuid.uuid4(), denial_id=denial.id, denying_code=denial.originator_code,
        consulting_code=actor.country_code, denial=denial, tlp=denial.tlp, applicant=clean.applicant,
        consignee=clean.consignee,
        end_user=clean.end_user, item_description=clean.item_description, control_entries=clean.control_entries,
        destination=clean.destination, end_use=clean.end_use, question=clean.question, deadline=clean.deadline,
        opened_by_id=actor.id, created_at=now, updated_at=now)
    session.add(consultation)
    session.flush()
    _audit(session, "opened", actor, consultation, deadline=clean.deadline.isoformat(), tlp=consultation.tlp.value)
    notify.notify_parties(session, consultation, "opened", consultation.denying_code, actor=actor)
    session.commit()
    return consultation


def _add_message(session: Session, actor: User, consultation: Consultation, kind: MessageKind, body: str,
                 **fields: Any) -> ConsultationMessage:
    assert actor.country_code is not None
    message = ConsultationMessage(id=uuid.uuid4(), consultation_id=consultation.id, kind=kind,
                                  country_code=actor.country_code, author_id=actor.id, body=body,
                                  created_at=utcnow(), **fields)
    session.add(message)
    consultation.messages.append(message)
    consultation.updated_at = message.created_at
    return message


def _other_side(actor: User, consultation: Consultation) -> str:
    mine_is_a = actor.country_code == consultation.denying_code
    return consultation.consulting_code if mine_is_a else consultation.denying_code


def post_message(session: Session, actor: User, consultation: Consultation, payload: Any) -> ConsultationMessage:
    """Either state writes in the thread, until the consultation is closed."""
    if not access.can_post_message(actor, consultation):
        raise Forbidden("This consultation is closed.")
    body = schema.validate_message(payload)
    message = _add_message(session, actor, consultation, MessageKind.MESSAGE, body)
    session.flush()
    _audit(session, "message_posted", actor, consultation, message_id=str(message.id),
           messages=len(consultation.messages))
    notify.notify_parties(session, consultation, "message", _other_side(actor, consultation), actor=actor,
                          message=message)
    session.commit()
    return message


def answer(session: Session, actor: User, consultation: Consultation, payload: Any) -> ConsultationMessage:
    """The denying state gives its position (no objection, objection, more information needed)."""
    if not access.can_answer(actor, consultation):
        raise Forbidden("Only the denying state answers, until the consultation is closed.")
    position, reasons = schema.validate_answer(payload)
    message = _add_message(session, actor, consultation, MessageKind.ANSWER, reasons, position=position)
    consultation.position = position
    consultation.status = _target(ConsultationStep.ANSWER)
    consultation.answered_at = message.created_at
    session.flush()
    _audit(session, "answered", actor, consultation, answer=position.value, message_id=str(message.id))
    notify.notify_parties(session, consultation, "answered", consultation.consulting_code, actor=actor,
                          message=message)
    session.commit()
    return message


def _target(step: ConsultationStep) -> Any:
    target = CONSULTATION_TRANSITIONS[step][1]
    assert target is not None
    return target


def close(session: Session, actor: User, consultation: Consultation, payload: Any) -> ConsultationMessage:
    """B records its decision. Granting notifies every state in the denial's audience, with B's reasons."""
    if not access.can_close(actor, consultation):
        raise Forbidden("Only the consulting state closes the consultation, once.")
    outcome, reasons = schema.validate_closing(payload)
    message = _add_message(session, actor, consultation, MessageKind.CLOSING, reasons, outcome=outcome)
    consultation.outcome = outcome
    consultation.status = _target(ConsultationStep.CLOSE)
    consultation.closed_at = message.created_at
    session.flush()
    notified = 0
    if outcome is ConsultationOutcome.GRANTED:
        assert actor.country_code is not None
        notice = GrantNotice(id=uuid.uuid4(), denial_id=consultation.denial_id, consultation_id=consultation.id,
                             granting_code=actor.country_code, reasons=reasons, created_at=message.created_at)
        session.add(notice)
        session.flush()
        notified = notify.notify_grant(session, notice, consultation.denial, actor)
        audit.record(session, "grant_notice.created", actor=actor, target_type="denial",
                     target_id=consultation.denial_id, details={"consultation_id": str(consultation.id),
                                                                "grant_notice_id": str(notice.id),
                                                                "mails_queued": notified})
    _audit(session, "closed", actor, consultation, outcome=outcome.value, message_id=str(message.id))
    notify.notify_parties(session, consultation, "closed", consultation.denying_code, actor=actor, message=message)
    session.commit()
    return message


def grant_notices_for(session: Session, actor: User, denial: Item) -> list[GrantNotice]:
    """Grant notices about `denial`, for whoever sees the denial (under the denial's marking).
    The audience of a withdrawn denial sees only its withdrawal notice."""
    if denial.status is not ItemStatus.PUBLISHED and not access.is_originator(actor, denial):
        return []
    return list(session.scalars(
        select(GrantNotice).join(Item, Item.id == GrantNotice.denial_id)
        .where(GrantNotice.denial_id == denial.id, access.items_filter(actor))
        .order_by(GrantNotice.created_at)))


def denial_form_data(session: Session, actor: User, consultation_id: uuid.UUID) -> dict[str, Any]:
    """B's own denial, prefilled from a consultation it closed as denied (the denial form's data)."""
    consultation = get_visible(session, actor, consultation_id)
    if not access.can_record_own_denial(actor, consultation):
        raise NotFound()
    denial = consultation.denial
    parties = [{"role": "end_user", "name": consultation.end_user, "aliases": "", "address": "",
                "country": consultation.destination}]
    if consultation.consignee:
        parties.append({"role": "consignee", "name": consultation.consignee, "aliases": "", "address": "",
                        "country": ""})
    return {
        "title": f"Denial after consultation on {denial.national_ref}"[:300],
        "tlp": consultation.tlp.value, "decision_type": "denial", "activity": "export",
        "basis": denial.details.get("basis"), "reason_codes": list(denial.details.get("reason_codes", [])),
        "item_description": consultation.item_description, "destination": consultation.destination,
        "end_use": consultation.end_use,
        "control_entries": [{"regime": e["regime"], "code": e["code"]} for e in consultation.control_entries],
        "parties": parties,
        "countries": [consultation.denying_code],
    }


def record(consultation: Consultation, *, with_thread: bool = True, today: date | None = None) -> dict[str, Any]:
    """The consultation as the API shows it."""
    today = today or _today()
    data: dict[str, Any] = {
        "id": str(consultation.id), "denial_id": str(consultation.denial_id),
        "denying_state": consultation.denying_code, "consulting_state": consultation.consulting_code,
        "tlp": consultation.tlp.value, "status": consultation.status.value,
        "applicant": consultation.applicant, "consignee": consultation.consignee,
        "end_user": consultation.end_user, "item_description": consultation.item_description,
        "control_entries": consultation.control_entries, "destination": consultation.destination,
        "end_use": consultation.end_use, "question": consultation.question,
        "deadline": consultation.deadline.isoformat(), "overdue": consultation.is_overdue(today),
        "position": consultation.position.value if consultation.position else None,
        "outcome": consultation.outcome.value if consultation.outcome else None,
        "created_at": consultation.created_at.isoformat(),
        "answered_at": consultation.answered_at.isoformat() if consultation.answered_at else None,
        "closed_at": consultation.closed_at.isoformat() if consultation.closed_at else None,
    }
    if with_thread:
        data["messages"] = [message_record(m) for m in consultation.messages]
    return data


def message_record(message: ConsultationMessage) -> dict[str, Any]:
    return {"id": str(message.id), "kind": message.kind.value, "state": message.country_code,
            "body": message.body, "position": message.position.value if message.position else None,
            "outcome": message.outcome.value if message.outcome else None,
            "created_at": message.created_at.isoformat()}
