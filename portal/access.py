"""THE access policy. Every decision about who may see or do what is made here.

Two shapes of rule: SQL filters (`*_filter`) that lists, searches and exports add to their
queries, and predicates (`can_*`) for single objects and actions. Everything is denied
unless a rule below allows it. Objects a user may not see are reported as missing (404) by
the callers, never as forbidden, so their existence does not leak.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from portal.models.country import Country, CountryStatus
from portal.models.item import Item, ItemAudienceCountry, ItemKind, ItemStatus, Tlp
from portal.models.user import Role, User, UserStatus

# Endpoints reachable without a logged-in, MFA-complete user. Everything else is protected
# by the default-deny hook in portal.auth.guard; tests walk the URL map against this list.
PUBLIC_ENDPOINTS = frozenset({
    "static",
    "main.health",
    "auth.login",
    "auth.login_mfa",
    "auth.login_enrol",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.accept_invitation",
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


def can_designate_poc(actor: User) -> bool:
    return is_admin(actor)


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


def _audience_contains_state(code: str) -> ColumnElement[bool]:
    subscribing = select(Country.code).where(Country.code == code, Country.status == CountryStatus.SUBSCRIBING)
    named = exists().where(ItemAudienceCountry.item_id == Item.id, ItemAudienceCountry.country_code == code)
    return or_(Item.originator_code == code, and_(Item.all_subscribing, subscribing.exists()), named)


def items_filter(user: User) -> ColumnElement[bool]:
    """THE filter: every list, search, count, export, feed and API call over items uses it."""
    if user.status is not UserStatus.ACTIVE or is_admin(user):
        return false()  # administrators run the service; they never read shared content
    live = Item.status.in_(LIVE_STATUSES)
    if is_secretariat(user):
        own_drafts = and_(Item.originator_code.is_(None), Item.status.in_(UNRELEASED_STATUSES))
        return or_(and_(live, Item.to_secretariat), own_drafts)
    code = user.country_code
    assert code is not None
    if user.country is not None and user.country.is_observer:
        return and_(live, Item.to_observers, Item.tlp.in_((Tlp.CLEAR, Tlp.GREEN)))
    visible_live = and_(live, _audience_contains_state(code))
    if user.role is Role.READER:
        return and_(visible_live, Item.tlp != Tlp.RED)
    own_drafts = and_(Item.originator_code == code, Item.status.in_(UNRELEASED_STATUSES))
    return or_(visible_live, own_drafts)


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


def can_submit(user: User, item: Item) -> bool:
    """Officers ask their SPOC to release a draft."""
    return item.status is ItemStatus.DRAFT and is_originator(user, item) and user.role is Role.OFFICER


def can_release(user: User, item: Item) -> bool:
    """Publish, amend, withdraw, revoke, renew: the originating state's SPOC (or secretariat)."""
    if not is_originator(user, item):
        return False
    return user.role is Role.SPOC or (item.originator_code is None and is_secretariat(user))


def can_see_read_receipts(user: User, item: Item) -> bool:
    """Which states opened an item is for the originating state alone."""
    return item.is_live and is_originator(user, item)


def may_bulk_export(item_tlp: Tlp) -> bool:
    return item_tlp is not Tlp.RED


def can_use_api(user: User) -> bool:
    return user.status is UserStatus.ACTIVE


# --- operations -----------------------------------------------------------------------

def can_view_audit_log(actor: User) -> bool:
    return is_admin(actor)
