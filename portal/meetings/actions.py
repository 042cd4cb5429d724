"""Actions and decisions recorded at meetings, and the tracker across meetings.

The secretariat records and updates them. Everyone who sees a meeting sees what it decided
and assigned; the tracker lists all actions for the secretariat and, for a state, the
actions it owns (access.actions_filter).
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.models.base import utcnow
from portal.models.country import Country
from portal.models.meeting import ActionItem, ActionKind, ActionStatus, Meeting
from portal.models.user import User
from portal.pagination import Page, paginate
from portal.validation import Checker

MAX_TEXT = 4000
TRACKER_FILTERS = ("status", "state", "kind", "overdue")


def meeting_actions(session: Session, meeting: Meeting) -> list[ActionItem]:
    """The actions and decisions recorded at `meeting`, in the order they were taken."""
    return list(session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting.id)
                                .order_by(ActionItem.kind, ActionItem.created_at, ActionItem.id)))


def get_action(session: Session, actor: User, action_id: uuid.UUID) -> ActionItem:
    """An action the actor may see on the tracker; NotFound otherwise."""
    found = session.scalar(select(ActionItem).where(ActionItem.id == action_id, access.actions_filter(actor)))
    if found is None:
        raise NotFound()
    return found


def _validate(session: Session, payload: Mapping[str, Any], meeting: Meeting) -> dict[str, Any]:
    c = Checker(dict(payload))
    kind = c.enum("kind", ActionKind, message="Choose action or decision.", default=ActionKind.ACTION)
    text = c.text("text", required=True, limit=MAX_TEXT, multiline=True, missing="Describe the action or decision.")
    owner = c.text("owner_state", limit=10).upper() or None
    if owner and session.get(Country, owner) is None:
        c.fail("owner_state", "Choose a state from the register, or the secretariat.")
    due = c.day("due_date")
    status = ActionStatus.OPEN
    if c.data.get("status"):
        status = c.enum("status", ActionStatus, message="Choose open, done or dropped.", default=ActionStatus.OPEN)
    if kind is ActionKind.DECISION:
        due, status = None, ActionStatus.DONE  # a decision is taken, not carried out later
    elif due is not None and (refusal := access.action_due_refusal(meeting, due)):
        c.fail("due_date", refusal)
    c.done()
    return {"kind": kind, "text": text, "owner_state_code": owner, "due_date": due, "status": status}


def add_action(session: Session, actor: User, meeting: Meeting, payload: Mapping[str, Any]) -> ActionItem:
    """Record an action or decision of a meeting."""
    if not access.can_manage_meetings(actor):
        raise Forbidden("Only the secretariat records actions and decisions.")
    if not access.can_record_actions(actor, meeting):
        raise ValidationFailed("Actions and decisions are recorded for meetings that take place.")
    clean = _validate(session, payload, meeting)
    action = ActionItem(id=uuid.uuid4(), meeting_id=meeting.id, created_by_id=actor.id, **clean)
    session.add(action)
    session.flush()
    audit.record(session, f"meeting.{action.kind.value}_recorded", actor=actor, target_type="meeting_action",
                 target_id=action.id, details={"meeting": str(meeting.id),
                                               "due": action.due_date.isoformat() if action.due_date else None})
    session.commit()
    return action


def update_action(session: Session, actor: User, action: ActionItem, payload: Mapping[str, Any]) -> None:
    """Change an action's text, owner, due date or status."""
    if not access.can_manage_meetings(actor):
        raise Forbidden("Only the secretariat updates actions and decisions.")
    clean = _validate(session, payload, action.meeting)
    before = action.status
    for name, value in clean.items():
        setattr(action, name, value)
    action.updated_at = utcnow()
    audit.record(session, f"meeting.{action.kind.value}_updated", actor=actor, target_type="meeting_action",
                 target_id=action.id, details={"status": action.status.value, "previous_status": before.value})
    session.commit()


def tracker(session: Session, viewer: User, args: Mapping[str, Any]) -> Page[ActionItem]:
    """One page of the tracker: open and overdue first, then by due date."""
    query = select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id).where(access.actions_filter(viewer))
    status = args.get("status")
    if status in {s.value for s in ActionStatus}:
        query = query.where(ActionItem.status == ActionStatus(status))
    kind = args.get("kind")
    if kind in {k.value for k in ActionKind}:
        query = query.where(ActionItem.kind == ActionKind(kind))
    state = str(args.get("state") or "").upper()
    if access.can_manage_meetings(viewer):
        if state == "SECRETARIAT":
            query = query.where(ActionItem.owner_state_code.is_(None))
        elif len(state) == 2:
            query = query.where(ActionItem.owner_state_code == state)
    if args.get("overdue"):
        query = query.where(ActionItem.kind == ActionKind.ACTION, ActionItem.status == ActionStatus.OPEN,
                            ActionItem.due_date < utcnow().date())
    query = query.order_by((ActionItem.status != ActionStatus.OPEN), ActionItem.due_date.is_(None),
                           ActionItem.due_date, Meeting.starts_at.desc(), ActionItem.id)
    return paginate(session, query, args)
