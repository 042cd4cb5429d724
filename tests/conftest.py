"""Test harness: the whole suite runs on SQLite and on a real PostgreSQL 15 server.

The schema is created by the Alembic migrations once per backend per worker; each test
gets a fresh app and an emptied database (the founding register re-seeded).
"""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import inspect, select, text

from portal import create_app
from portal.auth import sessions
from portal.countries import service as countries
from portal.extensions import db, limiter
from portal.models import Base, Role, User, UserStatus
from portal.models.base import utcnow
from tests.pg import PostgresServer
from tests.redis_server import RedisServer
from tests.s3 import S3Server
from tests.smtp import SmtpServer

PASSWORD = "amber-harbour-lantern-42"
BACKENDS = ["sqlite", "postgresql"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=["all", *BACKENDS], default=os.environ.get("PORTAL_TEST_BACKEND", "all"),
                     help="run on one database only (default: both)")
    parser.addoption("--store", choices=["all", "local", "s3"], default=os.environ.get("PORTAL_TEST_STORE", "all"),
                     help="attachment store(s) for tests/attachments (default: both)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        metafunc.parametrize("backend", BACKENDS if chosen == "all" else [chosen], scope="session")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real Redis for the rate limits (started only when a test asks for it)."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """An S3 API server (moto) for the object-storage backend; started only by tests that ask for it."""
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def migrate(url: str) -> None:
    from alembic import command

    from portal.cli import alembic_config

    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'portal.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database("portal_test")
    migrate(url)
    return url


def _empty_database(app: Flask) -> None:
    """Delete every row (DELETE is several times faster than TRUNCATE on these small tables)."""
    engine = app.extensions["portal.db"]
    existing = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in existing:
                conn.execute(table.delete())
        if engine.dialect.name == "sqlite":
            conn.execute(text("DELETE FROM item_fts"))  # the FTS5 index lives outside the models


@pytest.fixture(scope="session")
def shared_app(database_url: str, smtp_server: SmtpServer) -> Iterator[tuple[Flask, dict[str, Any]]]:
    """One app per backend and worker: building one (URL map, engine) costs more than most tests."""
    application = create_app("testing", DATABASE_URL=database_url, SMTP_PORT=smtp_server.port)
    yield application, dict(application.config)
    application.extensions["portal.db"].dispose()


@pytest.fixture
def app(shared_app: tuple[Flask, dict[str, Any]], smtp_server: SmtpServer, tmp_path: Any) -> Iterator[Flask]:
    """The app with pristine settings, its own instance folder, and an empty database."""
    application, pristine = shared_app
    application.config.clear()
    application.config.update(pristine)
    application.instance_path = str(tmp_path / "instance")
    os.makedirs(application.instance_path, exist_ok=True)
    application.extensions.pop("portal.keyprovider", None)  # a fresh master key file in this instance folder
    with application.app_context():
        _empty_database(application)
        countries.seed_register(db.session)
        db.session.remove()
        limiter.reset()  # rate-limit counters start at zero for each test, like the database
    smtp_server.mailbox.clear()
    yield application
    with application.app_context():
        db.session.remove()


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Any:
    return smtp_server.mailbox


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An app context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.remove()


@dataclass
class Account:
    id: uuid.UUID
    email: str
    role: Role
    country: str | None
    totp_secret: str
    password: str = PASSWORD

    def code(self, offset_steps: int = 0) -> str:
        totp = pyotp.TOTP(self.totp_secret)
        return totp.at(int(utcnow().timestamp()) + 30 * offset_steps)


@pytest.fixture
def make_user(app: Flask) -> Any:
    """Create an active, enrolled account directly in the database."""
    from portal.auth.service import passwords

    counter = iter(range(10_000))

    def factory(role: str | Role = Role.OFFICER, country: str | None = "DK", *, email: str | None = None,
                designated: bool = False, status: UserStatus = UserStatus.ACTIVE, name: str | None = None) -> Account:
        role = Role(role)
        country = country if role.belongs_to_state else None
        email = email or f"{role.value}.{(country or 'org').lower()}.{next(counter)}@echri.example"
        secret = pyotp.random_base32()
        with app.app_context():
            user = User(email=email, name=name or email.split("@")[0].replace(".", " ").title(), role=role,
                        country_code=country, is_designated_poc=designated, status=status,
                        password_hash=passwords().hash(PASSWORD), password_changed_at=utcnow(),
                        totp_secret=secret, totp_enrolled_at=utcnow())
            db.session.add(user)
            db.session.commit()
            account = Account(user.id, email, role, country, secret)
            db.session.remove()
        return account

    return factory


@pytest.fixture
def login_as(app: Flask) -> Any:
    """Sign `account` in on `client` by opening a server-side session (the full flow is tested in test_auth)."""

    def do(client: FlaskClient, account: Account) -> FlaskClient:
        with app.app_context():
            user = db.session.get(User, account.id)
            assert user is not None
            token = sessions.start(db.session, user, utcnow(), "127.0.0.1", "pytest")
            db.session.commit()
            db.session.remove()
        with client.session_transaction() as session:
            session.clear()
            session["sid"] = token
            session["_user_id"] = str(account.id)
            session["_fresh"] = True
        return client

    return do


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/account/") -> str:
    """The CSRF token a real browser would have from rendering `page`."""
    html = client.get(page).get_data(as_text=True)
    match = CSRF_PATTERN.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1) or match.group(2)


def post_form(client: FlaskClient, url: str, data: dict[str, Any] | None = None, *, page: str = "/account/", **kwargs: Any) -> Any:
    """POST like a browser: with the CSRF token taken from a rendered page."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, page)
    return client.post(url, data=payload, **kwargs)


# --- helpers for tests that drive the real pages and look at the database ---------------

FLASH_ERROR_PATTERN = re.compile(r'<div class="notice notice-error" role="alert">(.*?)</div>', re.DOTALL)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, code: str | None = None,
            *, next_url: str | None = None) -> Any:
    """Sign in through the real pages: the password step, then (when `code` is given and the
    password was accepted) the TOTP step. Returns the last response."""
    query = {"next": next_url} if next_url is not None else {}
    response = post_form(client, "/login", {"email": email, "password": password}, page="/login", query_string=query)
    if code is None or response.status_code != 302 or response.headers["Location"] != "/login/code":
        return response
    return post_form(client, "/login/code", {"code": code}, page="/login/code")


def flash_errors(response: Any) -> list[str]:
    """The error notices shown on a rendered page."""
    return [m.strip() for m in FLASH_ERROR_PATTERN.findall(response.get_data(as_text=True))]


def run_sql(app: Flask, statement: Any, params: dict[str, Any] | None = None) -> Any:
    """Execute one statement in its own committed transaction, as an outside writer would."""
    with app.extensions["portal.db"].begin() as conn:
        result = conn.execute(text(statement) if isinstance(statement, str) else statement, params or {})
        return result.rowcount


def audit_actions(app: Flask, target_id: object | None = None) -> list[str]:
    """The audit log's actions in order (optionally only those about `target_id`)."""
    from portal.models import AuditEntry

    with app.app_context():
        query = select(AuditEntry.action).order_by(AuditEntry.id)
        if target_id is not None:
            query = query.where(AuditEntry.target_id == str(target_id))
        actions = list(db.session.scalars(query))
        db.session.remove()
    return actions


def load_user(app: Flask, user_id: uuid.UUID) -> User:
    """A detached copy of the account as the database has it now."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        db.session.expunge(user)
        db.session.remove()
    return user


# --- Hypothesis (tests/input/test_fuzz.py) ------------------------------------------------
# "ci", the default: few examples, derandomised (a fixed seed per test), so every run on every
# machine tries the same inputs and a failure reproduces. `--hypothesis-profile=long` for a
# longer, random search on a workstation. No example database: nothing is written to the tree.
_HYPOTHESIS_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=12, derandomize=True, deadline=None, database=None,
                          suppress_health_check=_HYPOTHESIS_CHECKS, print_blob=True)
settings.register_profile("long", max_examples=400, deadline=None, database=None,
                          suppress_health_check=_HYPOTHESIS_CHECKS, print_blob=True)
settings.load_profile("ci")
