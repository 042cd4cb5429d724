"""A session that ends does not lose what was typed: a form posted afterwards is kept, encrypted,
under its sender's account, and filled in again (once, for them only) after they sign in again.
"Stay signed in" extends the session; a form sent after signing out explains itself.
Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from portal.auth import recovery
from portal.extensions import db
from portal.models import SavedForm, UserSession
from portal.models.base import utcnow
from tests.conftest import audit_actions, csrf_token

TITLE = "Zqtypedtitle before the session ended"


def _end_sessions(app: Flask, user_id: Any, idle: timedelta = timedelta(hours=2)) -> None:
    with app.app_context():
        db.session.execute(update(UserSession).where(UserSession.user_id == user_id)
                           .values(last_seen_at=utcnow() - idle))
        db.session.commit()
        db.session.remove()


def _post_denial_after_expiry(app: Flask, client: Any, account: Any) -> Any:
    token = csrf_token(client, "/denials/new")
    _end_sessions(app, account.id)
    return client.post("/denials/new", data={"csrf_token": token, "title": TITLE, "tlp": "AMBER",
                                             "rationale": "Line one\nline two", "parties-0-name": "Acme Ltd",
                                             "parties-0-country": "NO"})


def test_a_form_posted_after_the_session_ended_comes_back_after_signing_in(
        app: Flask, make_user: Any, login_as: Any) -> None:
    officer = make_user("officer", "DK")
    client = login_as(app.test_client(), officer)
    response = _post_denial_after_expiry(app, client, officer)
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/denials/new"
    assert TITLE not in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session had ended" in page
    with app.app_context():
        saved = db.session.scalars(select(SavedForm)).all()
        assert [(s.user_id, s.path) for s in saved] == [(officer.id, "/denials/new")]
        assert b"Zqtypedtitle" not in saved[0].sealed and b"Acme" not in saved[0].sealed  # encrypted
        db.session.remove()
    assert "session.form_kept" in audit_actions(app)

    # Someone else signing in on this browser gets nothing back.
    other = make_user("officer", "DK")
    assert TITLE not in login_as(app.test_client(), other).get("/denials/new").get_data(as_text=True)

    login_as(client, officer)
    html = client.get("/denials/new").get_data(as_text=True)
    assert "What you typed is filled in again" in html
    assert f'value="{TITLE}"' in html and "Line one\nline two" in html and 'value="Acme Ltd"' in html
    assert '<option selected value="NO">Norway</option>' in html
    assert 'value="Zq' not in client.get("/denials/new").get_data(as_text=True)  # given back once
    with app.app_context():
        assert db.session.scalars(select(SavedForm)).all() == []
        db.session.remove()


def test_a_saved_form_expires_and_keeps_no_secrets(app: Flask, make_user: Any) -> None:
    officer = make_user("officer", "DK")
    now = utcnow()
    with app.app_context():
        assert recovery.keep(db.session, officer.id, "/account/password",
                             [("csrf_token", "t"), ("current_password", "hunter2"), ("new_password", "x"),
                              ("confirm", "x")], "secret", now) is False  # nothing but secrets: nothing kept
        assert recovery.keep(db.session, officer.id, "/x", [("password", "hunter2"), ("title", "Kept")],
                             "secret", now)
        db.session.commit()
        assert recovery.take(db.session, officer.id, "/x", "secret", now) == [("title", "Kept")]
        recovery.keep(db.session, officer.id, "/y", [("title", "Old")], "secret", now)
        db.session.commit()
        later = now + recovery.LIFETIME + timedelta(seconds=1)
        assert recovery.pending_paths(db.session, officer.id, later) == []
        assert recovery.take(db.session, officer.id, "/y", "secret", later) is None
        assert recovery.take(db.session, officer.id, "/y", "another secret", now) is None
        db.session.remove()


def test_stay_signed_in_restarts_the_idle_clock(app: Flask, make_user: Any, login_as: Any) -> None:
    reader = make_user("reader", "DK")
    client = login_as(app.test_client(), reader)
    html = client.get("/").get_data(as_text=True)
    assert 'id="session-dialog"' in html and 'data-warning="120"' in html
    assert re.search(r'data-timeout="(17[89]\d|1800)"', html)  # 30 minutes, from the session's last touch
    token = csrf_token(client, "/")
    _end_sessions(app, reader.id, timedelta(minutes=29))
    response = client.post("/session/extend", headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == 200 and response.get_json() == {"remaining_seconds": 1800, "final": False}
    with app.app_context():
        seen = db.session.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == reader.id))
        assert seen is not None and utcnow() - seen < timedelta(minutes=1)
        db.session.remove()
    assert client.post("/session/extend").status_code == 400  # a page's script only (CSRF)
    assert app.test_client().post("/session/extend").status_code in (302, 400)  # never for the signed-out


def test_near_the_absolute_limit_the_dialog_warns_and_staying_does_not_move_it(app: Flask, make_user: Any,
                                                                                 login_as: Any) -> None:
    """Sessions end after SESSION_ABSOLUTE_TIMEOUT however active: the page counts down to that end
    and says so, and "stay signed in" cannot move it."""
    reader = make_user("reader", "DK")
    client = login_as(app.test_client(), reader)
    absolute = app.config["SESSION_ABSOLUTE_TIMEOUT"]
    with app.app_context():
        db.session.execute(update(UserSession).where(UserSession.user_id == reader.id)
                           .values(created_at=utcnow() - absolute + timedelta(minutes=10)))
        db.session.commit()
        db.session.remove()
    html = client.get("/").get_data(as_text=True)
    assert 'data-final="true"' in html and re.search(r'data-timeout="(59\d|600)"', html)
    assert "A session lasts at most 12 hours, however active you are" in html
    token = csrf_token(client, "/")
    answer = client.post("/session/extend", headers={"X-CSRFToken": token, "Accept": "application/json"}).get_json()
    assert answer["final"] is True and 580 <= answer["remaining_seconds"] <= 600
    with app.app_context():
        db.session.execute(update(UserSession).where(UserSession.user_id == reader.id)
                           .values(created_at=utcnow() - absolute - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()
    assert client.get("/").status_code == 302  # past it: signed out, whatever the idle clock says


def test_a_form_sent_after_signing_out_explains_itself(app: Flask, make_user: Any, login_as: Any) -> None:
    officer = make_user("officer", "DK")
    client = login_as(app.test_client(), officer)
    token = csrf_token(client, "/denials/new")
    client.post("/logout", data={"csrf_token": token})  # "another tab": the same browser's cookie
    response = client.post("/denials/new", data={"csrf_token": token, "title": TITLE},
                           headers={"Referer": "http://localhost/denials/new"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "You are signed out" in html
    assert "/login?next=/denials/new" in html
