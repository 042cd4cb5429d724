"""portal/access.py rule by rule: each predicate and filter against role × relation × status.

These are direct, fast checks of the policy module (no pages): users, items, meetings and
consultations are made in the database through the fixtures and services, then each rule is
asked. The expected answers are written out from DESIGN.md's access model and the rules'
docstrings, never computed with portal.access. They complement the authorisation matrices
(which go through every route) and are what `make mutate-access` runs access.py's mutants
against, so every branch and comparison of the module has a case that tells it apart.
"""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal import access
from portal.extensions import db
from portal.models import Role, User, UserStatus
from tests.sharing.helpers import add_observer_state

# The cast, by name: role, state (None for the secretariat and admins), status.
CAST: dict[str, tuple[str, str | None, UserStatus]] = {
    "dk_spoc": ("spoc", "DK", UserStatus.ACTIVE),
    "dk_officer": ("officer", "DK", UserStatus.ACTIVE),
    "dk_reader": ("reader", "DK", UserStatus.ACTIVE),
    "dk_spoc_disabled": ("spoc", "DK", UserStatus.DISABLED),
    "dk_officer_disabled": ("officer", "DK", UserStatus.DISABLED),
    "dk_reader_invited": ("reader", "DK", UserStatus.INVITED),
    "fr_spoc": ("spoc", "FR", UserStatus.ACTIVE),
    "fr_officer": ("officer", "FR", UserStatus.ACTIVE),
    "fr_reader": ("reader", "FR", UserStatus.ACTIVE),
    "de_spoc": ("spoc", "DE", UserStatus.ACTIVE),
    "cr_spoc": ("spoc", "CR", UserStatus.ACTIVE),  # Costa Rica: an observer state
    "cr_officer": ("officer", "CR", UserStatus.ACTIVE),
    "cr_reader": ("reader", "CR", UserStatus.ACTIVE),
    "sec": ("secretariat", None, UserStatus.ACTIVE),
    "sec_disabled": ("secretariat", None, UserStatus.DISABLED),
    "admin": ("admin", None, UserStatus.ACTIVE),
    "admin2": ("admin", None, UserStatus.ACTIVE),
}


@pytest.fixture
def cast(app: Flask, make_user: Any) -> dict[str, Any]:
    add_observer_state(app, "CR", "Costa Rica")
    return {name: make_user(role, country, status=status) for name, (role, country, status) in CAST.items()}


@pytest.fixture
def u(app: Flask, cast: dict[str, Any]) -> Any:
    """Inside an app context: u.dk_spoc etc. are the cast's User rows."""
    with app.app_context():
        rows = {name: db.session.get(User, account.id) for name, account in cast.items()}

        class People:
            def __getattr__(self, name: str) -> User:
                return rows[name]

        yield People()
        db.session.remove()


def visible_users(actor: User) -> set[str]:
    """The e-mail addresses users_filter lets `actor` list."""
    return set(db.session.scalars(select(User.email).where(access.users_filter(actor))))


# --- accounts -------------------------------------------------------------------------

def test_users_filter_admins_list_all_a_spoc_its_state_nobody_else(u: Any) -> None:
    everyone = set(db.session.scalars(select(User.email)))
    danes = {p.email for p in (u.dk_spoc, u.dk_officer, u.dk_reader, u.dk_spoc_disabled, u.dk_officer_disabled,
                               u.dk_reader_invited)}
    assert visible_users(u.admin) == everyone
    assert visible_users(u.dk_spoc) == danes
    assert visible_users(u.fr_spoc) == {u.fr_spoc.email, u.fr_officer.email, u.fr_reader.email}
    for other in (u.dk_officer, u.dk_reader, u.sec, u.cr_officer):
        assert visible_users(other) == set()


@pytest.mark.parametrize(("actor", "target", "expected"), [
    ("admin", "dk_officer", True), ("admin", "sec", True), ("admin", "admin2", True), ("admin", "admin", True),
    ("dk_spoc", "dk_officer", True), ("dk_spoc", "dk_reader", True), ("dk_spoc", "dk_spoc", True),
    ("dk_spoc", "fr_officer", False), ("dk_spoc", "sec", False), ("dk_spoc", "admin", False),
    ("dk_officer", "dk_reader", False), ("dk_officer", "dk_officer", False), ("dk_reader", "dk_officer", False),
    ("sec", "dk_officer", False), ("sec", "sec_disabled", False), ("cr_spoc", "cr_officer", True),
    ("cr_spoc", "dk_officer", False),
])
def test_can_view_user(u: Any, actor: str, target: str, expected: bool) -> None:
    assert access.can_view_user(getattr(u, actor), getattr(u, target)) is expected


def test_can_manage_users_and_invitable_roles(u: Any) -> None:
    assert access.can_manage_users(u.admin) and access.can_manage_users(u.dk_spoc)
    assert not any(access.can_manage_users(p) for p in (u.dk_officer, u.dk_reader, u.sec))
    assert access.invitable_roles(u.admin) == [Role.SPOC, Role.SECRETARIAT, Role.ADMIN]
    assert access.invitable_roles(u.dk_spoc) == [Role.OFFICER, Role.READER]
    assert access.invitable_roles(u.dk_officer) == [] and access.invitable_roles(u.sec) == []


@pytest.mark.parametrize(("actor", "role", "country", "expected"), [
    ("admin", Role.SPOC, "DK", True), ("admin", Role.SECRETARIAT, None, True), ("admin", Role.ADMIN, None, True),
    ("admin", Role.OFFICER, "DK", False), ("admin", Role.READER, "DK", False),
    ("dk_spoc", Role.OFFICER, "DK", True), ("dk_spoc", Role.READER, "DK", True),
    ("dk_spoc", Role.OFFICER, "FR", False), ("dk_spoc", Role.READER, None, False), ("dk_spoc", Role.SPOC, "DK", False),
    ("dk_spoc", Role.ADMIN, None, False), ("dk_officer", Role.READER, "DK", False), ("sec", Role.SPOC, "DK", False),
])
def test_can_invite(u: Any, actor: str, role: Role, country: str | None, expected: bool) -> None:
    assert access.can_invite(getattr(u, actor), role, country) is expected


@pytest.mark.parametrize(("actor", "target", "expected"), [
    ("admin", "admin", False), ("admin", "admin2", True), ("admin", "dk_spoc", True), ("admin", "sec", True),
    ("dk_spoc", "dk_spoc", False), ("dk_spoc", "dk_officer", True), ("dk_spoc", "dk_reader", True),
    ("dk_spoc", "dk_officer_disabled", True), ("dk_spoc", "dk_spoc_disabled", False), ("dk_spoc", "fr_officer", False),
    ("dk_spoc", "fr_reader", False), ("dk_spoc", "sec", False), ("dk_officer", "dk_reader", False),
    ("sec", "dk_officer", False),
])
def test_can_change_status(u: Any, actor: str, target: str, expected: bool) -> None:
    assert access.can_change_status(getattr(u, actor), getattr(u, target)) is expected


def test_assignable_roles(u: Any) -> None:
    state_roles = [Role.SPOC, Role.OFFICER, Role.READER]
    assert access.assignable_roles(u.admin, u.admin) == []
    assert access.assignable_roles(u.admin, u.dk_officer) == state_roles
    assert access.assignable_roles(u.admin, u.dk_spoc) == state_roles
    assert set(access.assignable_roles(u.admin, u.sec)) == {Role.SECRETARIAT, Role.ADMIN}
    assert set(access.assignable_roles(u.admin, u.admin2)) == {Role.SECRETARIAT, Role.ADMIN}
    assert access.assignable_roles(u.dk_spoc, u.dk_spoc) == []
    assert access.assignable_roles(u.dk_spoc, u.dk_reader) == [Role.OFFICER, Role.READER]
    assert access.assignable_roles(u.dk_spoc, u.fr_reader) == []
    assert access.assignable_roles(u.dk_spoc, u.dk_spoc_disabled) == []
    assert access.assignable_roles(u.dk_officer, u.dk_reader) == []


def test_can_reset_mfa_designate_and_register(u: Any) -> None:
    assert access.can_reset_mfa(u.admin, u.dk_spoc) and access.can_reset_mfa(u.admin, u.admin2)
    assert access.can_reset_mfa(u.admin, u.dk_reader_invited)
    assert not access.can_reset_mfa(u.admin, u.admin)  # not one's own
    assert not access.can_reset_mfa(u.admin, u.dk_spoc_disabled)
    assert not access.can_reset_mfa(u.dk_spoc, u.dk_officer) and not access.can_reset_mfa(u.sec, u.dk_officer)
    assert access.can_designate_poc(u.admin)
    assert not any(access.can_designate_poc(p) for p in (u.dk_spoc, u.sec))
    assert access.can_edit_register(u.admin) and access.can_edit_register(u.sec)
    assert not any(access.can_edit_register(p) for p in (u.dk_spoc, u.dk_officer, u.cr_spoc))
    assert access.can_view_audit_log(u.admin)
    assert not any(access.can_view_audit_log(p) for p in (u.sec, u.dk_spoc))
