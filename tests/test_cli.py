"""Operator commands: `flask --app wsgi users add|countries list|demo seed|…`."""
from __future__ import annotations

import base64
import os
import re
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select

import config
from portal import create_app, demo
from portal.extensions import db
from portal.models import Role, User, UserStatus
from tests.conftest import PASSWORD, audit_actions, sign_in

SECRET_LINE = re.compile(r"^totp-secret: ([A-Z2-7]{32})$", re.M)
PRODUCTION_ENV = ("SECRET_KEY", "PORTAL_SECRET_KEY", "DATABASE_URL", "PORTAL_DATABASE_URL",
                  "PORTAL_MASTER_KEY", "PORTAL_MASTER_KEY_FILE", "PORTAL_CONFIG",
                  "RATELIMIT_STORAGE_URI", "PORTAL_RATELIMIT_STORAGE_URI", "WEBAUTHN_RP_ID", "PORTAL_WEBAUTHN_RP_ID",
                  "WEBAUTHN_ORIGIN", "PORTAL_WEBAUTHN_ORIGIN", "BASE_URL", "PORTAL_BASE_URL")
SHARED_LIMITS = "RATELIMIT_STORAGE_URI (a store all processes share, e.g. redis://)"
NO_BASE_URL = "BASE_URL (the public address, e.g. https://portal.example.org)"
BASE = "https://portal.example.org"
# The addresses production names: where links point, and what security keys are bound to.
ADDRESSES = {"WEBAUTHN_RP_ID": "portal.example", "WEBAUTHN_ORIGIN": "https://portal.example", "BASE_URL": BASE}


def invoke(app: Flask, *args: str, password: str | None = PASSWORD) -> Any:
    env = {"PORTAL_PASSWORD": password} if password is not None else {}
    return app.test_cli_runner().invoke(args=list(args), env=env)


def user_count(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(User))
        db.session.remove()
    return int(count or 0)


def test_users_add_prints_a_totp_secret_that_signs_in(app: Flask) -> None:
    result = invoke(app, "users", "add", "Ops.Officer@MFA.example", "--name", "Olga Ops", "--role", "officer",
                    "--country", "dk")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "created: ops.officer@mfa.example (officer, DK)"
    secret = SECRET_LINE.search(result.stdout).group(1)  # type: ignore[union-attr]

    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "ops.officer@mfa.example")).one()
        assert (user.role, user.country_code, user.status, user.totp_secret) == (Role.OFFICER, "DK", UserStatus.ACTIVE, secret)
        db.session.remove()
    assert audit_actions(app, user.id) == ["user.created"]

    client = app.test_client()
    response = sign_in(client, "ops.officer@mfa.example", PASSWORD, code=pyotp.TOTP(secret).now())
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Olga Ops" in client.get("/").get_data(as_text=True)


def test_users_add_designated_spoc(app: Flask) -> None:
    result = invoke(app, "users", "add", "poc@um.example", "--name", "Poc", "--role", "spoc", "--country", "DK",
                    "--designated")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalars(select(User.is_designated_poc).where(User.email == "poc@um.example")).one() is True
        db.session.remove()


def test_users_add_admin_without_country(app: Flask) -> None:
    result = invoke(app, "users", "add", "root@echri.example", "--name", "Root", "--role", "admin")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "created: root@echri.example (admin)"


@pytest.mark.parametrize("args, message", [
    (["--role", "boss", "--country", "DK"],
     "Error: unknown role 'boss'; choose one of spoc, officer, reader, secretariat, admin"),
    (["--role", "officer"], "Error: the officer role needs --country"),
    (["--role", "reader", "--country", "ZZ"], "Error: There is no state with the code 'ZZ' in the register."),
    (["--role", "admin", "--country", "DK"], "Error: The administrator role does not belong to a state."),
    (["--role", "officer", "--country", "DK", "--designated"], "Error: only a spoc can be --designated"),
])
def test_users_add_bad_arguments(app: Flask, args: list[str], message: str) -> None:
    before = user_count(app)
    result = invoke(app, "users", "add", "new@echri.example", "--name", "New", *args)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"  # one line
    assert result.stdout == ""
    assert user_count(app) == before


def test_users_add_duplicate_email(app: Flask, make_user: Any) -> None:
    existing = make_user("officer", "DK")
    result = invoke(app, "users", "add", existing.email.upper(), "--name", "Again", "--role", "reader", "--country", "DK")
    assert result.exit_code == 2
    assert result.stderr == "Error: An account with this e-mail address already exists.\n"
    assert user_count(app) == 1


@pytest.mark.parametrize("password, message", [
    ("short", "Error: Use at least 12 characters.\n"),
    ("qwerty123456", "Error: This password is on a list of commonly used passwords. Choose another.\n"),
])
def test_users_add_applies_the_password_policy(app: Flask, password: str, message: str) -> None:
    result = invoke(app, "users", "add", "weak@echri.example", "--name", "Weak", "--role", "admin", password=password)
    assert result.exit_code == 2
    assert result.stderr == message
    assert user_count(app) == 0


def test_countries_list(app: Flask) -> None:
    result = invoke(app, "countries", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 24
    assert "XK\tsubscribing\t2023-03-30\tKosovo\t-" in lines
    assert sorted(line.split("\t")[0] for line in lines) == sorted(
        "AL AU BG CA HR CZ DK EC EE FI FR DE JP XK LV NL NZ MK NO KR SK ES GB US".split())


def test_countries_seed_is_idempotent(app: Flask) -> None:
    result = invoke(app, "countries", "seed")
    assert (result.exit_code, result.stdout) == (0, "0 state(s) added to the register.\n")


def test_demo_seed_in_testing_creates_the_demo_accounts(app: Flask) -> None:
    result = invoke(app, "demo", "seed")
    assert result.exit_code == 0, result.output
    assert "admin@echri.example" in result.stdout
    assert user_count(app) == len(demo.DEMO_ACCOUNTS)
    # The demo secrets printed are the ones stored.
    line = next(line for line in result.stdout.splitlines() if "officer.dk@echri.example" in line)
    secret = line.rsplit("totp-secret: ", 1)[1]
    response = sign_in(app.test_client(), "officer.dk@echri.example", "amber-harbour-lantern-42",
                       code=pyotp.TOTP(secret).now())
    assert response.headers["Location"] == "/"


def _production_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for key in PRODUCTION_ENV:
        monkeypatch.delenv(key, raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def test_demo_seed_is_refused_in_production(app: Flask, monkeypatch: pytest.MonkeyPatch, redis_server: Any) -> None:
    _production_env(monkeypatch, SECRET_KEY="x" * 48, DATABASE_URL=app.config["DATABASE_URL"],
                    PORTAL_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(),
                    RATELIMIT_STORAGE_URI=redis_server.url, **ADDRESSES)
    production = create_app("production")
    try:
        assert production.config["DEMO_DATA_ALLOWED"] is False
        result = production.test_cli_runner().invoke(args=["demo", "seed"])
        assert result.exit_code == 2
        assert result.stderr == "Error: demo accounts exist only in the development configuration\n"
        assert user_count(app) == 0
    finally:
        production.extensions["portal.db"].dispose()


@pytest.mark.parametrize("present, missing", [
    ({}, f"SECRET_KEY, DATABASE_URL, PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE, {SHARED_LIMITS}, "
         f"WEBAUTHN_RP_ID, WEBAUTHN_ORIGIN, {NO_BASE_URL}"),
    ({"SECRET_KEY": "s" * 48, **ADDRESSES},
     f"DATABASE_URL, PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE, {SHARED_LIMITS}"),
    ({"DATABASE_URL": "sqlite:///x.db", "PORTAL_MASTER_KEY": "k", "RATELIMIT_STORAGE_URI": "redis://r", **ADDRESSES},
     "SECRET_KEY"),
    ({"SECRET_KEY": "s" * 48, "PORTAL_DATABASE_URL": "sqlite:///x.db", "PORTAL_RATELIMIT_STORAGE_URI": "redis://r",
      **ADDRESSES}, "PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE"),
    # Limits counted in each process would not hold across several app processes.
    ({"SECRET_KEY": "s" * 48, "DATABASE_URL": "sqlite:///x.db", "PORTAL_MASTER_KEY": "k",
      "RATELIMIT_STORAGE_URI": "memory://", **ADDRESSES}, SHARED_LIMITS),
    # Security keys are bound to the relying party id: production names it and the origin.
    ({"SECRET_KEY": "s" * 48, "DATABASE_URL": "sqlite:///x.db", "PORTAL_MASTER_KEY": "k",
      "RATELIMIT_STORAGE_URI": "redis://r", "PORTAL_WEBAUTHN_ORIGIN": "https://portal.example",
      "BASE_URL": BASE}, "WEBAUTHN_RP_ID"),
    # Links in e-mails would point at the development default (or at nothing).
    ({"SECRET_KEY": "s" * 48, "DATABASE_URL": "sqlite:///x.db", "PORTAL_MASTER_KEY": "k",
      "RATELIMIT_STORAGE_URI": "redis://r", "WEBAUTHN_RP_ID": "portal.example",
      "WEBAUTHN_ORIGIN": "https://portal.example"}, NO_BASE_URL),
])
def test_production_refuses_to_start_without_its_secrets(monkeypatch: pytest.MonkeyPatch,
                                                         present: dict[str, str], missing: str) -> None:
    _production_env(monkeypatch, **present)
    with pytest.raises(config.ConfigurationError) as raised:
        create_app("production")
    assert str(raised.value) == f"Refusing to start in production: missing {missing}."


@pytest.mark.parametrize("origin, rp_id, accepted", [
    ("https://portal.example", "portal.example", True),
    ("https://echri.portal.example:8443", "portal.example", True),
    ("http://portal.example", "portal.example", False),  # keys need a secure origin
    ("https://portal.example.evil", "portal.example", False),
    ("https://otherportal.example", "portal.example", False),
    ("https://portal.example/login", "portal.example", False),
])
def test_production_checks_the_webauthn_origin_against_the_rp_id(origin: str, rp_id: str, accepted: bool) -> None:
    settings = {"SECRET_KEY": "s", "DATABASE_URL": "sqlite://", "PORTAL_MASTER_KEY": "k",
                "RATELIMIT_STORAGE_URI": "redis://r", "WEBAUTHN_ORIGIN": origin, "WEBAUTHN_RP_ID": rp_id,
                "BASE_URL": BASE}
    if accepted:
        assert config.load_config("production", settings)["WEBAUTHN_RP_ID"] == rp_id
    else:
        with pytest.raises(config.ConfigurationError, match="WEBAUTHN_ORIGIN must be https://HOST"):
            config.load_config("production", settings)


def test_unknown_configuration_name_is_refused() -> None:
    with pytest.raises(config.ConfigurationError, match="Unknown configuration 'staging'"):
        create_app("staging")
