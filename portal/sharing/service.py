"""Operations on shared items. Each takes the actor, checks access.py, writes, audits, commits."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import access, audit, validation, versions
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.models.audit import AuditEntry
from portal.models.base import utcnow
from portal.models.country import Country, CountryStatus
from portal.models.item import (
    DENIAL_TRANSITIONS, ITEM_TRANSITIONS, DenialStatus, Item, ItemAudienceCountry, ItemCategory, ItemEvent,
    ItemEventKind, ItemKind, ItemStatus, ItemStep, ItemVersion, ItemVersionAudienceCountry, Tlp,
)
from portal.models.user import User
from portal.attachments import service as attachments
from portal.notifications import alerts
from portal.public import service as public
from portal.screening.parties import sync_parties
from portal.sharing import search
from portal.sharing.schema import MAX_NOTE, CleanItem, validate

REVIEW_YEARS = 3


def get_visible_item(session: Session, actor: User, item_id: uuid.UUID, kind: ItemKind | None = None) -> Item:
    """The item if `actor` may see it (and it is of `kind`); NotFound otherwise."""
    query = select(Item).where(Item.id == item_id, access.items_filter(actor))
    if kind is not None:
        query = query.where(Item.kind == kind)
    item = session.scalar(query)
    if item is None:
        raise NotFound()
    return item


def _check_audience(session: Session, actor: User, clean: CleanItem, originator: str | None) -> None:
    if not access.may_mark(actor, clean.tlp):
        raise ValidationFailed("Some fields need attention.", {"tlp": "An API client cannot mark an item TLP:RED."})
    named = [c for c in clean.countries if c != originator]
    # The originator always sees its own item: naming only itself leaves TLP:RED with no audience.
    if clean.tlp is Tlp.RED and not named:
        raise ValidationFailed("Some fields need attention.", {
            "audience.countries": "TLP:RED needs at least one named state besides your own."})
    if named:
        known = {c.code: c for c in session.scalars(select(Country).where(Country.code.in_(named)))}
        unknown = [c for c in named if c not in known]
        observers = [c for c in named if c in known and known[c].status is CountryStatus.OBSERVER]
        if unknown:
            raise ValidationFailed("Some fields need attention.",
                                   {"audience.countries": f"Not in the register: {', '.join(unknown)}."})
        if observers:
            raise ValidationFailed("Some fields need attention.", {
                "audience.countries": f"{', '.join(observers)} are observer states: release to observers instead "
                                      "(TLP:CLEAR or GREEN only)."})
    clean.countries = named


def _check_national_ref(session: Session, clean: CleanItem, originator: str | None, item: Item | None) -> None:
    # Checked before any write: the unique constraint fires at the first (auto)flush, long
    # before _commit could turn it into a field error. The constraint still guards races.
    ref = clean.details.get("national_ref")
    if not ref:
        return
    query = select(Item.id).where(Item.originator_code == originator, Item.national_ref == ref)
    if item is not None:
        query = query.where(Item.id != item.id)
    if session.scalar(query.limit(1)) is not None:
        raise ValidationFailed("Some fields need attention.",
                               {"national_ref": "Your state already has a notification with this national reference."})


def _apply(session: Session, item: Item, clean: CleanItem, actor: User) -> None:
    item.title, item.summary, item.body, item.tlp = clean.title, clean.summary, clean.body, clean.tlp
    item.all_subscribing, item.to_secretariat, item.to_observers = (
        clean.all_subscribing, clean.secretariat, clean.observers)
    item.details = clean.details
    item.severity = clean.details.get("severity")
    item.category = clean.details.get("category")
    item.national_ref = clean.details.get("national_ref") or None  # two drafts without one do not collide
    wanted = set(clean.countries)
    item.audience_countries = [a for a in item.audience_countries if a.country_code in wanted] + [
        ItemAudienceCountry(country_code=c) for c in sorted(wanted - set(item.named_countries))]
    item.categories = [c for c in item.categories if c.slug in clean.categories] + [
        ItemCategory(slug=s) for s in clean.categories if s not in item.category_slugs]
    item.updated_at = utcnow()
    search.index_item(session, item)
    # Attachments' data keys are wrapped per audience state: add and delete wraps with the change.
    attachments.sync_wraps(session, item, actor=actor)


def _note(text: str, field: str, missing: str) -> str:
    """A reason or change note: required, multi-line text without control characters, at most 4000 characters."""
    value, problem = validation.clean_text(text, multiline=True)
    if not value:
        raise ValidationFailed(missing, {field: missing})
    if problem:
        raise ValidationFailed("Some fields need attention.", {field: problem})
    if len(value) > MAX_NOTE:  # refused, not cut short: the writer should know what was kept
        raise ValidationFailed("Some fields need attention.", {field: f"Must be at most {MAX_NOTE} characters."})
    return value


def _commit(session: Session, field: str = "national_ref") -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ValidationFailed("Some fields need attention.",
                               {field: "Your state already has a notification with this national reference."}) from None


def _event(session: Session, item: Item, kind: ItemEventKind, actor: User, note: str | None = None) -> None:
    """Record a lifecycle event, audit it, and queue its alerts, all in the caller's transaction."""
    session.add(ItemEvent(item_id=item.id, kind=kind, actor_id=actor.id, version=item.version, note=note))
    audit.record(session, f"item.{kind.value}", actor=actor, target_type=item.kind.value, target_id=item.id,
                 details={"version": item.version, "tlp": item.tlp.value})
    session.flush()
    alerts.on_item_event(session, item, kind, actor)


def create_draft(session: Session, actor: User, kind: ItemKind, payload: dict[str, Any]) -> Item:
    """Create a draft for the actor's state (or the secretariat's own document)."""
    if not access.can_create_items(actor, kind):
        raise Forbidden("You may not create this kind of item.")
    clean = validate(kind, payload, draft=True)
    originator = actor.country_code
    _check_audience(session, actor, clean, originator)
    _check_national_ref(session, clean, originator, None)
    item = Item(id=uuid.uuid4(), kind=kind, status=ItemStatus.DRAFT, originator_code=originator, version=0,
                created_by_id=actor.id, tlp=clean.tlp, title=clean.title)
    session.add(item)
    _apply(session, item, clean, actor)
    _event(session, item, ItemEventKind.CREATED, actor)
    _commit(session)
    return item


def update_draft(session: Session, actor: User, item: Item, payload: dict[str, Any]) -> None:
    """Replace a draft's fields (drafts only: published items are amended instead)."""
    if not access.can_edit_draft(actor, item):
        raise Forbidden("Only drafts of your own state can be edited.")
    clean = validate(item.kind, payload, draft=True)
    _check_audience(session, actor, clean, item.originator_code)
    _check_national_ref(session, clean, item.originator_code, item)
    _apply(session, item, clean, actor)
    audit.record(session, "item.draft_edited", actor=actor, target_type=item.kind.value, target_id=item.id)
    _commit(session)


def payload_of(item: Item) -> dict[str, Any]:
    """The item's current fields in the shape create and update take (the API's input shape)."""
    return {"title": item.title, "summary": item.summary, "body": item.body, "tlp": item.tlp.value,
            "audience": {"all_subscribing": item.all_subscribing, "countries": item.named_countries,
                         "secretariat": item.to_secretariat, "observers": item.to_observers},
            **(item.details or {})}


def _complete(item: Item) -> None:
    """A draft saved part-filled is checked in full before it goes to its SPOC or its audience."""
    try:
        validate(item.kind, payload_of(item))
    except ValidationFailed as error:
        raise ValidationFailed("Complete the draft first: " + " ".join(
            _sentence(m) for m in error.fields.values()), error.fields) from None


def _sentence(message: str) -> str:
    return message if message.endswith(".") else message + "."


def submit(session: Session, actor: User, item: Item) -> None:
    """An officer asks the state's SPOC to release the draft (complete: every required field)."""
    if access.can_take_step(actor, item, ItemStep.SUBMIT):  # refusal first, then what is missing
        _complete(item)
    _take_step(actor, item, ItemStep.SUBMIT, "Only an officer of the originating state submits a draft for release.")
    item.submitted_at = utcnow()
    _event(session, item, ItemEventKind.SUBMITTED, actor)
    session.commit()


def _add_version(session: Session, actor: User, item: Item, note: str | None) -> None:
    item.version += 1
    # The version keeps the marking and audience it is released under: later changes to the
    # item never widen who may read it (access.versions_filter).
    session.add(ItemVersion(item_id=item.id, version=item.version, title=item.title, summary=item.summary,
                            body=item.body, details=item.details, tlp=item.tlp, change_note=note,
                            published_by_id=actor.id, published_at=utcnow(),
                            all_subscribing=item.all_subscribing, to_secretariat=item.to_secretariat,
                            to_observers=item.to_observers,
                            audience_countries=[ItemVersionAudienceCountry(country_code=c)
                                                for c in item.named_countries]))


def _review_date(start: date) -> date:
    try:
        return start.replace(year=start.year + REVIEW_YEARS)
    except ValueError:  # 29 February
        return start.replace(year=start.year + REVIEW_YEARS, day=28)


def _decision_date(item: Item) -> date | None:
    """The denial's decision date (validated as ISO by the schema), from which its review runs."""
    raw = (item.details or {}).get("decision_date")
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _take_step(actor: User, item: Item, step: ItemStep, refused: str) -> None:
    """Move the item along its lifecycle tables (and its denial status), or refuse."""
    if not access.can_take_step(actor, item, step):
        raise Forbidden(refused)
    item.status = ITEM_TRANSITIONS[step][1]
    denial_step = DENIAL_TRANSITIONS.get(step)
    if item.kind is ItemKind.DENIAL and denial_step and item.denial_status in denial_step[0]:
        item.denial_status = denial_step[1]


def publish(session: Session, actor: User, item: Item) -> None:
    """Release a draft to its audience as version 1."""
    if access.can_take_step(actor, item, ItemStep.PUBLISH):  # refusal first, then what is missing
        _complete(item)
    _take_step(actor, item, ItemStep.PUBLISH, "Only the originating state's point of contact publishes a draft.")
    now = utcnow()
    item.published_at = now
    if item.kind is ItemKind.DENIAL:
        item.denial_status = DenialStatus.ACTIVE
        item.review_date = _review_date(_decision_date(item) or now.date())
    _add_version(session, actor, item, None)
    search.index_item(session, item)
    sync_parties(session, item)
    _event(session, item, ItemEventKind.PUBLISHED, actor)
    session.commit()


def amend(session: Session, actor: User, item: Item, payload: dict[str, Any], change_note: str) -> None:
    """Publish a new version of a published item, with a change note."""
    if not access.can_amend(actor, item):
        raise Forbidden("Only the originating state's point of contact amends a published item.")
    change_note = _note(change_note, "change_note", "Say what changed in this version.")
    clean = validate(item.kind, payload)
    _check_audience(session, actor, clean, item.originator_code)
    _check_national_ref(session, clean, item.originator_code, item)
    _apply(session, item, clean, actor)
    _take_step(actor, item, ItemStep.AMEND, "")
    _add_version(session, actor, item, change_note)
    sync_parties(session, item)
    public.end_if_ineligible(session, item, actor)  # amended to another marking: off the public side
    _event(session, item, ItemEventKind.AMENDED, actor, change_note)
    _commit(session)


def amend_with_file(session: Session, actor: User, item: Item, filename: str) -> None:
    """Adding a file to a published item is an amendment: a new version saying which file came,
    a history entry and the audience's alerts, in the upload's transaction (it commits)."""
    _take_step(actor, item, ItemStep.AMEND, "Only the originating state's point of contact amends a published item.")
    note = f"Attachment added: {filename}"[:2000]
    _add_version(session, actor, item, note)
    _event(session, item, ItemEventKind.AMENDED, actor, note)


def withdraw(session: Session, actor: User, item: Item, reason: str) -> None:
    """Withdraw a published item: its audience sees only the notice and the reason."""
    if not access.can_withdraw(actor, item):
        raise Forbidden("Only the originating state's point of contact withdraws an item.")
    reason = _note(reason, "reason", "Give the reason for withdrawal.")
    _take_step(actor, item, ItemStep.WITHDRAW, "")
    item.withdrawn_at = utcnow()
    item.withdrawal_reason = reason
    search.index_item(session, item)
    sync_parties(session, item)
    public.end_if_ineligible(session, item, actor)  # a withdrawn item leaves the public side
    _event(session, item, ItemEventKind.WITHDRAWN, actor, item.withdrawal_reason)
    session.commit()


def _published_denial(actor: User, item: Item) -> None:
    if (item.kind is not ItemKind.DENIAL or item.status is not ItemStatus.PUBLISHED
            or not access.can_release(actor, item)):
        raise Forbidden("Only the denying state's point of contact changes a published denial.")


def revoke_denial(session: Session, actor: User, item: Item, reason: str) -> None:
    """Record that the denying state revoked its denial (the notification stays readable)."""
    _published_denial(actor, item)
    if item.denial_status is DenialStatus.REVOKED:
        raise ValidationFailed("This denial is already revoked.")
    reason = _note(reason, "reason", "Give the reason for revocation.")
    _take_step(actor, item, ItemStep.REVOKE, "Only the denying state's point of contact revokes a denial.")
    sync_parties(session, item)
    _event(session, item, ItemEventKind.REVOKED, actor, reason)
    session.commit()


def renew_denial(session: Session, actor: User, item: Item, note: str = "") -> None:
    """Renew a denial at review: it stays in force for another three years from today (`note`: why)."""
    _published_denial(actor, item)
    if item.denial_status is DenialStatus.REVOKED:
        raise ValidationFailed("A revoked denial cannot be renewed; notify a new denial instead.")
    _take_step(actor, item, ItemStep.RENEW, "Only the denying state's point of contact renews a denial.")
    item.review_date = _review_date(utcnow().date())
    sync_parties(session, item)
    _event(session, item, ItemEventKind.RENEWED, actor, note.strip() or f"Review date {item.review_date.isoformat()}")
    session.commit()


def lapse_overdue_denials(session: Session, today: date | None = None) -> int:
    """Mark denials past their review date as lapsed (for cron); returns how many."""
    today = today or utcnow().date()
    overdue = session.scalars(select(Item).where(
        Item.kind == ItemKind.DENIAL, Item.status == ItemStatus.PUBLISHED,
        Item.denial_status.in_(DENIAL_TRANSITIONS["lapse"][0]), Item.review_date < today)).all()
    for item in overdue:
        item.denial_status = DENIAL_TRANSITIONS["lapse"][1]
        sync_parties(session, item)
        session.add(ItemEvent(item_id=item.id, kind=ItemEventKind.LAPSED, actor_id=None, version=item.version,
                              note=f"Not renewed by its review date {item.review_date}"))
        audit.record(session, "item.lapsed", actor_label="system", target_type="denial", target_id=item.id)
    session.commit()
    return len(overdue)


def record_open(session: Session, actor: User, item: Item) -> None:
    """Note the first time a user of another state opens a live item (read receipts)."""
    if not item.is_live or access.is_originator(actor, item) or actor.country_code == item.originator_code:
        return
    seen = session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "item.opened", AuditEntry.target_id == str(item.id),
        AuditEntry.actor_id == str(actor.id)).limit(1))
    if seen is None:
        audit.record(session, "item.opened", actor=actor, target_type=item.kind.value, target_id=item.id,
                     details={"version": item.version})
        session.commit()


def events(session: Session, actor: User, item: Item) -> list[ItemEvent]:
    """The item's history as `actor` may read it: events (and their notes) of versions released to them."""
    return list(session.scalars(select(ItemEvent).join(Item, Item.id == ItemEvent.item_id)
                                .where(ItemEvent.item_id == item.id, access.events_filter(actor))
                                .order_by(ItemEvent.id)))


def released_versions(session: Session, actor: User, item: Item) -> list[ItemVersion]:
    """The published versions released to `actor`, newest first (none for a withdrawn item: only its
    notice remains)."""
    return versions.newest_first(session, ItemVersion, ItemVersion.item_id == item.id, access.versions_filter(actor),
                                 join=(Item, Item.id == ItemVersion.item_id))


def get_version(session: Session, actor: User, item: Item, number: int) -> ItemVersion | None:
    """Version `number` of `item` if it was released to `actor`; None otherwise."""
    return versions.numbered(session, ItemVersion, ItemVersion.item_id == item.id, number,
                             access.versions_filter(actor), join=(Item, Item.id == ItemVersion.item_id))
