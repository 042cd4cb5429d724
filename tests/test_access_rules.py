"""portal/access.py rule by rule: each predicate and filter against role × relation × status.

These are direct, fast checks of the policy module (no pages): users, items, meetings and
consultations are made in the database through the fixtures and services, then each rule is
asked. The expected answers are written out from DESIGN.md's access model and the rules'
docstrings, never computed with portal.access. They complement the authorisation matrices
(which go through every route) and are what `make mutate-access` runs access.py's mutants
against, so every branch and comparison of the module has a case that tells it apart.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal import access
from portal.extensions import db
from portal.models import Attachment, Country, CountryStatus, Item, ItemEvent, ItemKind, ItemVersion, Role, Tlp, User, UserStatus
from portal.consultations import service as consultations
from portal.models.consultation import Consultation, ConsultationOutcome, ConsultationStatus
from portal.models.item import DenialStatus
from portal.models.keys import SECRETARIAT_OWNER
from portal.models.notification import AlertTopic, Notification
from portal.models.screening import Screening
from portal.models.meeting import (
    ActionItem, AgendaVersion, Meeting, MeetingInvitedState, MeetingStatus, MeetingStep, Minutes, MinutesComment,
    MinutesStatus,
)
from portal.sharing import service as sharing
from tests.consultations.conftest import transaction
from tests.meetings.conftest import new_meeting
from tests.sharing import helpers
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



def test_webauthn_requirement_and_its_effect_on_totp(u: Any) -> None:
    denmark, france = db.session.get(Country, "DK"), db.session.get(Country, "FR")
    assert access.can_set_webauthn_requirement(u.admin, denmark)
    assert access.can_set_webauthn_requirement(u.dk_spoc, denmark)
    assert not access.can_set_webauthn_requirement(u.fr_spoc, denmark)  # another state's point of contact
    assert not any(access.can_set_webauthn_requirement(p, denmark)
                   for p in (u.dk_officer, u.dk_reader, u.sec, u.dk_spoc_disabled))
    assert access.can_set_webauthn_requirement(u.fr_spoc, france)

    denmark.webauthn_required = True
    assert access.webauthn_required(u.dk_reader) and not access.webauthn_required(u.fr_reader)
    assert not access.webauthn_required(u.admin)  # no state, no requirement
    assert not access.may_sign_in_with_totp(u.dk_reader, has_key=True)
    assert access.may_sign_in_with_totp(u.dk_reader, has_key=False)  # no key yet: codes still work
    assert access.may_sign_in_with_totp(u.fr_reader, has_key=True)
    assert not access.may_remove_last_key(u.dk_reader) and access.may_remove_last_key(u.fr_reader)
    denmark.webauthn_required = False
    assert access.may_sign_in_with_totp(u.dk_reader, has_key=True) and access.may_remove_last_key(u.dk_reader)


# --- shared items -----------------------------------------------------------------------

def _aud(**kwargs: Any) -> dict[str, Any]:
    return helpers.audience(**kwargs)


@pytest.fixture
def items(app: Flask, cast: dict[str, Any]) -> dict[str, uuid.UUID]:
    """Items of DK, FR and the secretariat in every status and marking, by name.

    The audience of each is in its name: ALL all subscribing states, SEC the secretariat flag,
    OBS the observer flag, a state code a named state."""
    dk, dk_off, fr, fr_off, sec = (cast[n] for n in ("dk_spoc", "dk_officer", "fr_spoc", "fr_officer", "sec"))
    tn = "threat_notice"
    made = {
        "G_ALL_SEC_OBS": helpers.make_item(app, dk, tn, tlp="GREEN",
                                           audience=_aud(all_subscribing=True, secretariat=True, observers=True)),
        "G_ALL": helpers.make_item(app, dk, tn, tlp="GREEN", audience=_aud(all_subscribing=True)),
        "A_FR": helpers.make_item(app, dk, tn, tlp="AMBER", audience=_aud(countries=["FR"])),
        "A_SEC": helpers.make_item(app, dk, tn, tlp="AMBER", audience=_aud(secretariat=True)),
        "R_FR": helpers.make_item(app, dk, tn, tlp="RED", audience=_aud(countries=["FR"])),
        "W_A_FR": helpers.make_item(app, dk, tn, "withdrawn", tlp="AMBER", audience=_aud(countries=["FR"])),
        "DK_DRAFT": helpers.make_item(app, dk_off, tn, "draft", tlp="GREEN", audience=_aud(all_subscribing=True)),
        "DK_SUBMITTED": helpers.make_item(app, dk_off, tn, "submitted", tlp="GREEN",
                                          audience=_aud(all_subscribing=True)),
        "FR_DRAFT": helpers.make_item(app, fr_off, tn, "draft", tlp="GREEN", audience=_aud(all_subscribing=True)),
        "FR_G_DE": helpers.make_item(app, fr, tn, tlp="GREEN", audience=_aud(countries=["DE"])),
        "SEC_DRAFT": helpers.make_item(app, sec, "document", "draft", audience=_aud(all_subscribing=True)),
        "SEC_DOC": helpers.make_item(app, sec, "document", audience=_aud(all_subscribing=True)),
        "SEC_DOC_W": helpers.make_item(app, sec, "document", "withdrawn", audience=_aud(all_subscribing=True)),
    }
    return made


DK_LIVE = {"G_ALL_SEC_OBS", "G_ALL", "A_FR", "A_SEC", "R_FR", "W_A_FR"}
SEC_DOCS_LIVE = {"SEC_DOC", "SEC_DOC_W"}
# Who sees what, from DESIGN.md's table.
SEES: dict[str, set[str]] = {
    "dk_spoc": DK_LIVE | {"DK_DRAFT", "DK_SUBMITTED"} | SEC_DOCS_LIVE,
    "dk_officer": DK_LIVE | {"DK_DRAFT", "DK_SUBMITTED"} | SEC_DOCS_LIVE,
    "dk_reader": (DK_LIVE - {"R_FR"}) | SEC_DOCS_LIVE,  # no drafts, no RED
    "fr_spoc": {"G_ALL_SEC_OBS", "G_ALL", "A_FR", "R_FR", "W_A_FR", "FR_DRAFT", "FR_G_DE"}
    | SEC_DOCS_LIVE,
    "fr_officer": {"G_ALL_SEC_OBS", "G_ALL", "A_FR", "R_FR", "W_A_FR", "FR_DRAFT", "FR_G_DE"}
    | SEC_DOCS_LIVE,
    "fr_reader": {"G_ALL_SEC_OBS", "G_ALL", "A_FR", "W_A_FR", "FR_G_DE"} | SEC_DOCS_LIVE,
    "de_spoc": {"G_ALL_SEC_OBS", "G_ALL", "FR_G_DE"} | SEC_DOCS_LIVE,
    "cr_spoc": {"G_ALL_SEC_OBS"},  # observers: the flag, and CLEAR/GREEN only
    "cr_officer": {"G_ALL_SEC_OBS"},
    "cr_reader": {"G_ALL_SEC_OBS"},
    "sec": {"G_ALL_SEC_OBS", "A_SEC", "SEC_DRAFT"} | SEC_DOCS_LIVE,
    "sec_disabled": set(), "admin": set(), "dk_spoc_disabled": set(), "dk_officer_disabled": set(),
    "dk_reader_invited": set(),
}


def _names(made: dict[str, uuid.UUID], ids: Any) -> set[str]:
    by_id = {v: k for k, v in made.items()}
    return {by_id[i] for i in ids}


@pytest.mark.parametrize("who", sorted(SEES))
def test_items_filter(u: Any, items: dict[str, uuid.UUID], who: str) -> None:
    user = getattr(u, who)
    assert _names(items, db.session.scalars(select(Item.id).where(access.items_filter(user)))) == SEES[who]


def test_items_filter_reads_the_register_at_query_time(u: Any, items: dict[str, uuid.UUID]) -> None:
    """A state that stops subscribing leaves the "all subscribing" audiences at once, even for a
    user object loaded before the change (the register is asked in the query)."""
    de = u.de_spoc
    _ = de.country  # loaded while DE still subscribes
    db.session.execute(update(Country).where(Country.code == "DE").values(status=CountryStatus.OBSERVER)
                       .execution_options(synchronize_session=False))
    assert de.country.status is CountryStatus.SUBSCRIBING  # the loaded object is stale
    assert _names(items, db.session.scalars(select(Item.id).where(access.items_filter(de)))) == {"FR_G_DE"}
    db.session.rollback()


ORIGINATOR_OF = {"G_ALL": "dk", "A_FR": "dk", "R_FR": "dk", "W_A_FR": "dk", "DK_DRAFT": "dk", "DK_SUBMITTED": "dk",
                 "SEC_DRAFT": "sec", "SEC_DOC": "sec", "SEC_DOC_W": "sec", "FR_G_DE": "fr"}


def _item(made: dict[str, uuid.UUID], name: str) -> Item:
    found = db.session.get(Item, made[name])
    assert found is not None
    return found


def test_is_originator_and_named_audience(u: Any, items: dict[str, uuid.UUID]) -> None:
    it = lambda name: _item(items, name)  # noqa: E731
    # Originator: the state's SPOC and officers; for its documents, the secretariat.
    for name in ("A_FR", "DK_DRAFT"):
        assert access.is_originator(u.dk_spoc, it(name)) and access.is_originator(u.dk_officer, it(name))
        for other in ("dk_reader", "fr_spoc", "sec", "admin", "cr_spoc"):
            assert not access.is_originator(getattr(u, other), it(name)), other
    assert access.is_originator(u.sec, it("SEC_DOC"))
    for other in ("dk_spoc", "dk_officer", "admin"):
        assert not access.is_originator(getattr(u, other), it("SEC_DOC")), other
    # Named audiences: CLEAR/GREEN for everyone who sees the item; stricter only the originator's.
    assert access.can_see_named_audience(u.fr_reader, it("FR_G_DE")) and access.can_see_named_audience(
        u.cr_reader, it("G_ALL_SEC_OBS"))
    assert access.can_see_named_audience(u.dk_reader, it("A_FR")) and access.can_see_named_audience(u.dk_spoc, it("R_FR"))
    for other in ("fr_spoc", "fr_reader", "sec", "admin"):
        assert not access.can_see_named_audience(getattr(u, other), it("A_FR")), other
        assert not access.can_see_named_audience(getattr(u, other), it("R_FR")), other
    assert access.can_see_named_audience(u.sec, it("A_SEC")) is False
    assert access.can_see_named_audience(u.dk_officer, it("A_SEC"))


def test_amber_document_of_the_secretariat_names_its_audience_to_the_secretariat(
        app: Flask, u: Any, cast: dict[str, Any]) -> None:
    doc_id = helpers.make_item(app, cast["sec"], "document", tlp="AMBER", audience=_aud(countries=["FR"]))
    doc = db.session.get(Item, doc_id)
    assert doc is not None
    assert access.can_see_named_audience(u.sec, doc)
    for other in ("fr_spoc", "fr_reader", "dk_spoc", "admin"):
        assert not access.can_see_named_audience(getattr(u, other), doc), other


@pytest.mark.parametrize(("who", "kinds"), [
    ("dk_spoc", {ItemKind.DENIAL, ItemKind.THREAT_NOTICE, ItemKind.DOCUMENT}),
    ("dk_officer", {ItemKind.DENIAL, ItemKind.THREAT_NOTICE, ItemKind.DOCUMENT}),
    ("dk_reader", set()), ("dk_spoc_disabled", set()), ("dk_officer_disabled", set()),
    ("cr_spoc", set()), ("cr_officer", set()), ("sec", {ItemKind.DOCUMENT}), ("sec_disabled", set()),
    ("admin", set()),
])
def test_can_create_items(u: Any, who: str, kinds: set[ItemKind]) -> None:
    assert {k for k in ItemKind if access.can_create_items(getattr(u, who), k)} == kinds


def test_editing_submitting_releasing(u: Any, items: dict[str, uuid.UUID]) -> None:
    it = lambda name: _item(items, name)  # noqa: E731
    # Drafts and submitted drafts: the originating state's editors (SPOC and officers).
    for name in ("DK_DRAFT", "DK_SUBMITTED"):
        assert access.can_edit_draft(u.dk_spoc, it(name)) and access.can_edit_draft(u.dk_officer, it(name))
        for other in ("dk_reader", "fr_spoc", "sec"):
            assert not access.can_edit_draft(getattr(u, other), it(name))
    assert access.can_edit_draft(u.sec, it("SEC_DRAFT")) and not access.can_edit_draft(u.dk_spoc, it("SEC_DRAFT"))
    for name in ("A_FR", "W_A_FR", "SEC_DOC"):
        assert not any(access.can_edit_draft(p, it(name)) for p in (u.dk_spoc, u.dk_officer, u.sec))
    # Submit: an officer of the originating state, a draft only.
    assert access.can_submit(u.dk_officer, it("DK_DRAFT"))
    assert not access.can_submit(u.dk_spoc, it("DK_DRAFT"))
    assert not access.can_submit(u.dk_officer, it("DK_SUBMITTED"))
    assert not access.can_submit(u.fr_officer, it("DK_DRAFT"))
    assert not access.can_submit(u.dk_reader, it("DK_DRAFT"))
    assert not access.can_submit(u.sec, it("SEC_DRAFT"))
    # Release: the originating state's SPOC, or the secretariat for its documents.
    assert access.can_release(u.dk_spoc, it("DK_SUBMITTED")) and access.can_release(u.dk_spoc, it("A_FR"))
    assert not access.can_release(u.dk_officer, it("DK_SUBMITTED"))
    assert not access.can_release(u.dk_reader, it("A_FR")) and not access.can_release(u.fr_spoc, it("A_FR"))
    assert not access.can_release(u.sec, it("A_SEC"))
    assert access.can_release(u.sec, it("SEC_DRAFT")) and access.can_release(u.sec, it("SEC_DOC"))
    assert not access.can_release(u.dk_spoc, it("SEC_DOC")) and not access.can_release(u.admin, it("SEC_DOC"))
    # Read receipts: the originator, of live items.
    assert access.can_see_read_receipts(u.dk_spoc, it("A_FR")) and access.can_see_read_receipts(u.dk_officer, it("W_A_FR"))
    assert access.can_see_read_receipts(u.sec, it("SEC_DOC"))
    assert not access.can_see_read_receipts(u.dk_spoc, it("DK_DRAFT"))
    assert not access.can_see_read_receipts(u.fr_spoc, it("A_FR")) and not access.can_see_read_receipts(
        u.dk_reader, it("A_FR"))


def test_can_attach(u: Any, items: dict[str, uuid.UUID]) -> None:
    it = lambda name: _item(items, name)  # noqa: E731
    assert access.can_attach(u.dk_officer, it("DK_DRAFT")) and access.can_attach(u.dk_spoc, it("DK_SUBMITTED"))
    assert access.can_attach(u.sec, it("SEC_DRAFT")) and access.can_attach(u.sec, it("SEC_DOC"))
    assert access.can_attach(u.dk_spoc, it("A_FR"))
    assert not access.can_attach(u.dk_officer, it("A_FR"))  # published: the SPOC only
    assert not access.can_attach(u.dk_spoc, it("W_A_FR"))  # withdrawn: nobody
    assert not access.can_attach(u.sec, it("SEC_DOC_W"))
    assert not access.can_attach(u.fr_spoc, it("A_FR")) and not access.can_attach(u.dk_reader, it("DK_DRAFT"))
    assert not access.can_attach(u.fr_officer, it("DK_DRAFT"))
    assert not access.can_attach(u.dk_spoc_disabled, it("A_FR"))
    assert not access.can_attach(u.dk_officer_disabled, it("DK_DRAFT"))


def test_email_and_export_markings(u: Any, items: dict[str, uuid.UUID]) -> None:
    it = lambda name: _item(items, name)  # noqa: E731
    assert access.may_email_content(it("G_ALL")) and not access.may_email_content(it("A_FR"))
    assert not access.may_email_content(it("R_FR"))
    assert access.may_email_summary(it("G_ALL")) and not access.may_email_summary(it("A_FR"))
    assert access.may_email_content(it("SEC_DOC_W")) and not access.may_email_summary(it("SEC_DOC_W"))
    exported = _names(items, db.session.scalars(select(Item.id).where(access.items_filter(u.dk_spoc),
                                                                      access.bulk_export_filter())))
    assert exported == SEES["dk_spoc"] - {"R_FR"}


# STIX bundles and TAXII collections: live threat notices and denials, never RED, for anyone.
FEED_NOTICES = {"G_ALL_SEC_OBS", "G_ALL", "A_FR", "A_SEC", "W_A_FR", "FR_G_DE"}


@pytest.mark.parametrize("who", sorted(SEES))
def test_feed_filter(u: Any, items: dict[str, uuid.UUID], who: str) -> None:
    user = getattr(u, who)
    fed = _names(items, db.session.scalars(select(Item.id).where(access.feed_filter(user, ItemKind.THREAT_NOTICE))))
    assert fed == SEES[who] & FEED_NOTICES
    assert db.session.scalars(select(Item.id).where(access.feed_filter(user, ItemKind.DOCUMENT))).all() == []
    assert db.session.scalars(select(Item.id).where(access.feed_filter(user, ItemKind.DENIAL))).all() == []


def test_feeds_and_stix_exports_for_machines_and_people(u: Any, items: dict[str, uuid.UUID]) -> None:
    it = lambda name: _item(items, name)  # noqa: E731

    def client(*scopes: str) -> Any:
        return access.MachineActor(id=u.fr_spoc.id, client_pk=uuid.uuid4(), client_id="ecc_rules",
                                   country=u.fr_spoc.country, scopes=frozenset(scopes))

    reader = client("notices:read")
    assert access.can_read_feed(reader, ItemKind.THREAT_NOTICE) and not access.can_read_feed(reader, ItemKind.DENIAL)
    assert not access.can_read_feed(client("notices:write"), ItemKind.THREAT_NOTICE)  # reading needs `:read`
    assert not access.can_read_feed(client("documents:read"), ItemKind.DOCUMENT)  # documents have no feed
    assert access.can_read_feed(u.dk_reader, ItemKind.DENIAL) and access.can_read_feed(u.sec, ItemKind.THREAT_NOTICE)
    assert not access.can_read_feed(u.admin, ItemKind.THREAT_NOTICE)
    assert not access.can_read_feed(u.dk_spoc_disabled, ItemKind.THREAT_NOTICE)
    assert not access.can_read_feed(u.dk_spoc, ItemKind.DOCUMENT)
    fed = _names(items, db.session.scalars(select(Item.id).where(access.feed_filter(reader, ItemKind.THREAT_NOTICE))))
    assert fed == {"G_ALL_SEC_OBS", "G_ALL", "A_FR", "W_A_FR", "FR_G_DE"}
    assert db.session.scalars(select(Item.id).where(access.feed_filter(client("denials:read"),
                                                                       ItemKind.THREAT_NOTICE))).all() == []
    # One item as STIX (after items_filter): live notices and denials; RED to people of its audience only.
    assert access.can_export_stix(reader, it("A_FR")) and access.can_export_stix(reader, it("W_A_FR"))
    assert not access.can_export_stix(reader, it("R_FR"))
    assert not access.can_export_stix(client("denials:read"), it("A_FR"))
    assert access.can_export_stix(u.fr_spoc, it("R_FR"))
    assert not access.can_export_stix(u.dk_spoc, it("DK_DRAFT")) and not access.can_export_stix(u.sec, it("SEC_DOC"))
    assert not access.can_export_stix(u.admin, it("G_ALL"))
    assert not access.can_export_stix(u.dk_spoc_disabled, it("G_ALL"))
    # The TAXII routes: any reading scope of items lets a client in; each collection then checks its kind.
    assert access.machine_may_call(reader, "taxii.get_objects", "GET", {})
    assert access.machine_may_call(reader, "stix.item_bundle", "GET", {"kind_slug": "denials"})
    assert not access.machine_may_call(client("meetings:read"), "taxii.discovery", "GET", {})
    assert not access.machine_may_call(client("denials:write"), "taxii.collections", "GET", {})


@pytest.mark.parametrize(("who", "item", "tlp", "expected"), [
    # Whoever sees the item opens its files, under the stricter of the two markings:
    ("dk_reader", "A_FR", Tlp.AMBER, True), ("dk_reader", "A_FR", Tlp.RED, False),
    ("fr_reader", "A_FR", Tlp.AMBER_STRICT, True), ("fr_reader", "A_FR", Tlp.RED, False),
    ("fr_officer", "A_FR", Tlp.RED, True), ("fr_spoc", "R_FR", Tlp.RED, True),
    ("cr_reader", "G_ALL_SEC_OBS", Tlp.GREEN, True), ("cr_reader", "G_ALL_SEC_OBS", Tlp.CLEAR, True),
    ("cr_spoc", "G_ALL_SEC_OBS", Tlp.AMBER, False), ("cr_officer", "G_ALL_SEC_OBS", Tlp.RED, False),
    ("sec", "G_ALL_SEC_OBS", Tlp.AMBER, True), ("sec", "SEC_DOC", Tlp.RED, True),
    # ... nobody disabled, no administrator:
    ("dk_spoc_disabled", "A_FR", Tlp.GREEN, False), ("dk_reader_invited", "A_FR", Tlp.CLEAR, False),
    ("sec_disabled", "SEC_DOC", Tlp.GREEN, False), ("admin", "A_FR", Tlp.CLEAR, False),
    # ... and a withdrawn item is a notice for its audience, its files stay with the originator:
    ("fr_spoc", "W_A_FR", Tlp.GREEN, False), ("fr_reader", "W_A_FR", Tlp.CLEAR, False),
    ("dk_spoc", "W_A_FR", Tlp.AMBER, True), ("dk_reader", "W_A_FR", Tlp.GREEN, True),
    ("dk_reader", "W_A_FR", Tlp.RED, False),
    ("sec", "SEC_DOC_W", Tlp.GREEN, True), ("dk_spoc", "SEC_DOC_W", Tlp.GREEN, False),
    ("fr_reader", "SEC_DOC_W", Tlp.GREEN, False), ("dk_spoc", "SEC_DOC", Tlp.RED, True),
])
def test_can_read_attachment(u: Any, items: dict[str, uuid.UUID], who: str, item: str, tlp: Tlp,
                             expected: bool) -> None:
    assert access.can_read_attachment(getattr(u, who), _item(items, item), tlp) is expected


def test_key_owner(u: Any) -> None:
    assert access.key_owner(u.sec) == SECRETARIAT_OWNER == "SECRETARIAT"
    assert access.key_owner(u.dk_reader) == "DK" and access.key_owner(u.cr_officer) == "CR"
    assert access.key_owner(u.admin) is None


# --- history: versions, events, attachments ----------------------------------------------

def _amend(app: Flask, author: Any, item_id: uuid.UUID, **overrides: Any) -> None:
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item is not None
        sharing.amend(db.session, helpers.user(author), item, helpers.payload_for(item.kind, **overrides), "Changed.")
        db.session.remove()


def _file_row(item_id: uuid.UUID, version: int, uploader: uuid.UUID) -> Attachment:
    """An attachment's row only (these tests ask the filter; the files are tests/attachments')."""
    return Attachment(item_id=item_id, item_version=version, filename=f"v{version}.pdf", media_type="application/pdf",
                      size=1, plaintext_sha256="0" * 64, ciphertext_sha256="1" * 64, ciphertext_size=1,
                      storage_name=uuid.uuid4().hex, manifest=b"{}", signature=b"\0" * 64, signer_owner="DK",
                      signer_key_version=1, tlp=Tlp.GREEN, uploaded_by_id=uploader)


@pytest.fixture
def history(app: Flask, cast: dict[str, Any], items: dict[str, uuid.UUID]) -> dict[str, uuid.UUID]:
    """Items whose versions went to different audiences, with a file attached under each version."""
    dk, sec = cast["dk_spoc"], cast["sec"]
    tn = "threat_notice"
    # Widened: AMBER to FR, then GREEN to all subscribing states and the observers.
    widened = helpers.make_item(app, dk, tn, tlp="AMBER", audience=_aud(countries=["FR"]))
    _amend(app, dk, widened, tlp="GREEN", audience=_aud(all_subscribing=True, observers=True))
    # Lowered: RED to FR, then AMBER to FR (FR's readers get version 2 only).
    lowered = helpers.make_item(app, dk, tn, tlp="RED", audience=_aud(countries=["FR"]))
    _amend(app, dk, lowered, tlp="AMBER", audience=_aud(countries=["FR"]))
    # Secretariat added in version 2.
    to_sec = helpers.make_item(app, dk, tn, tlp="AMBER", audience=_aud(countries=["FR"]))
    _amend(app, dk, to_sec, tlp="AMBER", audience=_aud(countries=["FR"], secretariat=True))
    # Narrowed: AMBER to FR and DE, then to FR alone (DE no longer sees the item, nor its history).
    narrowed = helpers.make_item(app, dk, tn, tlp="AMBER", audience=_aud(countries=["FR", "DE"]))
    _amend(app, dk, narrowed, tlp="AMBER", audience=_aud(countries=["FR"]))
    # The secretariat's own document, amended.
    doc = helpers.make_item(app, sec, "document", audience=_aud(countries=["FR"]))
    _amend(app, sec, doc, audience=_aud(countries=["FR"]))
    made = {"WIDENED": widened, "LOWERED": lowered, "TO_SEC": to_sec, "NARROWED": narrowed, "DOC": doc, "W_A_FR": items["W_A_FR"],
            "DK_DRAFT": items["DK_DRAFT"], "FR_DRAFT": items["FR_DRAFT"]}
    with app.app_context():
        for name, item_id in made.items():
            item = db.session.get(Item, item_id)
            assert item is not None
            db.session.add_all([_file_row(item_id, v, dk.id) for v in range(item.version + 1)])
        db.session.commit()
        db.session.remove()
    return made


def _versions(made: dict[str, uuid.UUID], user: User) -> set[str]:
    by_id = {v: k for k, v in made.items()}
    rows = db.session.execute(select(ItemVersion.item_id, ItemVersion.version).join(Item, Item.id == ItemVersion.item_id)
                              .where(Item.id.in_(made.values()), access.versions_filter(user)))
    return {f"{by_id[i]}/{v}" for i, v in rows}


def _events(made: dict[str, uuid.UUID], user: User) -> set[str]:
    by_id = {v: k for k, v in made.items()}
    rows = db.session.execute(select(ItemEvent.item_id, ItemEvent.kind, ItemEvent.version)
                              .join(Item, Item.id == ItemEvent.item_id)
                              .where(Item.id.in_(made.values()), access.events_filter(user)))
    return {f"{by_id[i]}/{kind.value}@{v}" for i, kind, v in rows}


def _files(made: dict[str, uuid.UUID], user: User) -> set[str]:
    by_id = {v: k for k, v in made.items()}
    rows = db.session.execute(select(Attachment.item_id, Attachment.item_version)
                              .join(Item, Item.id == Attachment.item_id)
                              .where(Item.id.in_(made.values()), access.attachments_filter(user)))
    return {f"{by_id[i]}/{v}" for i, v in rows}


def _all_events(name: str, versions: int) -> set[str]:
    return {f"{name}/created@0", f"{name}/published@1"} | {f"{name}/amended@{v}" for v in range(2, versions + 1)}


AMENDED = ("WIDENED", "LOWERED", "TO_SEC", "NARROWED")
W_EVENTS = {"W_A_FR/created@0", "W_A_FR/published@1", "W_A_FR/withdrawn@1"}
# who -> (versions, events, files), written out from "history is released too".
HISTORY: dict[str, tuple[set[str], set[str], set[str]]] = {
    # The originating state had every version (its readers: all but RED ones).
    "dk_spoc": ({f"{n}/{v}" for n in AMENDED for v in (1, 2)},
                set().union(*(_all_events(n, 2) for n in AMENDED)) | W_EVENTS | {"DK_DRAFT/created@0"},
                {f"{n}/{v}" for n in AMENDED for v in (0, 1, 2)} | {"W_A_FR/0", "W_A_FR/1", "DK_DRAFT/0"}),
    "dk_reader": ({"WIDENED/1", "WIDENED/2", "LOWERED/2", "TO_SEC/1", "TO_SEC/2", "NARROWED/1", "NARROWED/2"},
                  _all_events("WIDENED", 2) | {"LOWERED/amended@2"} | _all_events("TO_SEC", 2)
                  | _all_events("NARROWED", 2) | W_EVENTS,
                  {"WIDENED/0", "WIDENED/1", "WIDENED/2", "LOWERED/2", "TO_SEC/0", "TO_SEC/1", "TO_SEC/2", "W_A_FR/0",
                   "W_A_FR/1", "NARROWED/0", "NARROWED/1", "NARROWED/2"}),
    # FR was named in every version; a withdrawn item shows no versions, only its notice.
    "fr_spoc": ({f"{n}/{v}" for n in (*AMENDED, "DOC") for v in (1, 2)},
                set().union(*(_all_events(n, 2) for n in (*AMENDED, "DOC"))) | W_EVENTS | {"FR_DRAFT/created@0"},
                {f"{n}/{v}" for n in (*AMENDED, "DOC") for v in (0, 1, 2)} | {"W_A_FR/0", "W_A_FR/1", "FR_DRAFT/0"}),
    "fr_reader": ({"WIDENED/1", "WIDENED/2", "LOWERED/2", "TO_SEC/1", "TO_SEC/2", "NARROWED/1", "NARROWED/2",
                   "DOC/1", "DOC/2"},
                  _all_events("WIDENED", 2) | {"LOWERED/amended@2"} | _all_events("TO_SEC", 2)
                  | _all_events("NARROWED", 2) | _all_events("DOC", 2) | W_EVENTS,
                  {"WIDENED/0", "WIDENED/1", "WIDENED/2", "LOWERED/2", "TO_SEC/0", "TO_SEC/1", "TO_SEC/2", "DOC/0",
                   "DOC/1", "DOC/2", "W_A_FR/0", "W_A_FR/1", "NARROWED/0", "NARROWED/1", "NARROWED/2"}),
    # DE and the observers had version 2 of the widened item only (DE had version 1 of the narrowed
    # item, but no longer sees the item at all).
    "de_spoc": ({"WIDENED/2"}, {"WIDENED/amended@2"}, {"WIDENED/2"}),
    "cr_reader": ({"WIDENED/2"}, {"WIDENED/amended@2"}, {"WIDENED/2"}),
    # The secretariat: version 2 of TO_SEC, and all of its own document.
    "sec": ({"TO_SEC/2", "DOC/1", "DOC/2"}, {"TO_SEC/amended@2"} | _all_events("DOC", 2),
            {"TO_SEC/2", "DOC/0", "DOC/1", "DOC/2"}),
    "admin": (set(), set(), set()),
    "dk_spoc_disabled": (set(), set(), set()),
}


@pytest.mark.parametrize("who", sorted(HISTORY))
def test_history_is_released_too(u: Any, history: dict[str, uuid.UUID], who: str) -> None:
    user = getattr(u, who)
    versions, events, files = HISTORY[who]
    assert _versions(history, user) == versions
    assert _events(history, user) == events
    assert _files(history, user) == files


# --- meetings -------------------------------------------------------------------------

NOW = datetime(2026, 5, 1, 12, 0)


def _meeting(status: MeetingStatus, *, all_subscribing: bool = False, observers: bool = False,
             states: tuple[str, ...] = (), deadline_in: timedelta = timedelta(days=10),
             starts_in: timedelta = timedelta(days=20)) -> Meeting:
    """A meeting as predicates see it (not stored: the predicates read its fields only)."""
    return Meeting(status=status, invite_all_subscribing=all_subscribing, invite_observers=observers,
                   invited_states=[MeetingInvitedState(country_code=c) for c in states],
                   registration_deadline=NOW + deadline_in, starts_at=NOW + starts_in,
                   ends_at=NOW + starts_in + timedelta(hours=8))


@pytest.fixture
def meetings(app: Flask, cast: dict[str, Any]) -> dict[str, uuid.UUID]:
    """Stored meetings of the secretariat, in several statuses, with actions and minutes comments."""
    sec = cast["sec"]
    made = {
        "DRAFT": new_meeting(app, sec, announce=False),
        "DRAFT_OBS": new_meeting(app, sec, announce=False, invite_observers=True),
        "ALL": new_meeting(app, sec),
        "FR": new_meeting(app, sec, invite_all_subscribing=False, states=["FR"]),
        "OBS": new_meeting(app, sec, invite_all_subscribing=False, invite_observers=True, states=["DE"]),
        "CANCELLED": new_meeting(app, sec),
        "HELD_DK": new_meeting(app, sec, invite_all_subscribing=False, states=["DK"]),
    }
    with app.app_context():
        db.session.execute(update(Meeting).where(Meeting.id == made["CANCELLED"]).values(status=MeetingStatus.CANCELLED))
        db.session.execute(update(Meeting).where(Meeting.id == made["HELD_DK"]).values(status=MeetingStatus.HELD))
        actions = [("ALL", "DK"), ("ALL", "FR"), ("ALL", None), ("FR", "DK"), ("DRAFT", "DK"), ("FR", "FR"),
                   ("OBS", "CR"), ("HELD_DK", "DK")]
        for meeting, owner in actions:
            db.session.add(ActionItem(meeting_id=made[meeting], text=f"{meeting}/{owner}", owner_state_code=owner))
        minutes = Minutes(meeting_id=made["HELD_DK"], status=MinutesStatus.CIRCULATED, body="", version=1)
        db.session.add(minutes)
        db.session.flush()
        for code in ("DK", "FR"):
            db.session.add(MinutesComment(minutes_id=minutes.id, minutes_version=1, country_code=code, body=code))
        db.session.commit()
        db.session.remove()
    return made


MEETINGS_SEEN: dict[str, set[str]] = {
    "sec": {"DRAFT", "DRAFT_OBS", "ALL", "FR", "OBS", "CANCELLED", "HELD_DK"},
    "dk_spoc": {"ALL", "CANCELLED", "HELD_DK"}, "dk_officer": {"ALL", "CANCELLED", "HELD_DK"},
    "dk_reader": {"ALL", "CANCELLED", "HELD_DK"},
    "fr_spoc": {"ALL", "FR", "CANCELLED"}, "fr_reader": {"ALL", "FR", "CANCELLED"},
    "de_spoc": {"ALL", "OBS", "CANCELLED"},
    "cr_spoc": {"OBS"}, "cr_reader": {"OBS"},
    "admin": set(), "sec_disabled": set(), "dk_spoc_disabled": set(), "dk_reader_invited": set(),
}
ACTIONS_SEEN: dict[str, set[str]] = {
    "sec": {"ALL/DK", "ALL/FR", "ALL/None", "FR/DK", "DRAFT/DK", "FR/FR", "OBS/CR", "HELD_DK/DK"},
    "dk_spoc": {"ALL/DK", "HELD_DK/DK"}, "dk_reader": {"ALL/DK", "HELD_DK/DK"},  # not FR's meeting, not the draft
    "fr_officer": {"ALL/FR", "FR/FR"}, "de_spoc": set(), "cr_officer": {"OBS/CR"},
    "admin": set(), "sec_disabled": set(), "dk_spoc_disabled": set(),
}
COMMENTS_SEEN: dict[str, set[str]] = {
    "sec": {"DK", "FR"}, "dk_spoc": {"DK"}, "dk_reader": {"DK"}, "fr_officer": {"FR"}, "de_spoc": set(),
    "admin": set(), "sec_disabled": set(), "dk_spoc_disabled": set(),
}


@pytest.mark.parametrize("who", sorted(MEETINGS_SEEN))
def test_meetings_filter_and_can_view_meeting(u: Any, meetings: dict[str, uuid.UUID], who: str) -> None:
    user = getattr(u, who)
    by_id = {v: k for k, v in meetings.items()}
    assert {by_id[i] for i in db.session.scalars(select(Meeting.id).where(access.meetings_filter(user)))} == \
        MEETINGS_SEEN[who]
    # The Python twin answers the same for each meeting.
    for name, meeting_id in meetings.items():
        meeting = db.session.get(Meeting, meeting_id)
        assert access.can_view_meeting(user, meeting) is (name in MEETINGS_SEEN[who]), name


@pytest.mark.parametrize("who", sorted(ACTIONS_SEEN))
def test_actions_filter(u: Any, meetings: dict[str, uuid.UUID], who: str) -> None:
    by_id = {v: k for k, v in meetings.items()}
    rows = db.session.execute(select(ActionItem.meeting_id, ActionItem.owner_state_code)
                              .where(access.actions_filter(getattr(u, who))))
    assert {f"{by_id[m]}/{owner}" for m, owner in rows} == ACTIONS_SEEN[who]


@pytest.mark.parametrize("who", sorted(COMMENTS_SEEN))
def test_minutes_comments_filter(u: Any, meetings: dict[str, uuid.UUID], who: str) -> None:
    seen = set(db.session.scalars(select(MinutesComment.country_code)
                                  .where(access.minutes_comments_filter(getattr(u, who)))))
    assert seen == COMMENTS_SEEN[who]


def test_meeting_invites_and_agenda_versions(u: Any) -> None:
    fr_only = _meeting(MeetingStatus.ANNOUNCED, states=("FR",))
    assert access.can_view_meeting(u.fr_reader, fr_only) and not access.can_view_meeting(u.dk_spoc, fr_only)
    assert not access.can_view_meeting(u.fr_spoc, _meeting(MeetingStatus.DRAFT, all_subscribing=True))
    assert access.can_view_meeting(u.sec, _meeting(MeetingStatus.DRAFT))
    assert not access.can_view_meeting(u.cr_spoc, _meeting(MeetingStatus.ANNOUNCED, all_subscribing=True, states=("CR",)))
    assert access.can_view_meeting(u.cr_spoc, _meeting(MeetingStatus.HELD, observers=True))
    assert not access.can_view_meeting(u.fr_spoc, _meeting(MeetingStatus.ANNOUNCED, observers=True))
    # Agendas: the latest for everyone invited now; earlier ones for those invited then.
    meeting = _meeting(MeetingStatus.ANNOUNCED, all_subscribing=True)
    v1 = AgendaVersion(version=1, invite_all_subscribing=False, invite_observers=False, invited_states=["FR"])
    v2 = AgendaVersion(version=2, invite_all_subscribing=True, invite_observers=False, invited_states=[])
    assert access.can_view_agenda_version(u.fr_officer, meeting, v1, 2)
    assert not access.can_view_agenda_version(u.dk_officer, meeting, v1, 2)
    assert access.can_view_agenda_version(u.dk_officer, meeting, v2, 2)
    assert access.can_view_agenda_version(u.dk_officer, meeting, v1, 1)  # the latest is the meeting's agenda
    assert access.can_view_agenda_version(u.sec, meeting, v1, 2)
    assert not access.can_view_agenda_version(u.admin, meeting, v2, 2)
    draft = _meeting(MeetingStatus.DRAFT, all_subscribing=True)
    assert not access.can_view_agenda_version(u.fr_officer, draft, v1, 2)
    assert not access.can_view_agenda_version(u.fr_officer, draft, v2, 2)
    observers = _meeting(MeetingStatus.ANNOUNCED, observers=True)
    v1_obs = AgendaVersion(version=1, invite_all_subscribing=True, invite_observers=True, invited_states=[])
    v1_no_obs = AgendaVersion(version=1, invite_all_subscribing=True, invite_observers=False, invited_states=[])
    assert access.can_view_agenda_version(u.cr_reader, observers, v1_obs, 2)
    assert not access.can_view_agenda_version(u.cr_reader, observers, v1_no_obs, 2)


@pytest.mark.parametrize(("step", "status", "deadline_in", "starts_in", "refusal"), [
    (MeetingStep.ANNOUNCE, MeetingStatus.DRAFT, timedelta(days=1), timedelta(days=2), None),
    (MeetingStep.ANNOUNCE, MeetingStatus.DRAFT, timedelta(0), timedelta(days=2),
     "The registration deadline has passed: move it (and the dates if needed) first."),
    (MeetingStep.ANNOUNCE, MeetingStatus.DRAFT, -timedelta(seconds=1), timedelta(days=2),
     "The registration deadline has passed: move it (and the dates if needed) first."),
    (MeetingStep.ANNOUNCE, MeetingStatus.ANNOUNCED, timedelta(days=1), timedelta(days=2),
     "Only a draft meeting can be announced."),
    (MeetingStep.CLOSE_REGISTRATION, MeetingStatus.ANNOUNCED, -timedelta(days=1), timedelta(days=2), None),
    (MeetingStep.CLOSE_REGISTRATION, MeetingStatus.REGISTRATION_CLOSED, timedelta(days=1), timedelta(days=2),
     "Registration is open only while a meeting is announced."),
    (MeetingStep.REOPEN_REGISTRATION, MeetingStatus.REGISTRATION_CLOSED, timedelta(seconds=1), timedelta(days=2), None),
    (MeetingStep.REOPEN_REGISTRATION, MeetingStatus.REGISTRATION_CLOSED, timedelta(0), timedelta(days=2),
     "The registration deadline has passed: move it (and the dates if needed) first."),
    (MeetingStep.REOPEN_REGISTRATION, MeetingStatus.ANNOUNCED, timedelta(days=1), timedelta(days=2),
     "Registration is not closed."),
    (MeetingStep.MARK_HELD, MeetingStatus.ANNOUNCED, -timedelta(days=2), timedelta(0), None),
    (MeetingStep.MARK_HELD, MeetingStatus.REGISTRATION_CLOSED, -timedelta(days=2), -timedelta(days=1), None),
    (MeetingStep.MARK_HELD, MeetingStatus.ANNOUNCED, -timedelta(days=2), timedelta(seconds=1),
     "The meeting has not started yet."),
    (MeetingStep.MARK_HELD, MeetingStatus.DRAFT, -timedelta(days=2), -timedelta(days=1),
     "Only an announced meeting can be marked as held."),
    (MeetingStep.ADOPT_MINUTES, MeetingStatus.HELD, -timedelta(days=2), -timedelta(days=1), None),
    (MeetingStep.ADOPT_MINUTES, MeetingStatus.REGISTRATION_CLOSED, -timedelta(days=2), -timedelta(days=1),
     "Minutes are adopted once the meeting has been held."),
    (MeetingStep.CANCEL, MeetingStatus.DRAFT, -timedelta(days=2), -timedelta(days=1), None),
    (MeetingStep.CANCEL, MeetingStatus.HELD, timedelta(days=1), timedelta(days=2),
     "A meeting that has been held or cancelled cannot be cancelled."),
])
def test_meeting_step_refusal(step: MeetingStep, status: MeetingStatus, deadline_in: timedelta, starts_in: timedelta,
                              refusal: str | None) -> None:
    meeting = _meeting(status, all_subscribing=True, deadline_in=deadline_in, starts_in=starts_in)
    assert access.meeting_step_refusal(meeting, step, NOW) == refusal


def test_offered_meeting_steps(u: Any) -> None:
    announced = _meeting(MeetingStatus.ANNOUNCED, all_subscribing=True)  # starts in 20 days
    assert access.offered_meeting_steps(u.sec, announced, NOW) == {
        MeetingStep.CLOSE_REGISTRATION: None, MeetingStep.MARK_HELD: "The meeting has not started yet.",
        MeetingStep.CANCEL: None}
    held = _meeting(MeetingStatus.HELD, all_subscribing=True, deadline_in=-timedelta(days=3),
                    starts_in=-timedelta(days=1))
    assert access.offered_meeting_steps(u.sec, held, NOW) == {}  # adopting is the minutes page's
    assert access.offered_meeting_steps(u.sec, _meeting(MeetingStatus.DRAFT), NOW) == {
        MeetingStep.ANNOUNCE: None, MeetingStep.CANCEL: None}
    for other in ("admin", "dk_spoc", "sec_disabled"):
        assert access.offered_meeting_steps(getattr(u, other), announced, NOW) == {}


def test_managing_meetings(u: Any) -> None:
    assert access.can_manage_meetings(u.sec)
    assert not any(access.can_manage_meetings(getattr(u, p)) for p in ("sec_disabled", "admin", "dk_spoc"))
    for status in MeetingStatus:
        meeting = _meeting(status, all_subscribing=True)
        open_for_changes = status in (MeetingStatus.DRAFT, MeetingStatus.ANNOUNCED, MeetingStatus.REGISTRATION_CLOSED)
        assert access.can_edit_meeting(u.sec, meeting) is open_for_changes, status
        assert access.can_record_actions(u.sec, meeting) is (status not in (MeetingStatus.DRAFT,
                                                                               MeetingStatus.CANCELLED)), status
        assert not access.can_edit_meeting(u.sec_disabled, meeting)
        assert not access.can_record_actions(u.dk_spoc, meeting)
        assert access.registration_is_open(meeting, NOW) is (status is MeetingStatus.ANNOUNCED), status
    announced = _meeting(MeetingStatus.ANNOUNCED, deadline_in=timedelta(0))
    assert not access.registration_is_open(announced, NOW)  # the deadline itself is too late
    assert access.registration_is_open(_meeting(MeetingStatus.ANNOUNCED, deadline_in=timedelta(seconds=1)), NOW)


def test_delegations_contacts_and_calendar(u: Any) -> None:
    invited = _meeting(MeetingStatus.ANNOUNCED, states=("DK",))
    assert access.can_register_delegation(u.dk_spoc, invited)
    for other in ("dk_officer", "dk_reader", "fr_spoc", "sec", "admin", "dk_spoc_disabled"):
        assert not access.can_register_delegation(getattr(u, other), invited), other
    assert not access.can_register_delegation(u.dk_spoc, _meeting(MeetingStatus.DRAFT, states=("DK",)))
    assert access.can_see_delegate_contacts(u.sec, "DK") and access.can_see_delegate_contacts(u.dk_reader, "DK")
    assert not access.can_see_delegate_contacts(u.fr_spoc, "DK") and not access.can_see_delegate_contacts(u.admin, "DK")
    assert access.can_use_calendar_feed(u.sec) and access.can_use_calendar_feed(u.dk_reader)
    assert access.can_use_calendar_feed(u.cr_officer)
    for other in ("admin", "sec_disabled", "dk_spoc_disabled", "dk_reader_invited"):
        assert not access.can_use_calendar_feed(getattr(u, other)), other


def test_minutes(u: Any) -> None:
    held = _meeting(MeetingStatus.HELD, states=("DK",))
    working = Minutes(status=MinutesStatus.DRAFT, version=0)
    recirculating = Minutes(status=MinutesStatus.DRAFT, version=1)  # a draft of version 2, version 1 out
    circulated = Minutes(status=MinutesStatus.CIRCULATED, version=1)
    adopted = Minutes(status=MinutesStatus.ADOPTED, version=2)
    assert access.can_view_minutes(u.sec, working)
    assert not access.can_view_minutes(u.dk_spoc, working)
    assert all(access.can_view_minutes(u.dk_reader, m) for m in (recirculating, circulated, adopted))
    # Writing: the secretariat, once held, until adopted; adopting: circulated minutes.
    assert access.can_write_minutes(u.sec, held, None) and access.can_write_minutes(u.sec, held, working)
    assert access.can_write_minutes(u.sec, held, circulated)
    assert not access.can_write_minutes(u.sec, held, adopted)
    assert not access.can_write_minutes(u.dk_spoc, held, working)
    assert not access.can_write_minutes(u.sec, _meeting(MeetingStatus.ANNOUNCED), None)
    assert not access.can_write_minutes(u.sec, _meeting(MeetingStatus.MINUTES_ADOPTED), working)
    assert access.can_adopt_minutes(u.sec, held, circulated)
    assert not access.can_adopt_minutes(u.sec, held, working) and not access.can_adopt_minutes(u.sec, held, None)
    assert not access.can_adopt_minutes(u.sec, held, adopted) and not access.can_adopt_minutes(u.dk_spoc, held, circulated)
    assert not access.can_adopt_minutes(u.sec_disabled, held, circulated)
    # Comments: SPOCs and officers of invited states, on circulated minutes.
    assert access.can_comment_minutes(u.dk_spoc, held, circulated) and access.can_comment_minutes(
        u.dk_officer, held, circulated)
    for other in ("dk_reader", "fr_spoc", "sec", "admin", "dk_spoc_disabled"):
        assert not access.can_comment_minutes(getattr(u, other), held, circulated), other
    assert not access.can_comment_minutes(u.dk_spoc, held, working)
    assert not access.can_comment_minutes(u.dk_spoc, held, adopted)


# --- screening and denial review --------------------------------------------------------

def test_screening(u: Any) -> None:
    screeners = {"dk_spoc", "dk_officer", "fr_spoc", "fr_officer", "de_spoc", "cr_spoc", "cr_officer"}
    for who in CAST:
        user = getattr(u, who)
        assert access.can_screen(user) is (who in screeners), who
        assert access.can_see_reviews(user) is (who in screeners), who
    dk_record = Screening(country_code="DK")
    assert access.can_view_screening(u.dk_officer, dk_record) and access.can_view_screening(u.dk_spoc, dk_record)
    for other in ("dk_reader", "fr_spoc", "sec", "admin", "dk_officer_disabled"):
        assert not access.can_view_screening(getattr(u, other), dk_record), other
    for who, code in (("dk_spoc", "DK"), ("fr_officer", "FR")):
        assert str(access.screenings_filter(getattr(u, who)).compile(compile_kwargs={"literal_binds": True})) == \
            f"screenings.country_code = '{code}'"
    for other in ("dk_reader", "sec", "admin", "dk_spoc_disabled"):
        assert str(access.screenings_filter(getattr(u, other)).compile()) == "false"


def test_review_due_filter(app: Flask, u: Any, cast: dict[str, Any]) -> None:
    today = date(2026, 5, 1)
    dk, fr = cast["dk_spoc"], cast["fr_spoc"]
    due = {  # name -> (author, status, denial status, review date)
        "DUE_IN_30": (dk, "published", DenialStatus.ACTIVE, today + timedelta(days=30)),
        "DUE_IN_90": (dk, "published", DenialStatus.AMENDED, today + timedelta(days=90)),
        "DUE_IN_91": (dk, "published", DenialStatus.ACTIVE, today + timedelta(days=91)),
        "OVERDUE": (dk, "published", DenialStatus.ACTIVE, today - timedelta(days=1)),
        "REVOKED": (dk, "published", DenialStatus.REVOKED, today + timedelta(days=1)),
        "LAPSED": (dk, "published", DenialStatus.LAPSED, today - timedelta(days=1)),
        "NO_DATE": (dk, "published", DenialStatus.ACTIVE, None),
        "WITHDRAWN": (dk, "withdrawn", DenialStatus.ACTIVE, today + timedelta(days=1)),
        "FR_DUE": (fr, "published", DenialStatus.ACTIVE, today + timedelta(days=1)),
    }
    ids = {name: helpers.make_item(app, author, "denial", status, audience=_aud(all_subscribing=True))
           for name, (author, status, _, _) in due.items()}
    ids["NOTICE"] = helpers.make_item(app, dk, "threat_notice", audience=_aud(all_subscribing=True))
    for name, (_, _, denial_status, review) in due.items():
        db.session.execute(update(Item).where(Item.id == ids[name]).values(denial_status=denial_status,
                                                                            review_date=review))
    db.session.execute(update(Item).where(Item.id == ids["NOTICE"]).values(review_date=today))
    db.session.commit()
    by_id = {v: k for k, v in ids.items()}

    def listed(who: str) -> set[str]:
        return {by_id[i] for i in db.session.scalars(select(Item.id).where(access.review_due_filter(getattr(u, who),
                                                                                                    today)))}

    assert listed("dk_spoc") == {"DUE_IN_30", "DUE_IN_90", "OVERDUE"} == listed("dk_officer")
    assert listed("fr_officer") == {"FR_DUE"}
    for other in ("dk_reader", "sec", "admin", "dk_spoc_disabled", "de_spoc"):
        assert listed(other) == set(), other


# --- consultations ----------------------------------------------------------------------

def _consultation(status: ConsultationStatus, outcome: ConsultationOutcome | None = None,
                  tlp: Tlp = Tlp.AMBER) -> Consultation:
    """DK's denial, FR consulting (not stored: the predicates read its fields only)."""
    return Consultation(denying_code="DK", consulting_code="FR", status=status, outcome=outcome, tlp=tlp)


PARTIES = {"dk_spoc", "dk_officer", "fr_spoc", "fr_officer"}


def test_who_takes_part_in_consultations(u: Any) -> None:
    takes_part = PARTIES | {"de_spoc"}
    for who in CAST:
        assert access.takes_part_in_consultations(getattr(u, who)) is (who in takes_part), who


@pytest.mark.parametrize("status", list(ConsultationStatus))
def test_consultation_predicates(u: Any, status: ConsultationStatus) -> None:
    c = _consultation(status)
    still_open = status is not ConsultationStatus.CLOSED
    for who in CAST:
        user = getattr(u, who)
        party = who in PARTIES
        assert access.can_view_consultation(user, c) is party, who
        assert access.can_post_message(user, c) is (party and still_open), who
        assert access.can_answer(user, c) is (party and who.startswith("dk") and still_open), who
        assert access.can_close(user, c) is (party and who.startswith("fr") and still_open), who


def test_recording_own_denial_after_a_consultation(u: Any) -> None:
    denied = _consultation(ConsultationStatus.CLOSED, ConsultationOutcome.DENIED)
    assert access.can_record_own_denial(u.fr_spoc, denied) and access.can_record_own_denial(u.fr_officer, denied)
    for other in ("dk_spoc", "dk_officer", "fr_reader", "de_spoc", "sec", "admin"):
        assert not access.can_record_own_denial(getattr(u, other), denied), other
    for outcome in ConsultationOutcome:
        if outcome is not ConsultationOutcome.DENIED:
            assert not access.can_record_own_denial(u.fr_spoc, _consultation(ConsultationStatus.CLOSED, outcome))
    assert not access.can_record_own_denial(u.fr_spoc, _consultation(ConsultationStatus.ANSWERED,
                                                                     ConsultationOutcome.DENIED))
    assert access.may_email_consultation_content(_consultation(ConsultationStatus.OPEN, tlp=Tlp.GREEN))
    assert access.may_email_consultation_content(_consultation(ConsultationStatus.OPEN, tlp=Tlp.CLEAR))
    assert not access.may_email_consultation_content(_consultation(ConsultationStatus.OPEN, tlp=Tlp.AMBER))
    assert not access.may_email_consultation_content(_consultation(ConsultationStatus.OPEN, tlp=Tlp.RED))


@pytest.fixture
def denials(app: Flask, cast: dict[str, Any]) -> dict[str, uuid.UUID]:
    dk, fr = cast["dk_spoc"], cast["fr_spoc"]
    return {
        "DK_TO_FR": helpers.make_item(app, dk, "denial", tlp="AMBER", audience=_aud(countries=["FR"])),
        "DK_ALL": helpers.make_item(app, dk, "denial", tlp="GREEN", audience=_aud(all_subscribing=True)),
        "DK_WITHDRAWN": helpers.make_item(app, dk, "denial", "withdrawn", tlp="AMBER", audience=_aud(countries=["FR"])),
        "DK_DRAFT": helpers.make_item(app, dk, "denial", "draft", tlp="AMBER", audience=_aud(countries=["FR"])),
        "DK_NOTICE": helpers.make_item(app, dk, "threat_notice", tlp="AMBER", audience=_aud(countries=["FR"])),
        "FR_TO_DE": helpers.make_item(app, fr, "denial", tlp="AMBER", audience=_aud(countries=["DE"])),
    }


OPENS: dict[str, set[str]] = {
    "fr_spoc": {"DK_TO_FR", "DK_ALL"}, "fr_officer": {"DK_TO_FR", "DK_ALL"},
    "de_spoc": {"DK_ALL", "FR_TO_DE"}, "dk_spoc": {"FR_TO_DE"} - {"FR_TO_DE"}, "dk_officer": set(),
    "fr_reader": set(), "cr_spoc": set(), "sec": set(), "admin": set(), "dk_spoc_disabled": set(),
}


@pytest.mark.parametrize("who", sorted(OPENS))
def test_can_open_consultation(u: Any, denials: dict[str, uuid.UUID], who: str) -> None:
    user = getattr(u, who)
    assert {n for n in denials if access.can_open_consultation(user, _item(denials, n))} == OPENS[who]


def test_consultations_filter(app: Flask, u: Any, cast: dict[str, Any], denials: dict[str, uuid.UUID]) -> None:
    opened = {}
    for name, by, denial in (("DK_FR", "fr_officer", "DK_TO_FR"), ("FR_DE", "de_spoc", "FR_TO_DE")):
        consultation = consultations.open_consultation(db.session, helpers.user(cast[by]),
                                                       transaction(denials[denial]))
        opened[consultation.id] = name
    seen = lambda who: {opened[i] for i in db.session.scalars(  # noqa: E731
        select(Consultation.id).where(access.consultations_filter(getattr(u, who))))}
    assert seen("dk_spoc") == {"DK_FR"} == seen("dk_officer")
    assert seen("fr_spoc") == {"DK_FR", "FR_DE"} == seen("fr_officer")
    assert seen("de_spoc") == {"FR_DE"}
    for other in ("dk_reader", "fr_reader", "cr_spoc", "sec", "admin", "dk_spoc_disabled"):
        assert seen(other) == set(), other


def test_notifications_filter(app: Flask, u: Any, items: dict[str, uuid.UUID]) -> None:
    """A user's own notifications, while their item is visible; consultation ones only while
    the user takes part in consultations."""
    rows = {  # name -> (recipient, item, subject)
        "DK_OWN_ITEM": ("dk_spoc", "A_FR", None), "DK_HIDDEN_ITEM": ("dk_spoc", "FR_DRAFT", None),
        "DK_NO_ITEM": ("dk_spoc", None, None), "DK_CONSULTATION": ("dk_spoc", None, "consultation"),
        "DK_MEETING": ("dk_spoc", None, "meeting"),
        "READER_CONSULTATION": ("dk_reader", None, "consultation"), "READER_MEETING": ("dk_reader", None, "meeting"),
        "READER_ITEM": ("dk_reader", "A_FR", None), "READER_RED": ("dk_reader", "R_FR", None),
        "READER_NO_ITEM": ("dk_reader", None, None),
        "DISABLED_NO_ITEM": ("dk_spoc_disabled", None, None),
        "DISABLED_CONSULTATION": ("dk_spoc_disabled", None, "consultation"),
    }
    ids = {}
    for name, (who, item, subject) in rows.items():
        note = Notification(user_id=getattr(u, who).id, event_key=name, topic=AlertTopic.DENIALS,
                            item_id=items[item] if item else None, subject_type=subject, title=name, url="/")
        db.session.add(note)
        db.session.flush()
        ids[note.id] = name
    db.session.commit()
    seen = lambda who: {ids[i] for i in db.session.scalars(  # noqa: E731
        select(Notification.id).where(Notification.id.in_(ids), access.notifications_filter(getattr(u, who))))}
    assert seen("dk_spoc") == {"DK_OWN_ITEM", "DK_NO_ITEM", "DK_CONSULTATION", "DK_MEETING"}
    assert seen("dk_reader") == {"READER_MEETING", "READER_ITEM", "READER_NO_ITEM"}
    assert seen("dk_spoc_disabled") == {"DISABLED_NO_ITEM"}
    assert seen("fr_spoc") == set()


def test_withdrawn_item_of_a_state_keeps_its_files_from_the_secretariat(app: Flask, u: Any,
                                                                        cast: dict[str, Any]) -> None:
    """The secretariat keeps the files of its own withdrawn documents, not those of a state's."""
    withdrawn = helpers.make_item(app, cast["dk_spoc"], "threat_notice", "withdrawn", tlp="GREEN",
                                  audience=_aud(all_subscribing=True, secretariat=True))
    item = db.session.get(Item, withdrawn)
    assert item is not None
    assert access.can_read_attachment(u.dk_officer, item, Tlp.GREEN)
    assert not access.can_read_attachment(u.sec, item, Tlp.GREEN)
    assert not access.can_read_attachment(u.fr_spoc, item, Tlp.GREEN)


def test_review_due_filter_lists_denials_only(app: Flask, u: Any, cast: dict[str, Any]) -> None:
    """Only denials are reviewed, whatever another kind's row says."""
    today = date(2026, 5, 1)
    notice = helpers.make_item(app, cast["dk_spoc"], "threat_notice", audience=_aud(all_subscribing=True))
    denial = helpers.make_item(app, cast["dk_spoc"], "denial", audience=_aud(all_subscribing=True))
    for item_id in (notice, denial):
        db.session.execute(update(Item).where(Item.id == item_id).values(denial_status=DenialStatus.ACTIVE,
                                                                          review_date=today))
    db.session.commit()
    assert set(db.session.scalars(select(Item.id).where(access.review_due_filter(u.dk_spoc, today)))) == {denial}


def test_a_state_that_becomes_an_observer_no_longer_sees_its_drafts(app: Flask, u: Any, cast: dict[str, Any]) -> None:
    """Observer states have no drafts: a state moved to observer status keeps none in view."""
    draft = helpers.make_item(app, cast["de_spoc"], "threat_notice", "draft", audience=_aud(countries=["FR"]))
    published = helpers.make_item(app, cast["de_spoc"], "threat_notice", tlp="GREEN",
                                  audience=_aud(countries=["FR"], observers=True))
    db.session.execute(update(Country).where(Country.code == "DE").values(status=CountryStatus.OBSERVER))
    db.session.commit()
    de = db.session.get(User, cast["de_spoc"].id)
    db.session.refresh(de)
    assert de is not None and de.is_observer
    seen = set(db.session.scalars(select(Item.id).where(Item.id.in_([draft, published]), access.items_filter(de))))
    assert seen == {published}
