"""THE access policy. Every decision about who may see or do what is made here.

Two shapes of rule: SQL filters (`*_filter`) that lists, searches and exports add to their
queries, and predicates (`can_*`) for single objects and actions. Everything is denied
unless a rule below allows it. Objects a user may not see are reported as missing (404) by
the callers, never as forbidden, so their existence does not leak.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

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


# --- operations -----------------------------------------------------------------------

def can_view_audit_log(actor: User) -> bool:
    return is_admin(actor)
