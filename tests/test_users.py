"""Account administration: who may list, open and change which accounts.

The matrix covers every Users page × six kinds of actor × three kinds of target. Accounts
the actor may not see answer 404 (their existence does not leak); visible accounts the
actor may not change answer 403; a permitted change redirects (302) and is checked in the
database. A user of one state can never list, view or change users of another state.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import AuditEntry, Role, User, UserStatus
from tests.conftest import audit_actions, csrf_token, flash_errors, load_user, post_form

ACTORS: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "spoc_dk": ("spoc", "DK"),
    "spoc_no": ("spoc", "NO"),
    "officer_dk": ("officer", "DK"),
    "reader_dk": ("reader", "DK"),
    "secretariat": ("secretariat", None),
}
TARGETS: dict[str, tuple[str, str]] = {
    "officer_dk": ("officer", "DK"),
    "officer_no": ("officer", "NO"),
    "spoc_dk": ("spoc", "DK"),
}
NOT_MANAGERS = {"officer_dk": (404, 404, 404), "reader_dk": (404, 404, 404), "secretariat": (404, 404, 404)}

# action -> actor -> expected status for targets (officer of DK, officer of NO, SPOC of DK).
MATRIX: dict[str, dict[str, tuple[int, int, int]]] = {
    "detail": {"admin": (200, 200, 200), "spoc_dk": (200, 404, 200), "spoc_no": (404, 200, 404), **NOT_MANAGERS},
    "disable": {"admin": (302, 302, 302), "spoc_dk": (302, 404, 403), "spoc_no": (404, 302, 404), **NOT_MANAGERS},
    "enable": {"admin": (302, 302, 302), "spoc_dk": (302, 404, 403), "spoc_no": (404, 302, 404), **NOT_MANAGERS},
    "role": {"admin": (302, 302, 302), "spoc_dk": (302, 404, 403), "spoc_no": (404, 302, 404), **NOT_MANAGERS},
    "reset-mfa": {"admin": (302, 302, 302), "spoc_dk": (403, 404, 403), "spoc_no": (404, 403, 404), **NOT_MANAGERS},
    "designate": {"admin": (302, 302, 302), "spoc_dk": (403, 404, 403), "spoc_no": (404, 403, 404), **NOT_MANAGERS},
    # Admins invite points of contact, a SPOC its own officers and readers: resending follows suit.
    "resend-invitation": {"admin": (403, 403, 302), "spoc_dk": (302, 404, 403), "spoc_no": (404, 302, 404), **NOT_MANAGERS},
}
# Allowed, but the target does not qualify: the page says why and nothing changes.
REFUSED_WITH_MESSAGE = {
    ("designate", "admin", "officer_dk"): "Only an active point-of-contact account can be designated.",
    ("designate", "admin", "officer_no"): "Only an active point-of-contact account can be designated.",
}
TARGET_STATUS = {"enable": UserStatus.DISABLED, "resend-invitation": UserStatus.INVITED}
NEW_ROLE = {"officer": "reader", "spoc": "officer"}


def snapshot(app: Flask, user_id: uuid.UUID) -> tuple[Any, ...]:
    user = load_user(app, user_id)
    return (user.status, user.role, user.country_code, user.totp_enrolled_at, user.is_designated_poc)


def check_effect(app: Flask, mailbox: Any, action: str, target: Any) -> None:
    """What a permitted action must have done to `target` (as the database and mailbox say)."""
    after = load_user(app, target.id)
    last_audit = audit_actions(app, target.id)[-1]
    if action == "disable":
        assert (after.status, last_audit) == (UserStatus.DISABLED, "user.disabled")
    elif action == "enable":
        assert (after.status, last_audit) == (UserStatus.ACTIVE, "user.enabled")
    elif action == "role":
        assert (after.role.value, last_audit) == (NEW_ROLE[target.role.value], "user.role_changed")
    elif action == "reset-mfa":
        assert (after.totp_secret, after.totp_enrolled_at, after.totp_last_counter, last_audit) == (
            None, None, None, "mfa.reset")
    elif action == "designate":
        assert (after.is_designated_poc, last_audit) == (True, "user.designated_poc")
    elif action == "resend-invitation":
        assert [m["Subject"] for m in mailbox.to(target.email)] == ["You are invited to the ECHRI Portal"]
        assert last_audit == "user.invitation_resent"
    else:  # pragma: no cover - a new action needs its check here
        pytest.fail(f"no effect check for {action}")


# One app per (action, actor); the three targets are checked in turn and reported together.
@pytest.mark.parametrize("action, actor_key", [
    pytest.param(action, actor, id=f"{action}-{actor}") for action, by_actor in MATRIX.items() for actor in by_actor
])
def test_authorisation_matrix(app: Flask, make_user: Any, login_as: Any, mailbox: Any,
                              action: str, actor_key: str) -> None:
    actor = make_user(*ACTORS[actor_key])
    client = login_as(app.test_client(), actor)
    statuses = []
    for target_key, (role, country) in TARGETS.items():
        where = f"{action} by {actor_key} on {target_key}"
        target = make_user(role, country, status=TARGET_STATUS.get(action, UserStatus.ACTIVE))
        before = snapshot(app, target.id)
        audit_before = audit_actions(app, target.id)

        if action == "detail":
            response = client.get(f"/users/{target.id}")
        else:
            data = {"role": NEW_ROLE[role]} if action == "role" else {}
            response = post_form(client, f"/users/{target.id}/{action}", data)
        statuses.append(response.status_code)

        if response.status_code == 200:
            assert target.email in response.get_data(as_text=True), where
        elif response.status_code in (403, 404):
            assert snapshot(app, target.id) == before, where
            assert audit_actions(app, target.id) == audit_before, where
            assert mailbox.to(target.email) == [], where
        elif response.status_code == 302:
            assert response.headers["Location"] == f"/users/{target.id}", where
            refusal = REFUSED_WITH_MESSAGE.get((action, actor_key, target_key))
            if refusal:
                assert flash_errors(client.get(response.headers["Location"])) == [refusal], where
                assert snapshot(app, target.id) == before, where
            else:
                check_effect(app, mailbox, action, target)
    assert tuple(statuses) == MATRIX[action][actor_key], f"{action} by {actor_key} on {tuple(TARGETS)}"


@pytest.mark.parametrize("actor_key, expected", [
    ("admin", 200), ("spoc_dk", 200), ("spoc_no", 200), ("officer_dk", 404), ("reader_dk", 404), ("secretariat", 404),
])
def test_users_index_and_invite_are_for_admins_and_spocs_only(app: Flask, make_user: Any, login_as: Any,
                                                              actor_key: str, expected: int) -> None:
    client = login_as(app.test_client(), make_user(*ACTORS[actor_key]))
    assert {page: client.get(page).status_code for page in ("/users/", "/users/invite")} == {
        "/users/": expected, "/users/invite": expected}


def test_spoc_lists_only_its_own_state(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "DK")
    dk = [make_user("officer", "DK"), make_user("reader", "DK"), make_user("spoc", "DK")]
    others = [make_user("officer", "NO"), make_user("spoc", "NO"), make_user("admin", None), make_user("secretariat", None)]
    client = login_as(app.test_client(), spoc)

    html = client.get("/users/?per_page=100").get_data(as_text=True)
    assert "<h1>Accounts of Denmark</h1>" in html
    for account in [spoc, *dk]:
        assert f"<td>{account.email}</td>" in html
    for account in others:
        assert account.email not in html
    # Searching for another state's account finds nothing either.
    found = client.get("/users/", query_string={"q": others[0].email}).get_data(as_text=True)
    assert f"<td>{others[0].email}</td>" not in found and "No accounts match." in found

    admin_html = login_as(app.test_client(), others[2]).get("/users/?per_page=100").get_data(as_text=True)
    for account in [spoc, *dk, *others]:
        assert f"<td>{account.email}</td>" in admin_html


@pytest.mark.parametrize("data, field, message", [
    ({"role": "officer", "country": "NO"}, "country", "Not a valid choice."),
    ({"role": "spoc", "country": "DK"}, "role", "Not a valid choice."),
    ({"role": "admin", "country": ""}, "role", "Not a valid choice."),
    ({"role": "secretariat", "country": ""}, "role", "Not a valid choice."),
])
def test_spoc_cannot_invite_outside_its_state_or_role(app: Flask, make_user: Any, login_as: Any, mailbox: Any,
                                                     data: dict[str, str], field: str, message: str) -> None:
    client = login_as(app.test_client(), make_user("spoc", "DK"))
    response = post_form(client, "/users/invite", {"name": "Eve Extra", "email": "eve@elsewhere.example", **data},
                         page="/users/invite")
    assert response.status_code == 200
    assert f'id="{field}-error"><span class="visually-hidden">Error:</span> {message}</p>' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "eve@elsewhere.example")) == 0
        db.session.remove()
    assert mailbox.messages == []


def test_spoc_invites_an_officer_into_its_own_state(app: Flask, make_user: Any, login_as: Any, mailbox: Any) -> None:
    spoc = make_user("spoc", "DK")
    client = login_as(app.test_client(), spoc)
    response = post_form(client, "/users/invite", {"name": "Otto Olsen", "email": "otto@um.example", "role": "officer",
                                                   "country": "DK"}, page="/users/invite")
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "otto@um.example")).one()
        assert (user.role, user.country_code, user.status, user.invited_by_id) == (
            Role.OFFICER, "DK", UserStatus.INVITED, spoc.id)
        db.session.remove()
    assert [m["Subject"] for m in mailbox.to("otto@um.example")] == ["You are invited to the ECHRI Portal"]


def test_invite_refuses_a_duplicate_email(app: Flask, make_user: Any, login_as: Any, mailbox: Any) -> None:
    existing = make_user("officer", "DK")
    client = login_as(app.test_client(), make_user("spoc", "DK"))
    response = post_form(client, "/users/invite", {"name": "Twin", "email": existing.email.upper(), "role": "reader",
                                                   "country": "DK"}, page="/users/invite")
    assert response.status_code == 200
    assert "An account with this e-mail address already exists." in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_admin_invite_of_a_state_role_needs_a_state(app: Flask, make_user: Any, login_as: Any, mailbox: Any) -> None:
    client = login_as(app.test_client(), make_user("admin", None))
    response = post_form(client, "/users/invite", {"name": "No State", "email": "ns@echri.example", "role": "spoc",
                                                   "country": ""}, page="/users/invite")
    assert response.status_code == 200
    assert "Choose the state this person works for." in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_spoc_cannot_promote_to_point_of_contact(app: Flask, make_user: Any, login_as: Any) -> None:
    officer = make_user("officer", "DK")
    client = login_as(app.test_client(), make_user("spoc", "DK"))
    for role in ("spoc", "admin", "secretariat"):
        assert post_form(client, f"/users/{officer.id}/role", {"role": role}).status_code == 400
    assert load_user(app, officer.id).role is Role.OFFICER
    assert audit_actions(app, officer.id) == []


def test_role_change_ends_the_targets_sessions(app: Flask, make_user: Any, login_as: Any) -> None:
    officer = make_user("officer", "DK")
    officer_client = login_as(app.test_client(), officer)
    spoc = login_as(app.test_client(), make_user("spoc", "DK"))
    assert post_form(spoc, f"/users/{officer.id}/role", {"role": "reader"}).status_code == 302
    response = officer_client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_nobody_changes_their_own_status(app: Flask, make_user: Any, login_as: Any) -> None:
    for role, country in (("admin", None), ("spoc", "DK")):
        me = make_user(role, country)
        client = login_as(app.test_client(), me)
        assert post_form(client, f"/users/{me.id}/disable").status_code == 403
        assert load_user(app, me.id).status is UserStatus.ACTIVE


# --- one designated point of contact per state ------------------------------------------

def _user(role: Role, country: str | None, designated: bool) -> User:
    return User(email=f"{uuid.uuid4().hex[:10]}@echri.example", name="X", role=role, country_code=country,
                is_designated_poc=designated, status=UserStatus.ACTIVE)


def test_database_allows_only_one_designated_poc_per_state(ctx: None) -> None:
    db.session.add_all([_user(Role.SPOC, "DK", True), _user(Role.SPOC, "DK", False), _user(Role.SPOC, "DK", False),
                        _user(Role.SPOC, "NO", True)])
    db.session.commit()  # alternates and other states' contacts are fine

    db.session.add(_user(Role.SPOC, "DK", True))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.is_designated_poc.is_(True))) == 2


def test_database_refuses_a_designated_non_spoc(ctx: None) -> None:
    db.session.add(_user(Role.OFFICER, "DK", True))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_designation_by_admin_moves_it(app: Flask, make_user: Any, login_as: Any) -> None:
    current = make_user("spoc", "DK", designated=True)
    alternate = make_user("spoc", "DK")
    admin = make_user("admin", None)
    client = login_as(app.test_client(), admin)

    response = post_form(client, f"/users/{alternate.id}/designate")
    assert response.status_code == 302
    assert load_user(app, alternate.id).is_designated_poc is True
    assert load_user(app, current.id).is_designated_poc is False
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.designated_poc")).one()
        assert (entry.actor_id, entry.target_id, entry.details) == (
            str(admin.id), str(alternate.id), {"country": "DK", "previous": str(current.id)})
        db.session.remove()
    directory = client.get("/countries/").get_data(as_text=True)
    assert alternate.email in directory and current.email not in directory


def test_disabling_or_demoting_the_designated_poc_clears_the_designation(app: Flask, make_user: Any, login_as: Any) -> None:
    admin = login_as(app.test_client(), make_user("admin", None))
    disabled = make_user("spoc", "DK", designated=True)
    assert post_form(admin, f"/users/{disabled.id}/disable").status_code == 302
    assert load_user(app, disabled.id).is_designated_poc is False

    demoted = make_user("spoc", "DK", designated=True)  # the slot is free again
    assert post_form(admin, f"/users/{demoted.id}/role", {"role": "officer"}).status_code == 302
    after = load_user(app, demoted.id)
    assert (after.role, after.is_designated_poc) == (Role.OFFICER, False)


# --- audit and CSRF ---------------------------------------------------------------------

def test_disable_and_enable_are_audited(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "DK")
    officer = make_user("officer", "DK")
    client = login_as(app.test_client(), spoc)
    post_form(client, f"/users/{officer.id}/disable")
    post_form(client, f"/users/{officer.id}/enable")
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.target_id == str(officer.id))
                                     .order_by(AuditEntry.id)).all()
        assert [(e.action, e.actor_id, e.actor_country, e.details) for e in entries] == [
            ("user.disabled", str(spoc.id), "DK", {"from": "active", "to": "disabled", "sessions_ended": 0,
                                                    "api_tokens_revoked": 0}),
            ("user.enabled", str(spoc.id), "DK", {"from": "disabled", "to": "active"}),
        ]
        db.session.remove()


def test_post_without_csrf_token_is_refused_and_changes_nothing(app: Flask, make_user: Any, login_as: Any) -> None:
    officer = make_user("officer", "DK")
    client = login_as(app.test_client(), make_user("admin", None))
    before = snapshot(app, officer.id)

    response = client.post(f"/users/{officer.id}/disable")
    assert response.status_code == 400
    assert "The page had been open too long or was not sent by this site" in response.get_data(as_text=True)
    # A token from another session does not do either.
    other = login_as(app.test_client(), make_user("admin", None))
    stolen = csrf_token(other)
    assert client.post(f"/users/{officer.id}/disable", data={"csrf_token": stolen}).status_code == 400
    assert client.post(f"/users/{officer.id}/role", data={"role": "reader"}).status_code == 400
    assert snapshot(app, officer.id) == before
    assert audit_actions(app, officer.id) == []


def test_disabled_user_cannot_be_re_enabled_before_accepting_invitation(app: Flask, make_user: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("spoc", "DK"))
    invited = make_user("officer", "DK", status=UserStatus.INVITED)
    with app.app_context():
        user = db.session.get(User, invited.id)
        assert user is not None
        user.password_hash = None
        db.session.commit()
        db.session.remove()
    assert post_form(client, f"/users/{invited.id}/disable").status_code == 302
    response = post_form(client, f"/users/{invited.id}/enable")
    assert response.status_code == 302
    assert flash_errors(client.get(response.headers["Location"])) == [
        "This person has not accepted the invitation yet; send a new one instead."]
    assert load_user(app, invited.id).status is UserStatus.DISABLED


def test_invitation_saved_when_mail_server_is_down(app: Any, client: Any, make_user: Any, login_as: Any, mailbox: Any) -> None:
    admin = make_user("admin", None)
    login_as(client, admin)
    app.config["SMTP_PORT"] = 1  # nothing listens there
    response = post_form(client, "/users/invite", {"name": "Ann Other", "email": "ann@echri.example", "role": "spoc",
                                                   "country": "FI", "position": ""}, page="/users/invite")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "could not be sent" in page and not mailbox.messages
    assert "ann@echri.example" in client.get("/users/?q=ann").get_data(as_text=True)


def test_accounts_made_outside_a_form_follow_the_same_text_rules(ctx: None) -> None:
    """The operator CLI and the service check names as the pages do: one line, no control characters."""
    from portal.errors import ValidationFailed
    from portal.users.service import create_user

    with pytest.raises(ValidationFailed) as refused:
        create_user(db.session, email="eve@dk.example", name="Eve\nBcc: x@evil.example", role=Role.OFFICER,
                    country_code="DK", position="Director\u2029Evil")
    assert refused.value.fields == {"name": "Must be on one line, without control characters.",
                                    "position": "Must be on one line, without control characters."}
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
