"""Settings classes: the embedded default, testing, and production.

`load_config(name)` picks one by name (or the PORTAL_CONFIG environment variable) and
returns a plain dict; production validates that its secrets are present before the app
starts, so a half-configured server refuses to run instead of running insecurely.
"""
from __future__ import annotations

import os
from datetime import timedelta
from typing import Any


class ConfigurationError(RuntimeError):
    """Raised at start-up when a required setting is missing."""


class DefaultConfig:
    """Development on one machine: embedded SQLite in the instance folder, mail to files."""

    NAME = "default"
    SECRET_KEY: str | None = None  # generated into instance/secret_key when unset
    DATABASE_URL: str | None = None  # sqlite:///<instance>/portal.db when unset
    DEMO_DATA_ALLOWED = True
    MAIL_BACKEND = "console"  # console: print and write .eml files to instance/mail/
    MAIL_SENDER = "ECHRI Portal <no-reply@echri-portal.invalid>"
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False
    BASE_URL = "http://127.0.0.1:5000"

    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    SESSION_COOKIE_NAME = "echri_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    WTF_CSRF_TIME_LIMIT = 12 * 3600

    INVITATION_LIFETIME = timedelta(days=7)
    PASSWORD_RESET_LIFETIME = timedelta(hours=1)
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)
    PASSWORD_MIN_LENGTH = 12
    # argon2id parameters (argon2-cffi defaults follow RFC 9106's low-memory profile)
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    HSTS = False
    PAGE_SIZE = 25

    # Attachments: encrypted files land here (default: <instance>/attachments); size limit per file.
    ATTACHMENT_STORAGE: str | None = None
    ATTACHMENT_MAX_SIZE = 100 * 1024 * 1024
    # Whole-request ceiling for every endpoint; uploads set their own (file limit + 1 MiB of framing).
    MAX_CONTENT_LENGTH = ATTACHMENT_MAX_SIZE + 1024 * 1024
    # JSON bodies of the API, apart from uploads: the largest real item (a 200,000-character body
    # plus its fields) fits even with its text escaped as \uXXXX; anything larger is
    # refused with 413 before it is parsed.
    API_MAX_JSON_BYTES = 2 * 1024 * 1024


class TestingConfig(DefaultConfig):
    """The test suite: the harness supplies DATABASE_URL; cheap hashing; SMTP on loopback."""

    NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    DEMO_DATA_ALLOWED = True
    MAIL_BACKEND = "smtp"
    SMTP_PORT = 8025
    WTF_CSRF_ENABLED = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1


class ProductionConfig(DefaultConfig):
    """A real deployment: every secret comes from the environment and cookies are Secure."""

    NAME = "production"
    DEMO_DATA_ALLOWED = False
    MAIL_BACKEND = "smtp"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-echri_session"
    HSTS = True


CONFIGS: dict[str, type[DefaultConfig]] = {
    "default": DefaultConfig,
    "development": DefaultConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

# Settings that may be overridden from the environment (PORTAL_<NAME> or the bare name).
ENV_OVERRIDES = (
    "SECRET_KEY", "DATABASE_URL", "MAIL_BACKEND", "MAIL_SENDER", "SMTP_HOST", "SMTP_PORT",
    "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS", "BASE_URL",
    "PORTAL_MASTER_KEY", "PORTAL_MASTER_KEY_FILE", "ATTACHMENT_STORAGE", "ATTACHMENT_MAX_SIZE",
    "API_MAX_JSON_BYTES",
)


def _coerce(current: Any, raw: str) -> Any:
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    return raw


def load_config(name: str | None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the settings mapping for `name`, apply environment overrides, validate."""
    environ = dict(os.environ if environ is None else environ)
    name = name or environ.get("PORTAL_CONFIG") or "default"
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ConfigurationError(
            f"Unknown configuration {name!r}; choose one of {', '.join(sorted(CONFIGS))}."
        ) from None
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    for key in ENV_OVERRIDES:
        raw = environ.get(key) if key.startswith("PORTAL_") else environ.get(key, environ.get(f"PORTAL_{key}"))
        if raw:
            settings[key] = _coerce(settings.get(key), raw)
    if name == "production":
        missing = [key for key in ("SECRET_KEY", "DATABASE_URL") if not settings.get(key)]
        if not (settings.get("PORTAL_MASTER_KEY") or settings.get("PORTAL_MASTER_KEY_FILE")):
            missing.append("PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE")
        if missing:
            raise ConfigurationError(
                "Refusing to start in production: missing " + ", ".join(missing) + "."
            )
    return settings
