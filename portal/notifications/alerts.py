"""Who hears of what: fan-out of item events, the item e-mails, and the daily digest.

Recipients are decided by access.items_filter, the one visibility rule: at event time to
choose whom to queue for, and again at send time so that someone who left the audience, was
disabled, or whose state lost access in between receives nothing.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal import access
from portal.models.base import utcnow
from portal.models.item import Item, ItemEvent, ItemEventKind, ItemStatus
from portal.models.notification import AlertTopic, DeliveryMode, DigestCursor, Notification
from portal.models.user import Role, User, UserStatus
from portal.notifications import outbox
from portal.notifications.prefs import delivery_for, preferences_for_users
from portal.notifications.service import notify_in_portal
from portal.kinds import KINDS
from portal.urls import external_url

NOTIFYING_EVENTS = (ItemEventKind.PUBLISHED, ItemEventKind.AMENDED, ItemEventKind.WITHDRAWN, ItemEventKind.REVOKED)
# Topics whose e-mails are not digested (the digest covers shared items only).
NOT_IN_DIGEST = (AlertTopic.MEETINGS, AlertTopic.CONSULTATIONS)
EVENT_VERBS = {ItemEventKind.PUBLISHED: "published", ItemEventKind.AMENDED: "amended",
               ItemEventKind.WITHDRAWN: "withdrawn", ItemEventKind.REVOKED: "revoked"}


def can_see_item(session: Session, user: User, item_id: str) -> bool:
    """The outbox's send-time check: the recipient still sees the item."""
    return outbox.subject_visible(session, Item.id, item_id, access.items_filter(user))


def audience_users(session: Session, item: Item) -> list[User]:
    """Active users who may see `item`. The filter depends only on role and state, so it is
    asked once per (role, state) group rather than once per person."""
    users = session.scalars(select(User).where(User.status == UserStatus.ACTIVE, User.role != Role.ADMIN)).all()
    groups: dict[tuple[Role, str | None], list[User]] = defaultdict(list)
    for user in users:
        groups[(user.role, user.country_code)].append(user)
    audience: list[User] = []
    for members in groups.values():
        if can_see_item(session, members[0], str(item.id)):
            audience.extend(members)
    return audience


def item_url(item: Item) -> str:
    return external_url("sharing.detail", kind=item.kind, item_id=item.id)


def releasers_of(session: Session, item: Item) -> list[User]:
    """Who may release the item's draft: its state's active points of contact."""
    users = session.scalars(select(User).where(User.status == UserStatus.ACTIVE, User.role == Role.SPOC,
                                               User.country_code == item.originator_code))
    return [u for u in users if access.can_release(u, item)]


def on_submitted(session: Session, item: Item, actor: User) -> None:
    """A draft submitted for release goes into the bell of whoever may release it (caller commits)."""
    recipients = [u for u in releasers_of(session, item) if u.id != actor.id]
    notify_in_portal(session, recipients, f"item:{item.id}:submitted:{item.submitted_at or ''}", KINDS[item.kind].topic,
                     f"Draft submitted for your release: {item.title}", f"/{KINDS[item.kind].slug}/{item.id}",
                     subject_type="item", subject_id=str(item.id), item_id=item.id)


def on_item_event(session: Session, item: Item, event: ItemEventKind, actor: User) -> None:
    """Queue e-mails and in-portal notifications for an item event (caller commits)."""
    if event is ItemEventKind.SUBMITTED:
        on_submitted(session, item, actor)
        return
    if event not in NOTIFYING_EVENTS:
        return
    event_key = f"item:{item.id}:{event.value}:{item.version}"
    recipients = [u for u in audience_users(session, item) if u.id != actor.id]
    if not recipients:
        return
    topic = KINDS[item.kind].topic
    prefs = preferences_for_users(session, recipients)
    immediate = [u for u in recipients if delivery_for(prefs[u.id][topic], item) is DeliveryMode.IMMEDIATE]
    outbox.enqueue_rendered(session, immediate, event_key, "item_alert",
                            {"item_id": str(item.id), "event": event.value},
                            subject_type="item", subject_id=str(item.id))
    title = f"{KINDS[item.kind].label} {EVENT_VERBS[event]}: {item.title}"[:400]
    now = utcnow()
    rows = [{"id": uuid.uuid4(), "user_id": u.id, "event_key": event_key, "topic": topic, "item_id": item.id,
             "subject_type": "item", "subject_id": str(item.id), "title": title,
             "url": f"/{KINDS[item.kind].slug}/{item.id}", "created_at": now} for u in recipients]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Notification).on_conflict_do_nothing(index_elements=["user_id", "event_key"]), rows)


def _mail_context(item: Item) -> dict[str, Any]:
    # TLP in e-mail: CLEAR and GREEN may carry the summary; everything else only the title,
    # kind, originator and a link. The body and attachments never travel by e-mail.
    return {"item": item, "kind_label": KINDS[item.kind].label, "url": item_url(item),
            "show_summary": access.may_email_summary(item),
            "show_reason": item.status is ItemStatus.WITHDRAWN and access.may_email_content(item),
            "content_in_portal_only": not access.may_email_content(item),
            "unsubscribe_url": external_url("notifications.unsubscribe", topic=KINDS[item.kind].topic.value)}


def render_item_alert(session: Session, user: User, context: dict[str, Any]) -> tuple[str, str, str] | None:
    item = session.get(Item, uuid.UUID(context["item_id"]))
    event = ItemEventKind(context["event"])
    if item is None:
        return None
    if item.status is ItemStatus.WITHDRAWN and event is not ItemEventKind.WITHDRAWN:
        return None  # superseded: the withdrawal notice is what they need now
    values = {**_mail_context(item), "user": user, "verb": EVENT_VERBS[event]}
    subject = f"[TLP:{item.tlp.value}] {KINDS[item.kind].label} {EVENT_VERBS[event]}: {item.title}"
    return (subject, render_template("mail/item_alert.txt", **values),
            render_template("mail/item_alert.html", **values))


def send_digests(session: Session, now: datetime | None = None) -> int:
    """Queue one digest per subscriber covering what became visible since their last one."""
    now = now or utcnow()
    users = session.scalars(select(User).where(User.status == UserStatus.ACTIVE, User.role != Role.ADMIN)).all()
    prefs = preferences_for_users(session, list(users))
    cursors = {c.user_id: c for c in session.scalars(select(DigestCursor))}
    queued = 0
    for user in users:
        mine = prefs[user.id]
        if not any(p.mode is not DeliveryMode.OFF for t, p in mine.items() if t not in NOT_IN_DIGEST):
            continue
        cursor = cursors.get(user.id)
        since = cursor.last_sent_at if cursor else now - timedelta(days=1)
        changed = exists().where(ItemEvent.item_id == Item.id, ItemEvent.at > since, ItemEvent.at <= now,
                                 ItemEvent.kind.in_(NOTIFYING_EVENTS))
        items = session.scalars(select(Item).where(access.items_filter(user), Item.status.in_(access.LIVE_STATUSES),
                                                   changed).order_by(Item.kind, Item.published_at.desc())).all()
        chosen = [i for i in items if delivery_for(mine[KINDS[i.kind].topic], i) is DeliveryMode.DIGEST]
        if chosen:
            queued += outbox.enqueue_rendered(session, [user], f"digest:{now.isoformat()}", "digest",
                                              {"item_ids": [str(i.id) for i in chosen], "since": since.isoformat()})
        if cursor is None:
            session.add(DigestCursor(user_id=user.id, last_sent_at=now))
        else:
            cursor.last_sent_at = now
    session.commit()
    return queued


def render_digest(session: Session, user: User, context: dict[str, Any]) -> tuple[str, str, str] | None:
    ids = [uuid.UUID(i) for i in context["item_ids"]]
    items = session.scalars(select(Item).where(Item.id.in_(ids), access.items_filter(user))).all()
    if not items:
        return None
    sections: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in sorted(items, key=lambda i: (i.kind.value, i.title)):
        sections[KINDS[item.kind].topic.label].append(_mail_context(item))
    values = {"user": user, "sections": dict(sections), "count": len(items),
              "preferences_url": external_url("notifications.preferences")}
    subject = f"ECHRI Portal daily digest: {len(items)} update{'s' if len(items) != 1 else ''}"
    return subject, render_template("mail/digest.txt", **values), render_template("mail/digest.html", **values)

