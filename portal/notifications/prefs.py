"""Alert preferences: what each user gets, immediately, in a daily digest, or not at all."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit
from portal.errors import ValidationFailed
from portal.models.item import Item, ItemKind
from portal.models.notification import AlertTopic, DeliveryMode, Subscription
from portal.models.user import Role, User
from portal.kinds import SEVERITIES, THREAT_CATEGORIES

SEVERITY_ORDER = list(SEVERITIES)  # low < medium < high < critical


@dataclass
class Preference:
    mode: DeliveryMode
    min_severity: str | None = None
    categories: list[str] = field(default_factory=list)


def default_preference(user: User, topic: AlertTopic) -> Preference:
    """Defaults by role: SPOCs and officers hear at once of denials and high or critical notices."""
    if user.role in (Role.SPOC, Role.OFFICER) and not user.is_observer:
        if topic is AlertTopic.THREAT_NOTICES:
            return Preference(DeliveryMode.IMMEDIATE, min_severity="high")
        if topic in (AlertTopic.DENIALS, AlertTopic.MEETINGS, AlertTopic.CONSULTATIONS):
            return Preference(DeliveryMode.IMMEDIATE)
        return Preference(DeliveryMode.DIGEST)
    if user.role is Role.SECRETARIAT and topic in (AlertTopic.DOCUMENTS, AlertTopic.MEETINGS):
        return Preference(DeliveryMode.IMMEDIATE)
    return Preference(DeliveryMode.DIGEST)


def preferences(session: Session, user: User) -> dict[AlertTopic, Preference]:
    stored = {s.topic: s for s in session.scalars(select(Subscription).where(Subscription.user_id == user.id))}
    result = {}
    for topic in AlertTopic:
        row = stored.get(topic)
        result[topic] = (Preference(row.mode, row.min_severity, list(row.categories or []))
                         if row else default_preference(user, topic))
    return result


def preferences_for_users(session: Session, users: list[User]) -> dict[object, dict[AlertTopic, Preference]]:
    """Everyone's preferences in one query (for fan-out)."""
    rows: dict[object, dict[AlertTopic, Subscription]] = {}
    ids = [u.id for u in users]
    for start in range(0, len(ids), 500):
        for row in session.scalars(select(Subscription).where(Subscription.user_id.in_(ids[start:start + 500]))):
            rows.setdefault(row.user_id, {})[row.topic] = row
    result: dict[object, dict[AlertTopic, Preference]] = {}
    for user in users:
        mine = rows.get(user.id, {})
        result[user.id] = {t: (Preference(mine[t].mode, mine[t].min_severity, list(mine[t].categories or []))
                               if t in mine else default_preference(user, t)) for t in AlertTopic}
    return result


def delivery_for(pref: Preference, item: Item) -> DeliveryMode:
    """How this item reaches someone with `pref`: a notice below the chosen severity, or outside
    the chosen categories, waits for the digest instead of arriving at once."""
    if pref.mode is not DeliveryMode.IMMEDIATE or item.kind is not ItemKind.THREAT_NOTICE:
        return pref.mode
    if pref.min_severity and item.severity in SEVERITY_ORDER and (
            SEVERITY_ORDER.index(item.severity) < SEVERITY_ORDER.index(pref.min_severity)):
        return DeliveryMode.DIGEST
    if pref.categories and not set(pref.categories) & set(item.category_slugs):
        return DeliveryMode.DIGEST
    return DeliveryMode.IMMEDIATE


def save_preference(session: Session, actor: User, topic: AlertTopic, mode: DeliveryMode,
                    min_severity: str | None = None, categories: list[str] | None = None) -> None:
    """Store the actor's own choice for one topic."""
    _store(session, actor, topic, Preference(mode, min_severity, categories or []))
    session.commit()


def save_preferences(session: Session, actor: User, choices: Mapping[AlertTopic, Preference]) -> None:
    """Store the actor's choices for several topics at once (all or none)."""
    for topic, choice in choices.items():
        _store(session, actor, topic, choice)
    session.commit()


def _store(session: Session, actor: User, topic: AlertTopic, choice: Preference) -> None:
    mode, min_severity, categories = choice.mode, choice.min_severity, choice.categories
    if min_severity and min_severity not in SEVERITIES:
        raise ValidationFailed("Unknown severity.", {"min_severity": "Choose a severity from the list."})
    unknown = [c for c in categories or [] if c not in THREAT_CATEGORIES]
    if unknown:
        raise ValidationFailed("Unknown category.", {"categories": f"Unknown: {', '.join(unknown)}"})
    row = session.get(Subscription, (actor.id, topic))
    if row is None:
        row = Subscription(user_id=actor.id, topic=topic, mode=mode)
        session.add(row)
    row.mode = mode
    row.min_severity = min_severity if topic is AlertTopic.THREAT_NOTICES else None
    row.categories = sorted(categories or []) if topic is AlertTopic.THREAT_NOTICES else []
    audit.record(session, "subscription.changed", actor=actor, target_type="user", target_id=actor.id,
                 details={"topic": topic.value, "mode": mode.value, "min_severity": row.min_severity,
                          "categories": row.categories})
