"""THE access policy. Every decision about who may see or do what is made here.

Two shapes of rule: SQL filters (`*_filter`) that lists, searches and exports add to their
queries, and predicates (`can_*`) for single objects and actions. Everything is denied
unless a rule below allows it. Objects a user may not see are reported as missing (404) by
the callers, never as forbidden, so their existence does not leak.
"""
from __future__ import annotations

from collections.abc import Callable
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, case, exists, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from portal.kinds import BY_SLUG, KINDS
from portal.models.attachment import Attachment
from portal.models.consultation import CONSULTATION_TRANSITIONS, Consultation, ConsultationOutcome, ConsultationStep
from portal.models.country import Country, CountryStatus
from portal.models.item import (
    DENIAL_TRANSITIONS, ITEM_TRANSITIONS, DenialStatus, Item, ItemAudienceCountry, ItemEvent, ItemKind, ItemStatus,
    ItemStep, ItemVersion, ItemVersionAudienceCountry, Tlp,
)
from portal.models.identity import StateIdentityProvider
from portal.models.keys import SECRETARIAT_OWNER
from portal.models.public import (
    CONTACT_TRANSITIONS, ContactMessage, ContactStatus, ContactStep, PublicConsultation, PublicItem,
)
from portal.models.meeting import (
    MEETING_TRANSITIONS, ActionItem, AgendaVersion, Attendance, Meeting, MeetingInvitedState, MeetingStatus,
    MeetingStep, Minutes, MinutesComment, MinutesStatus,
)
from portal.models.screening import Screening
from portal.models.user import Role, User, UserStatus

# Endpoints reachable without a logged-in, MFA-complete user. Everything else is protected
# by the default-deny hook in portal.auth.guard; tests walk the URL map against this list.
PUBLIC_ENDPOINTS = frozenset({
    "static",
    "main.health",
    "ops.healthz",
    "ops.readyz",
    "ops.metrics",  # not open: answers 404 unless the scraper's token or address is configured
    "auth.login",
    "auth.login_mfa",
    "auth.login_enrol",
    "webauthn.login_key",  # the second step with a security key: needs the pending login of a right password
    "auth.forgot_password",
    "auth.reset_password",
    "auth.accept_invitation",
    # single sign-on through a state's identity provider: choose the state, go there, come back
    "sso.choose",
    "sso.start",
    "sso.callback",
    "meetings.calendar_feed",  # calendar clients do not sign in: the private token in the URL authenticates
    # OAuth2 for machine clients: the client authenticates itself (secret or signed assertion)
    "oauth.token",
    "oauth.revoke",
    "oauth.introspect",
    "oauth.metadata",  # RFC 8414: describes the server, no data
    "api_docs.openapi",  # the API's OpenAPI description: no data
    # The public side (portal/public/): no sign-in. Each page shows only what public_items_filter
    # and public_attachments_filter allow; the contact form writes only into the secretariat's inbox.
    "public.home",
    "public.guidance",
    "public.guidance_item",
    "public.guidance_file",
    "public.guidance_signature",
    "public.feed",
    "public.contact_form",
    "public.contact_sent",
    "public.contact_confirm",
    "public.consultations_index",
    "public.consultation",
    "public.consultation_respond",
})


def is_admin(user: User) -> bool:
    return user.role is Role.ADMIN


def is_secretariat(user: User) -> bool:
    return user.role is Role.SECRETARIAT


def is_state_user(user: User) -> bool:
    return user.role.belongs_to_state


# --- accounts -------------------------------------------------------------------------

def users_filter(actor: User) -> ColumnElement[bool]:
    """Which accounts `actor` may list and open: admins all, a SPOC its own state's."""
    if is_admin(actor):
        return true()
    if actor.role is Role.SPOC:
        return User.country_code == actor.country_code
    return false()


def can_view_user(actor: User, target: User) -> bool:
    if is_admin(actor):
        return True
    return actor.role is Role.SPOC and target.country_code == actor.country_code


def can_manage_users(actor: User) -> bool:
    """Whether the Users pages are offered at all."""
    return is_admin(actor) or actor.role is Role.SPOC


def invitable_roles(actor: User) -> list[Role]:
    """Admins invite points of contact, secretariat and admins; a SPOC its officers and readers."""
    if is_admin(actor):
        return [Role.SPOC, Role.SECRETARIAT, Role.ADMIN]
    if actor.role is Role.SPOC:
        return [Role.OFFICER, Role.READER]
    return []


def can_invite(actor: User, role: Role, country_code: str | None) -> bool:
    if role not in invitable_roles(actor):
        return False
    if actor.role is Role.SPOC:
        return country_code == actor.country_code
    return True


def can_change_status(actor: User, target: User) -> bool:
    """Disable or re-enable an account. Nobody switches themselves off."""
    if actor.id == target.id:
        return False
    if is_admin(actor):
        return True
    return (
        actor.role is Role.SPOC
        and target.country_code == actor.country_code
        and target.role in (Role.OFFICER, Role.READER)
    )


def can_disable(actor: User, target: User) -> bool:
    return can_change_status(actor, target) and target.status is UserStatus.ACTIVE


def can_enable(actor: User, target: User) -> bool:
    return can_change_status(actor, target) and target.status is UserStatus.DISABLED


def can_resend_invitation(actor: User, target: User) -> bool:
    return target.status is UserStatus.INVITED and can_invite(actor, target.role, target.country_code)


def assignable_roles(actor: User, target: User) -> list[Role]:
    """Roles `actor` may give `target` (its current role included, when allowed at all)."""
    if actor.id == target.id:
        return []
    if is_admin(actor):
        # A role change never moves an account between a state and no state.
        return [r for r in Role if r.belongs_to_state == target.role.belongs_to_state]
    if can_change_status(actor, target):
        return [Role.OFFICER, Role.READER]
    return []


def can_reset_mfa(actor: User, target: User) -> bool:
    return is_admin(actor) and actor.id != target.id and target.status is not UserStatus.DISABLED


def webauthn_required(user: User) -> bool:
    """Whether the user's state requires a security key or passkey at the second sign-in step."""
    return user.country is not None and user.country.webauthn_required


def may_sign_in_with_totp(user: User, *, has_key: bool) -> bool:
    """TOTP stays the fallback, unless the user's state requires WebAuthn and the user has a key."""
    return not (has_key and webauthn_required(user))


def should_register_key(user: User, *, has_key: bool) -> bool:
    """Asked at every sign-in until done: the user's state requires a key and the user has none
    (codes keep working until then, so nobody is locked out by the state's setting)."""
    return not has_key and webauthn_required(user)


def may_remove_last_key(user: User) -> bool:
    """Removing one's last key in a state that requires them would quietly bring TOTP back."""
    return not webauthn_required(user)


def can_set_webauthn_requirement(actor: User, country: Country) -> bool:
    """An administrator, or an active point of contact of that state."""
    if actor.status is not UserStatus.ACTIVE:
        return False
    return is_admin(actor) or (actor.role is Role.SPOC and actor.country_code == country.code)


def can_designate_poc(actor: User, target: User | None = None) -> bool:
    """Admins designate a state's point of contact: an active SPOC not designated yet."""
    if target is None:
        return is_admin(actor)
    return (is_admin(actor) and target.role is Role.SPOC and not target.is_designated_poc
            and target.status is UserStatus.ACTIVE)


# --- the country register -------------------------------------------------------------

def can_edit_register(actor: User) -> bool:
    """The secretariat keeps the register, with the administrators."""
    return is_admin(actor) or is_secretariat(actor)


# --- shared items ---------------------------------------------------------------------
#
# The audience of an item: its originating state, all subscribing states (flag), named
# states, the secretariat (flag), observer states (flag; CLEAR/GREEN only). Drafts are seen
# only by the originating state's SPOCs and officers (or, for its own documents, the
# secretariat). Withdrawn items stay visible to the audience as a withdrawal notice.

LIVE_STATUSES = (ItemStatus.PUBLISHED, ItemStatus.WITHDRAWN)
UNRELEASED_STATUSES = (ItemStatus.DRAFT, ItemStatus.SUBMITTED)
MAY_REACH_OBSERVERS = (Tlp.CLEAR, Tlp.GREEN)


@dataclass(frozen=True)
class _Release:
    """The columns saying to whom one release went: an item as it is now, or one of its versions.

    The originating state is always the item's (it never changes); the marking and the audience
    are the release's own.
    """

    tlp: Any
    all_subscribing: Any
    to_secretariat: Any
    to_observers: Any
    names: Callable[[str], ColumnElement[bool]]  # whether the release names state `code`


def _item_names(code: str) -> ColumnElement[bool]:
    # IN, not a correlated EXISTS: both databases read the state's (bounded) audience rows once
    # and hash them, instead of probing per item; counts over 100,000 items run 1.5-2x faster.
    return Item.id.in_(select(ItemAudienceCountry.item_id).where(ItemAudienceCountry.country_code == code))


def _version_names(code: str) -> ColumnElement[bool]:
    return ItemVersion.id.in_(select(ItemVersionAudienceCountry.version_id)
                              .where(ItemVersionAudienceCountry.country_code == code))


ITEM_RELEASE = _Release(Item.tlp, Item.all_subscribing, Item.to_secretariat, Item.to_observers, _item_names)
VERSION_RELEASE = _Release(ItemVersion.tlp, ItemVersion.all_subscribing, ItemVersion.to_secretariat,
                           ItemVersion.to_observers, _version_names)


def _admits(user: User, release: _Release) -> ColumnElement[bool]:
    """THE audience rule, for an item and for each of its versions alike: whether `release`
    (its marking and its audience) reaches `user`. Status and drafts are the callers' part."""
    if user.status is not UserStatus.ACTIVE or is_admin(user):
        return false()  # administrators run the service; they never read shared content
    if is_secretariat(user):
        # The secretariat originates its documents, so it stays in their audience once published.
        return or_(release.to_secretariat, Item.originator_code.is_(None))
    code = user.country_code
    assert code is not None
    if user.country is not None and user.country.is_observer:
        return and_(release.to_observers, release.tlp.in_(MAY_REACH_OBSERVERS))
    subscribing = select(Country.code).where(Country.code == code, Country.status == CountryStatus.SUBSCRIBING)
    in_audience = or_(Item.originator_code == code, and_(release.all_subscribing, subscribing.exists()),
                      release.names(code))
    if user.role is Role.READER or is_machine(user):
        return and_(in_audience, release.tlp != Tlp.RED)
    return in_audience


def items_filter(user: User) -> ColumnElement[bool]:
    """THE filter: every list, search, count, export, feed and API call over items uses it."""
    if user.status is not UserStatus.ACTIVE or is_admin(user):
        return false()  # administrators run the service; they never read shared content
    visible_live = and_(Item.status.in_(LIVE_STATUSES), _admits(user, ITEM_RELEASE))
    if is_secretariat(user):
        own = Item.originator_code.is_(None)
        return or_(visible_live, and_(own, Item.status.in_(UNRELEASED_STATUSES)))
    if user.role is Role.READER or (user.country is not None and user.country.is_observer):
        return visible_live
    own_drafts = and_(Item.originator_code == user.country_code, Item.status.in_(UNRELEASED_STATUSES))
    if is_machine(user):
        # A machine client: an officer of its state, never TLP:RED (not even its own drafts),
        # and only the kinds its scopes name.
        return and_(or_(visible_live, own_drafts), Item.tlp != Tlp.RED, Item.kind.in_(machine_kinds(user)))
    return or_(visible_live, own_drafts)


# --- history: versions, events, change notes, attachments ---------------------------------
#
# History is released too. Each published version keeps its own marking and audience; it is
# shown only to a user who sees the item now AND to whom that version was released (the same
# rule, `_admits`, over the version's columns). Lowering or widening an item therefore never
# opens its earlier versions. Events, change notes and attachments belong to the version they
# were recorded under (0, before the first release, counts as version 1, which released them).
# All of these filters need Item joined to the row they filter.

def _released_at(user: User,
                 number: InstrumentedAttribute[int] | InstrumentedAttribute[int | None]) -> ColumnElement[bool]:
    """Whether the item's version `number` went to `user` (0, recorded on the draft, means version 1,
    which released it; drafts themselves are seen only by their own state)."""
    release = case((number < 1, 1), else_=number)
    released = exists().where(ItemVersion.item_id == Item.id, ItemVersion.version == release,
                              _admits(user, VERSION_RELEASE))
    return or_(Item.status.in_(UNRELEASED_STATUSES), released)


def versions_filter(user: User) -> ColumnElement[bool]:
    """Versions `user` may open (select ItemVersion joined to Item): of a published item they see,
    released to them. A withdrawn item shows only its notice, no versions."""
    return and_(items_filter(user), Item.status == ItemStatus.PUBLISHED, _admits(user, VERSION_RELEASE))


def events_filter(user: User) -> ColumnElement[bool]:
    """Lifecycle events (and their notes: change notes, reasons) of versions released to `user`."""
    return and_(items_filter(user), _released_at(user, ItemEvent.version))


def attachments_filter(user: User) -> ColumnElement[bool]:
    """Attachments of items `user` sees, attached under a version released to them (then
    can_read_attachment applies the file's own marking). Joined to Item on item_id, so a
    consultation's files never match (see consultation_attachments_filter)."""
    visible = and_(items_filter(user), _released_at(user, Attachment.item_version))
    if is_machine(user):
        return and_(visible, Item.kind.in_(machine_kinds(user, reading=True)))
    return visible


def can_see_named_audience(user: User, item: Item) -> bool:
    """Which states an item names in its audience. TLP:CLEAR and GREEN are for the community, so
    whoever sees the item sees its list. AMBER, AMBER+STRICT and RED go on a need-to-know basis:
    the other recipients are not the recipients' to know, only the originating state's."""
    if item.tlp in MAY_REACH_OBSERVERS:
        return True
    if item.originator_code is None:
        return is_secretariat(user)
    return is_state_user(user) and user.country_code == item.originator_code


def is_originator(user: User, item: Item) -> bool:
    """The user acts for the item's originating state (or the secretariat, for its documents)."""
    if item.originator_code is None:
        return is_secretariat(user)
    return user.country_code == item.originator_code and user.role in (Role.SPOC, Role.OFFICER)


def can_create_items(user: User, kind: ItemKind) -> bool:
    if user.status is not UserStatus.ACTIVE:
        return False
    if is_secretariat(user):
        return kind is ItemKind.DOCUMENT
    return user.role in (Role.SPOC, Role.OFFICER) and not user.is_observer


def can_edit_draft(user: User, item: Item) -> bool:
    return item.status in UNRELEASED_STATUSES and is_originator(user, item)


def can_release(user: User, item: Item) -> bool:
    """Publish, amend, withdraw, revoke, renew: the originating state's SPOC (or secretariat)."""
    if not is_originator(user, item):
        return False
    if is_machine(user):
        return "publish" in machine_scopes(user)  # granted by the SPOC; else a person releases
    return user.role is Role.SPOC or (item.originator_code is None and is_secretariat(user))


def step_allowed(item: Item, step: ItemStep) -> bool:
    """Whether the lifecycle tables allow `step` from the item's (and its denial's) status now."""
    if item.status not in ITEM_TRANSITIONS[step][0]:
        return False
    if step in (ItemStep.REVOKE, ItemStep.RENEW):
        return item.kind is ItemKind.DENIAL and item.denial_status in DENIAL_TRANSITIONS[step][0]
    return True


def can_take_step(user: User, item: Item, step: ItemStep) -> bool:
    """An officer submits its state's draft; every other step is the releaser's (can_release)."""
    if user.status is not UserStatus.ACTIVE or not step_allowed(item, step):
        return False
    if step is ItemStep.SUBMIT:
        return is_originator(user, item) and user.role is Role.OFFICER
    return can_release(user, item)


def can_submit(user: User, item: Item) -> bool:
    """Officers ask their SPOC to release a draft."""
    return can_take_step(user, item, ItemStep.SUBMIT)


def can_publish(user: User, item: Item) -> bool:
    return can_take_step(user, item, ItemStep.PUBLISH)


def can_amend(user: User, item: Item) -> bool:
    return can_take_step(user, item, ItemStep.AMEND)


def can_withdraw(user: User, item: Item) -> bool:
    return can_take_step(user, item, ItemStep.WITHDRAW)


def can_revoke(user: User, item: Item) -> bool:
    return can_take_step(user, item, ItemStep.REVOKE)


def can_renew(user: User, item: Item) -> bool:
    return can_take_step(user, item, ItemStep.RENEW)


def can_see_read_receipts(user: User, item: Item) -> bool:
    """Which states opened an item, and who downloaded its files when, is for the originating
    state alone: the recipients' reading habits are not the other recipients' business."""
    return item.is_live and is_originator(user, item)


def bulk_export_filter() -> ColumnElement[bool]:
    """TLP:RED never leaves in bulk: exports add this to items_filter."""
    return Item.tlp != Tlp.RED


# --- STIX 2.1 exports and the TAXII 2.1 feed ---------------------------------------------
#
# Threat notices and denials leave as STIX: one item at a time for whoever may open it (its
# marking travels with it), in bundles and through the TAXII collections only what is live and
# never TLP:RED, for people and machines alike (a feed is a bulk export). A machine reads a
# collection only with the `:read` scope of its kind.

FEED_KINDS = (ItemKind.THREAT_NOTICE, ItemKind.DENIAL)


def can_read_feed(user: User, kind: ItemKind) -> bool:
    """Whether `user` may read the STIX bundle and TAXII collection of `kind` at all."""
    if kind not in FEED_KINDS or user.status is not UserStatus.ACTIVE or is_admin(user):
        return False
    if is_machine(user):
        return kind in machine_kinds(user, reading=True)
    return True


def feed_filter(user: User, kind: ItemKind) -> ColumnElement[bool]:
    """The items of `kind` a bundle or a TAXII collection serves `user`: live, visible, never RED."""
    if not can_read_feed(user, kind):
        return false()
    return and_(items_filter(user), Item.kind == kind, Item.status.in_(LIVE_STATUSES), bulk_export_filter())


def can_export_stix(user: User, item: Item) -> bool:
    """One item as STIX, for a user who sees it (items_filter): a live threat notice or denial of a
    kind the user reads (a machine: with its `:read` scope), never TLP:RED to a machine."""
    return (can_read_feed(user, item.kind) and item.status in LIVE_STATUSES
            and not (is_machine(user) and item.tlp is Tlp.RED))


def may_email_content(item: Item) -> bool:
    """TLP in e-mail: only CLEAR and GREEN may carry words of an item (its summary, the reason
    for its withdrawal); never the body or files. Everything else is a link into the portal."""
    return item.tlp in (Tlp.CLEAR, Tlp.GREEN)


def may_email_summary(item: Item) -> bool:
    """A withdrawn item is only its notice: its summary is not repeated."""
    return may_email_content(item) and item.status is not ItemStatus.WITHDRAWN


def notifications_filter(user: User) -> ColumnElement[bool]:
    """A user's own notifications, shown only while their item is still visible to them."""
    from portal.models.notification import Notification

    mine = and_(Notification.user_id == user.id, or_(
        Notification.item_id.is_(None), Notification.item_id.in_(select(Item.id).where(items_filter(user)))))
    if takes_part_in_consultations(user):
        return mine
    # A consultation's parties are states, and a user never changes state: someone who no
    # longer takes part (demoted to reader, disabled) no longer sees its notifications.
    return and_(mine, or_(Notification.subject_type.is_(None), Notification.subject_type != CONSULTATION_SUBJECT))


# --- operations -----------------------------------------------------------------------

def can_view_audit_log(actor: User) -> bool:
    return is_admin(actor)


def can_manage_identity_providers(actor: User) -> bool:
    """Administrators attach a state's OpenID Connect provider (it vouches for that state's people)."""
    return is_admin(actor) and not is_machine(actor)


def can_sign_in_through(user: User, provider: StateIdentityProvider) -> bool:
    """A state's identity provider signs in only that state's own active accounts, while enabled."""
    return (provider.enabled and user.status is UserStatus.ACTIVE and user.role.belongs_to_state
            and user.country_code == provider.country_code)


# --- attachments ----------------------------------------------------------------------
#
# An attachment is seen by whoever sees its item and had the version it was attached under
# released to them (attachments_filter), under the stricter of the item's TLP and the marking
# the file was signed with. Content is only ever decrypted through the wrap of
# the user's own key owner (state, or the secretariat), so a state outside the audience has
# nothing to decrypt with even if a query were wrong.

def can_attach(user: User, item: Item) -> bool:
    """Drafts: the originating state's editors; published items: its point of contact."""
    if user.status is not UserStatus.ACTIVE:
        return False
    return can_edit_draft(user, item) if item.is_draft else can_amend(user, item)


def can_read_attachment(user: User, item: Item, attachment_tlp: Tlp) -> bool:
    """For a user who already sees `item` (items_filter): may they open a file marked `attachment_tlp`?"""
    if user.status is not UserStatus.ACTIVE or is_admin(user):
        return False
    if item.status is ItemStatus.WITHDRAWN and user.country_code != item.originator_code and not (
            item.originator_code is None and is_secretariat(user)):
        return False  # the audience of a withdrawn item sees only the notice
    if attachment_tlp is Tlp.RED and (user.role is Role.READER or is_machine(user)):
        return False
    return not (user.is_observer and not attachment_tlp.may_reach_observers)


def key_owner(user: User) -> str | None:
    """Whose key wraps decrypt for this user: its state's, or the secretariat's; admins none."""
    if is_secretariat(user):
        return SECRETARIAT_OWNER
    if is_state_user(user):
        return user.country_code
    return None


# --- meetings -------------------------------------------------------------------------
#
# The secretariat organises meetings and sees them all, drafts included. A state sees a
# meeting once it is announced, and only if invited: subscribing states when all are invited
# or when named, observer states only when observers are invited. Administrators see none.
# Agendas, minutes and actions are the secretariat's to write; a state's point of contact
# registers its delegation.

def can_manage_meetings(user: User) -> bool:
    """Create and edit meetings, agendas, minutes and action items."""
    return user.status is UserStatus.ACTIVE and is_secretariat(user)


def meetings_filter(user: User) -> ColumnElement[bool]:
    """THE filter over meetings: lists, calendar feeds, reminders and e-mail re-checks use it."""
    if user.status is not UserStatus.ACTIVE or is_admin(user):
        return false()
    if is_secretariat(user):
        return true()
    if not is_state_user(user) or user.country is None:
        return false()
    announced = Meeting.status != MeetingStatus.DRAFT  # the SQL twin of Meeting.is_announced
    if user.country.is_observer:
        return and_(announced, Meeting.invite_observers)
    named = exists().where(MeetingInvitedState.meeting_id == Meeting.id,
                           MeetingInvitedState.country_code == user.country_code)
    return and_(announced, or_(Meeting.invite_all_subscribing, named))


class Invitation(Protocol):
    """Whom a meeting invites: the meeting now, or an agenda version as it was published."""

    @property
    def invite_all_subscribing(self) -> bool: ...
    @property
    def invite_observers(self) -> bool: ...
    @property
    def named_states(self) -> list[str]: ...


def meeting_invites(meeting: Invitation, country: Country) -> bool:
    """Whether `country` is invited to `meeting` (the Python twin of meetings_filter)."""
    if country.is_observer:
        return meeting.invite_observers
    return meeting.invite_all_subscribing or country.code in meeting.named_states


def can_view_meeting(user: User, meeting: Meeting) -> bool:
    if user.status is not UserStatus.ACTIVE or is_admin(user):
        return False
    if is_secretariat(user):
        return True
    return meeting.is_announced and user.country is not None and meeting_invites(meeting, user.country)


# Why a step of the lifecycle is refused, in words for the secretariat.
_STEP_REFUSED = {
    MeetingStep.ANNOUNCE: "Only a draft meeting can be announced.",
    MeetingStep.CLOSE_REGISTRATION: "Registration is open only while a meeting is announced.",
    MeetingStep.REOPEN_REGISTRATION: "Registration is not closed.",
    MeetingStep.MARK_HELD: "Only an announced meeting can be marked as held.",
    MeetingStep.ADOPT_MINUTES: "Minutes are adopted once the meeting has been held.",
    MeetingStep.CANCEL: "A meeting that has been held or cancelled cannot be cancelled.",
}


def meeting_step_refusal(meeting: Meeting, step: MeetingStep, now: datetime) -> str | None:
    """Why `step` cannot be taken now (None when it can): the lifecycle table, then the clock."""
    if meeting.status not in MEETING_TRANSITIONS[step][0]:
        return _STEP_REFUSED[step]
    if step in (MeetingStep.ANNOUNCE, MeetingStep.REOPEN_REGISTRATION) and meeting.registration_deadline <= now:
        return "The registration deadline has passed: move it (and the dates if needed) first."
    if step is MeetingStep.MARK_HELD and meeting.starts_at > now:
        return "The meeting has not started yet."
    return None


def offered_meeting_steps(user: User, meeting: Meeting, now: datetime) -> dict[MeetingStep, str | None]:
    """The steps the meeting's page offers: those its status allows, each with what still
    stands in the way (the clock) so the page can say when it becomes available."""
    if not can_manage_meetings(user):
        return {}
    return {step: meeting_step_refusal(meeting, step, now) for step, (sources, _) in MEETING_TRANSITIONS.items()
            if meeting.status in sources and step is not MeetingStep.ADOPT_MINUTES}


def offered_attendance(meeting: Meeting) -> list[Attendance]:
    """How a delegate may attend: in person where there is a venue, remote where there is a link."""
    offered = [Attendance.IN_PERSON] if meeting.venue else []
    return offered + ([Attendance.REMOTE] if meeting.online_url else [])


def action_due_refusal(meeting: Meeting, due: date | None) -> str | None:
    """An action a meeting sets falls due after the meeting starts, never before it."""
    if due is not None and due < meeting.starts_at.date():
        return f"An action set by this meeting is due on or after {meeting.starts_at.strftime('%d %B %Y').lstrip('0')}."
    return None


def can_edit_meeting(user: User, meeting: Meeting) -> bool:
    """Details and agenda: the secretariat, until the meeting is held or cancelled."""
    return can_manage_meetings(user) and meeting.is_open_for_changes


def can_record_actions(user: User, meeting: Meeting) -> bool:
    """Actions and decisions belong to meetings that take place."""
    return can_manage_meetings(user) and meeting.status not in (MeetingStatus.DRAFT, MeetingStatus.CANCELLED)


def registration_is_open(meeting: Meeting, now: datetime) -> bool:
    """Whether points of contact may change their delegations now."""
    return meeting.status is MeetingStatus.ANNOUNCED and now < meeting.registration_deadline


def can_view_agenda_version(user: User, meeting: Meeting, version: AgendaVersion, latest: int) -> bool:
    """The latest published agenda is the meeting's agenda, for every state invited now; an
    earlier one only for the states invited when it was published (inviting a state later
    does not release the agendas it was not sent)."""
    if not can_view_meeting(user, meeting):
        return False
    if is_secretariat(user) or version.version >= latest:
        return True
    return user.country is not None and meeting_invites(version, user.country)


def can_register_delegation(user: User, meeting: Meeting) -> bool:
    """A point of contact of an invited state manages its delegation (registration_is_open says when)."""
    return user.role is Role.SPOC and can_view_meeting(user, meeting) and not is_secretariat(user)


def can_see_delegate_contacts(user: User, country_code: str) -> bool:
    """Delegates' e-mail addresses: for the secretariat and the delegate's own state."""
    return is_secretariat(user) or user.country_code == country_code


def can_view_minutes(user: User, minutes: Minutes) -> bool:
    """States read minutes once circulated (the version circulated, not the working draft)."""
    return is_secretariat(user) or minutes.version > 0


def can_write_minutes(user: User, meeting: Meeting, minutes: Minutes | None) -> bool:
    """The secretariat drafts and circulates minutes once the meeting is held, until adopted."""
    return (can_manage_meetings(user) and meeting.status is MeetingStatus.HELD
            and (minutes is None or minutes.status is not MinutesStatus.ADOPTED))


def can_adopt_minutes(user: User, meeting: Meeting, minutes: Minutes | None) -> bool:
    """Only circulated minutes are adopted."""
    return (can_write_minutes(user, meeting, minutes) and minutes is not None
            and minutes.status is MinutesStatus.CIRCULATED)


def can_comment_minutes(user: User, meeting: Meeting, minutes: Minutes) -> bool:
    return (minutes.status is MinutesStatus.CIRCULATED and user.role in (Role.SPOC, Role.OFFICER)
            and can_view_meeting(user, meeting))


def minutes_comments_filter(user: User) -> ColumnElement[bool]:
    """Comments are seen by the secretariat and by the state that wrote them."""
    if user.status is not UserStatus.ACTIVE:
        return false()
    if is_secretariat(user):
        return true()
    if is_state_user(user):
        return MinutesComment.country_code == user.country_code
    return false()


def actions_filter(user: User) -> ColumnElement[bool]:
    """The action tracker: the secretariat sees all; a state the actions it owns in meetings it sees."""
    if user.status is not UserStatus.ACTIVE or is_admin(user):
        return false()
    if is_secretariat(user):
        return true()
    if not is_state_user(user):
        return false()
    return and_(ActionItem.owner_state_code == user.country_code,
                ActionItem.meeting_id.in_(select(Meeting.id).where(meetings_filter(user))))


def can_use_calendar_feed(user: User) -> bool:
    return user.status is UserStatus.ACTIVE and (is_secretariat(user) or is_state_user(user))


# --- screening ------------------------------------------------------------------------
#
# A state's licensing officers and its point of contact screen applicants' parties against
# the denials their state may see (items_filter, nothing wider). A screening is the state's
# own record: its SPOC and officers see it; readers, the secretariat and admins never do.

def can_screen(user: User) -> bool:
    """Who may screen parties: an active SPOC or officer of a state."""
    return (user.status is UserStatus.ACTIVE and user.role in (Role.SPOC, Role.OFFICER)
            and user.country_code is not None)


def screenings_filter(user: User) -> ColumnElement[bool]:
    """The screenings a user may list and open: their own state's, for its SPOC and officers."""
    if not can_screen(user):
        return false()
    return Screening.country_code == user.country_code


def can_view_screening(user: User, screening: Screening) -> bool:
    return can_screen(user) and screening.country_code == user.country_code


# --- denial review --------------------------------------------------------------------
#
# A denial is reviewed every three years by the state that notified it: its SPOC renews,
# amends or revokes it (can_release); its officers see what is coming due.

REVIEW_WINDOW_DAYS = 90


def can_see_reviews(user: User) -> bool:
    """The "Denials due for review" page: a state's SPOC and officers."""
    return can_screen(user)


def review_due_filter(user: User, today: date) -> ColumnElement[bool]:
    """Published, in-force denials of the user's own state whose review date is within the
    window or already passed (not yet lapsed by the daily job)."""
    if not can_see_reviews(user):
        return false()
    return and_(Item.kind == ItemKind.DENIAL, Item.status == ItemStatus.PUBLISHED,
                Item.originator_code == user.country_code,
                Item.denial_status.in_((DenialStatus.ACTIVE, DenialStatus.AMENDED)),
                Item.review_date.is_not(None), Item.review_date <= today + timedelta(days=REVIEW_WINDOW_DAYS))
# --- consultations --------------------------------------------------------------------
#
# State B consults state A about A's denial before granting an essentially identical
# transaction. Only A's and B's points of contact and officers see the consultation: not
# readers, not the secretariat, not other states, not administrators (who see no content).

CONSULTATION_SUBJECT = "consultation"  # Notification/outbox subject_type


def takes_part_in_consultations(user: User) -> bool:
    """Points of contact and officers of subscribing states open and answer consultations."""
    return (user.status is UserStatus.ACTIVE and user.role in (Role.SPOC, Role.OFFICER)
            and user.country_code is not None and not user.is_observer)


def consultations_filter(user: User) -> ColumnElement[bool]:
    """THE filter over consultations: lists, the API, notifications and e-mail re-checks use it."""
    if not takes_part_in_consultations(user):
        return false()
    mine = or_(Consultation.denying_code == user.country_code, Consultation.consulting_code == user.country_code)
    if is_machine(user):
        return and_(mine, Consultation.tlp != Tlp.RED)  # TLP:RED never reaches a machine client
    return mine


def can_view_consultation(user: User, consultation: Consultation) -> bool:
    if is_machine(user) and consultation.tlp is Tlp.RED:
        return False
    return takes_part_in_consultations(user) and user.country_code in consultation.party_codes()


def _denial_reaches(user: User, denial: Item) -> bool:
    """The Python twin of items_filter for a SPOC or officer of a subscribing state and a live item."""
    if denial.status not in LIVE_STATUSES or user.country is None:
        return False
    code = user.country_code
    return (denial.originator_code == code or code in denial.named_countries
            or (denial.all_subscribing and user.country.status is CountryStatus.SUBSCRIBING))


def can_open_consultation(user: User, denial: Item) -> bool:
    """B (not the denying state) consults A about a published denial it sees."""
    return (takes_part_in_consultations(user) and denial.kind is ItemKind.DENIAL
            and denial.status is ItemStatus.PUBLISHED and denial.originator_code is not None
            and denial.originator_code != user.country_code and _denial_reaches(user, denial))


def _step_allowed(consultation: Consultation, step: ConsultationStep) -> bool:
    return consultation.status in CONSULTATION_TRANSITIONS[step][0]


def can_post_message(user: User, consultation: Consultation) -> bool:
    """Either state writes in the thread until the consultation is closed."""
    return can_view_consultation(user, consultation) and _step_allowed(consultation, ConsultationStep.MESSAGE)


def can_answer(user: User, consultation: Consultation) -> bool:
    """The denying state (A) gives its position, and may revise it until the consultation is closed."""
    return (can_view_consultation(user, consultation) and user.country_code == consultation.denying_code
            and _step_allowed(consultation, ConsultationStep.ANSWER))


def can_close(user: User, consultation: Consultation) -> bool:
    """The consulting state (B) records the outcome of its licensing decision."""
    return (can_view_consultation(user, consultation) and user.country_code == consultation.consulting_code
            and _step_allowed(consultation, ConsultationStep.CLOSE))


def can_attach_to_consultation(user: User, consultation: Consultation) -> bool:
    """Either state attaches files to the thread, as it writes in it: until the consultation is closed.
    The file is wrapped for the two states only and signed by the uploader's state."""
    return can_post_message(user, consultation)


def consultation_attachments_filter(user: User) -> ColumnElement[bool]:
    """Files of the consultations `user` takes part in (select Attachment joined to Consultation).
    They carry the consultation's marking; its parties (no readers, no observers) may read any."""
    return and_(Attachment.consultation_id.is_not(None), consultations_filter(user))


def can_read_consultation_attachment(user: User, consultation: Consultation, attachment: Attachment) -> bool:
    """The Python twin of consultation_attachments_filter for one file."""
    return attachment.consultation_id == consultation.id and can_view_consultation(user, consultation)


def can_record_own_denial(user: User, consultation: Consultation) -> bool:
    """Having denied, B is offered its own denial notification, prefilled from the consultation."""
    return (can_view_consultation(user, consultation) and user.country_code == consultation.consulting_code
            and consultation.is_closed and consultation.outcome is ConsultationOutcome.DENIED
            and can_create_items(user, ItemKind.DENIAL))


def may_email_consultation_content(consultation: Consultation) -> bool:
    """A consultation carries its denial's marking: words travel by e-mail only under CLEAR and GREEN."""
    return consultation.tlp in (Tlp.CLEAR, Tlp.GREEN)


# --- machine clients (OAuth2 client credentials) ----------------------------------------
#
# A national system registered by its state's SPOC acts as an officer of that state would,
# never more, and only within its scopes: each API route names the scope it needs
# (required_scope), the kinds of items it sees follow its scopes (machine_kinds), TLP:RED
# never reaches it on any interface (items, versions, files, consultations) and it cannot
# mark anything RED. `publish` lets it release its state's items like a SPOC; without it,
# its writes stay drafts a person releases. Admins see and revoke clients, never through them.

CLIENT_SCOPES: dict[str, str] = {
    "notices:read": "Read threat notices shared with your state",
    "notices:write": "Draft and edit your state's threat notices",
    "denials:read": "Read denial notifications shared with your state",
    "denials:write": "Draft and edit your state's denial notifications",
    "documents:read": "Read best-practice documents shared with your state",
    "documents:write": "Draft and edit your state's best-practice documents",
    "screenings": "Screen parties against the denials your state sees",
    "consultations": "Open, read and answer your state's consultations",
    "meetings:read": "Read meetings your state is invited to, their agendas and participants",
    "publish": "Release (publish, withdraw) your state's items without a person",
}


@dataclass(frozen=True, eq=False)
class MachineActor:
    """An OAuth2 client as an actor: an officer of its state (the filters above treat it as
    one) marked `is_machine`, with its scopes. `id` is the SPOC answerable for the client, so
    the rows it writes name a person; the audit names the client (`client_id`) besides."""

    id: uuid.UUID
    client_pk: uuid.UUID
    client_id: str
    country: Country
    scopes: frozenset[str] = field(default_factory=frozenset)
    role: Role = Role.OFFICER
    status: UserStatus = UserStatus.ACTIVE
    is_designated_poc: bool = False
    is_machine: bool = True

    @property
    def country_code(self) -> str:
        return self.country.code

    @property
    def email(self) -> str:
        return f"client:{self.client_id}"  # the audit's actor label

    @property
    def name(self) -> str:
        return f"API client {self.client_id}"

    @property
    def is_observer(self) -> bool:
        return self.country.is_observer

    @property
    def display_role(self) -> str:
        return f"API client, {self.country.name}"

    # Flask-Login's user protocol.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"client:{self.client_id}"


def is_machine(user: object) -> bool:
    """Whether the actor is an OAuth2 client rather than a person (or a person's token)."""
    return isinstance(user, MachineActor)


def machine_scopes(user: object) -> frozenset[str]:
    return user.scopes if isinstance(user, MachineActor) else frozenset()


def machine_kinds(user: object, reading: bool = False) -> list[ItemKind]:
    """The kinds of items a client sees: those its scopes name (`:read`, or `:write` for its
    own drafts); files only with `:read`. Screening reads denials too."""
    scopes = machine_scopes(user)
    kinds = [kind for kind, spec in KINDS.items()
             if f"{spec.scope}:read" in scopes or (not reading and f"{spec.scope}:write" in scopes)]
    if not reading and "screenings" in scopes and ItemKind.DENIAL not in kinds:
        kinds.append(ItemKind.DENIAL)
    return kinds


def required_scope(endpoint: str | None, method: str, view_args: dict[str, Any] | None) -> str | None:
    """The scope an API route needs from a machine client; None: no client may call it."""
    args = view_args or {}
    reading = method in ("GET", "HEAD")
    slug = args.get("kind_slug") or args.get("kind")
    if endpoint in ("api.list_items", "api.get_item", "api.create_item", "api.patch_item",
                    "api.publish_item", "api.withdraw_item", "attachments_api.upload") and slug in BY_SLUG:
        return f"{BY_SLUG[slug].scope}:{'read' if reading else 'write'}"
    if endpoint in ("attachments_api.download_file", "attachments_api.signature"):
        return "files"  # any `:read` scope; the kind's own is checked by attachments_filter
    if endpoint == "api.create_screening":
        return "screenings"
    if endpoint is not None and endpoint.startswith("consultations_api."):
        return "consultations"
    if endpoint is not None and endpoint.startswith("meetings_api.") and reading:
        return "meetings:read"
    if endpoint is not None and (endpoint.startswith("taxii.") or endpoint.startswith("stix.")) and reading:
        return "feeds"  # a read scope of the collection's kind, checked by the collection
    return None


def machine_may_call(user: object, endpoint: str | None, method: str, view_args: dict[str, Any] | None) -> bool:
    """Whether a machine client's scopes cover this route (people are not limited here)."""
    if not is_machine(user) or endpoint in PUBLIC_ENDPOINTS:
        return True
    needed = required_scope(endpoint, method, view_args)
    scopes = machine_scopes(user)
    if needed in ("files", "feeds"):
        return any(s.endswith(":read") and s != "meetings:read" for s in scopes)
    return needed is not None and needed in scopes


def may_mark(user: object, tlp: Tlp) -> bool:
    """Whether the actor may give an item this marking: machine clients never TLP:RED."""
    return not (is_machine(user) and tlp is Tlp.RED)


def can_manage_clients(user: User) -> bool:
    """A state's points of contact register and revoke its machine clients."""
    return user.status is UserStatus.ACTIVE and user.role is Role.SPOC and user.country_code is not None \
        and not is_machine(user)


def can_oversee_clients(user: User) -> bool:
    """Administrators see and revoke every client (ids, states, scopes, dates; no content)."""
    return is_admin(user)


# --- the public side ------------------------------------------------------------------
#
# Nothing reaches the public side by itself. The originating state's point of contact (or the
# secretariat, for its own documents) publishes a published, TLP:CLEAR threat notice or
# best-practice document publicly, one explicit act; the public then sees its current version
# and its files, nothing else (no audience, history, receipts or names of officials). An item
# that stops being published and CLEAR leaves the public side at once (the filter checks it on
# every request), and its publication ends (portal.public.service.end_if_ineligible).

PUBLIC_KINDS = (ItemKind.THREAT_NOTICE, ItemKind.DOCUMENT)


def public_items_filter() -> ColumnElement[bool]:
    """THE filter of the public side: published publicly, still published, CLEAR, a public kind."""
    return and_(Item.id.in_(select(PublicItem.item_id)), Item.status == ItemStatus.PUBLISHED,
                Item.tlp == Tlp.CLEAR, Item.kind.in_(PUBLIC_KINDS))


def public_attachments_filter() -> ColumnElement[bool]:
    """Files the public may download (select Attachment joined to Item): of a public item, marked
    CLEAR themselves, and attached under a version that was itself released as CLEAR (an earlier,
    stricter version's files stay behind sign-in even when the item was lowered since)."""
    return and_(public_items_filter(), public_file_rule())


def public_file_rule() -> ColumnElement[bool]:
    """The file's own part of public_attachments_filter (also what the confirmation page counts)."""
    release = case((Attachment.item_version < 1, 1), else_=Attachment.item_version)
    clear_release = exists().where(ItemVersion.item_id == Item.id, ItemVersion.version == release,
                                   ItemVersion.tlp == Tlp.CLEAR)
    return and_(Attachment.consultation_id.is_(None), Attachment.tlp == Tlp.CLEAR, clear_release)


def may_be_public(item: Item) -> bool:
    """Whether an item is of a kind, status and marking the public side may show."""
    return item.kind in PUBLIC_KINDS and item.status is ItemStatus.PUBLISHED and item.tlp is Tlp.CLEAR


def _public_publisher(user: User, item: Item) -> bool:
    """The originating state's point of contact, or the secretariat for its own documents; a person."""
    if is_machine(user) or user.status is not UserStatus.ACTIVE:
        return False
    if item.originator_code is None:
        return is_secretariat(user) and item.kind is ItemKind.DOCUMENT
    return user.role is Role.SPOC and user.country_code == item.originator_code


def can_publish_publicly(user: User, item: Item, already_public: bool) -> bool:
    """Publish on the public side: the publisher, a published TLP:CLEAR notice or document, not public yet."""
    return not already_public and may_be_public(item) and _public_publisher(user, item)


def can_unpublish_publicly(user: User, item: Item, already_public: bool) -> bool:
    """Take it off the public side again, whatever its state now."""
    return already_public and _public_publisher(user, item)


# --- the contact inbox ------------------------------------------------------------------
#
# Messages from outside land in the secretariat's inbox once their sender confirmed the address.
# The secretariat handles, forwards (to a state's point of contact, who then sees it in their
# own inbox) and deletes them. Nobody else sees them: not officers, readers, admins or machines.

def contact_messages_filter(user: User) -> ColumnElement[bool]:
    """THE filter over contact messages (select ContactMessage): the secretariat the confirmed
    messages to the Initiative and responses to calls that copy it; a SPOC those forwarded to its
    state and the responses to its state's public consultations."""
    if user.status is not UserStatus.ACTIVE or is_machine(user):
        return false()
    confirmed = ContactMessage.status != ContactStatus.UNCONFIRMED
    if is_secretariat(user):
        copied = select(PublicConsultation.id).where(PublicConsultation.to_secretariat.is_(True))
        general_or_copied = or_(ContactMessage.consultation_id.is_(None), ContactMessage.consultation_id.in_(copied))
        return and_(confirmed, general_or_copied)
    if user.role is Role.SPOC and user.country_code is not None:
        own_calls = select(PublicConsultation.id).where(PublicConsultation.originator_code == user.country_code)
        return and_(confirmed, or_(ContactMessage.forwarded_to_code == user.country_code,
                                   ContactMessage.consultation_id.in_(own_calls)))
    return false()


def can_view_contact_inbox(user: User) -> bool:
    """Whether the inbox is offered at all."""
    return (user.status is UserStatus.ACTIVE and not is_machine(user)
            and (is_secretariat(user) or (user.role is Role.SPOC and user.country_code is not None)))


def can_view_contact_message(user: User, message: ContactMessage) -> bool:
    """The Python twin of contact_messages_filter."""
    if not can_view_contact_inbox(user) or message.status is ContactStatus.UNCONFIRMED:
        return False
    consultation = message.consultation
    if message.consultation_id is not None:
        if consultation is None:
            return False
        if is_secretariat(user):
            return consultation.to_secretariat
        return consultation.originator_code == user.country_code or message.forwarded_to_code == user.country_code
    return is_secretariat(user) or message.forwarded_to_code == user.country_code


def _contact_owner(user: User, message: ContactMessage) -> bool:
    """Whose message it is to act on: the secretariat's (messages to the Initiative), or, for a
    response to a public consultation, the consulting state's point of contact."""
    if not can_view_contact_message(user, message):
        return False
    consultation = message.consultation
    if consultation is None:
        return is_secretariat(user)
    return consultation is not None and user.role is Role.SPOC and user.country_code == consultation.originator_code


def can_take_contact_step(user: User, message: ContactMessage, step: ContactStep) -> bool:
    """Mark handled, reopen, forward: the message's owner, from the statuses the table allows;
    forwarding is the secretariat's, for messages to the Initiative."""
    if step is ContactStep.CONFIRM or message.status not in CONTACT_TRANSITIONS[step][0]:
        return False
    if step is ContactStep.FORWARD:
        return message.consultation_id is None and _contact_owner(user, message)
    return _contact_owner(user, message)


def can_delete_contact_message(user: User, message: ContactMessage) -> bool:
    return _contact_owner(user, message)


# --- public consultations ---------------------------------------------------------------
#
# A subscribing state's point of contact runs a public call for input (TLP:CLEAR by nature): it
# is on the public side at once, takes responses until its closing date (or until closed early),
# and the state decides whether a summary of the responses is published. Responses are contact
# messages in that state's inbox (and the secretariat's, if the call copies it).

def can_run_public_consultations(user: User) -> bool:
    return (user.status is UserStatus.ACTIVE and not is_machine(user) and user.role is Role.SPOC
            and user.country is not None and user.country.status is CountryStatus.SUBSCRIBING)


def public_consultations_filter() -> ColumnElement[bool]:
    """Every call is public once made (nothing of it is secret); only its responses are kept in inboxes."""
    return true()


def own_public_consultations_filter(user: User) -> ColumnElement[bool]:
    """The calls a SPOC manages: its own state's."""
    if not can_run_public_consultations(user):
        return false()
    return PublicConsultation.originator_code == user.country_code


def public_consultation_open(consultation: PublicConsultation, today: date) -> bool:
    """Open for responses: not closed early, and the closing date not passed."""
    return consultation.closed_at is None and today <= consultation.closes_on


def can_manage_public_consultation(user: User, consultation: PublicConsultation) -> bool:
    return can_run_public_consultations(user) and user.country_code == consultation.originator_code


def can_close_public_consultation(user: User, consultation: PublicConsultation, today: date) -> bool:
    return can_manage_public_consultation(user, consultation) and public_consultation_open(consultation, today)


def can_publish_consultation_summary(user: User, consultation: PublicConsultation, today: date) -> bool:
    """Once the call is closed, its state may publish a summary of the responses (once)."""
    return (can_manage_public_consultation(user, consultation) and not public_consultation_open(consultation, today)
            and consultation.summary_published_at is None)
# --- activity overview ------------------------------------------------------------------
#
# Counts only, never titles. The secretariat (for plenaries) sees counts of the items shared
# with it, and participation for every state: how many items each shared and opened, meeting
# attendance and overdue actions — how states take part, not what they shared. A point of
# contact sees the same for their own state.

def can_view_overview(user: User) -> bool:
    return user.status is UserStatus.ACTIVE and (
        is_secretariat(user) or (user.role is Role.SPOC and is_state_user(user)))


def overview_states(user: User) -> list[str] | None:
    """Whose participation the overview shows: every state (None) for the secretariat, else one's own."""
    return None if is_secretariat(user) else [user.country_code] if user.country_code else []
