"""Settings classes: the embedded default, testing, and production.

`load_config(name)` picks one by name (or the PORTAL_CONFIG environment variable) and
returns a plain dict; production validates that its secrets are present before the app
starts, so a half-configured server refuses to run instead of running insecurely.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit
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
    # WebAuthn (security keys and passkeys). The relying party id is the portal's host name
    # (keys are bound to it) and the origin the exact scheme://host[:port] browsers show.
    # Unset, both follow BASE_URL (development and tests); production requires both.
    WEBAUTHN_RP_ID: str | None = None
    WEBAUTHN_ORIGIN: str | None = None
    WEBAUTHN_RP_NAME = "ECHRI Portal"
    # Machine clients' access tokens (OAuth2 client credentials): 15 minutes; never more than an hour.
    OAUTH2_TOKEN_SECONDS = 900
    # Single sign-on: an identity provider's issuer must use https, except one on this machine
    # (http://localhost, 127.0.0.1) while developing and testing; never in production.
    SSO_ALLOW_HTTP_LOOPBACK = True

    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    # How long before the idle timeout pages offer "stay signed in" (WCAG 2.2.1); 0: never.
    SESSION_WARNING_SECONDS = 120
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
    # How long one code check may hold its account's claim (a crashed request frees it then).
    LOGIN_CODE_CHECK_CLAIM = timedelta(seconds=30)
    # Rate limits on the sign-in steps (Flask-Limiter notation, ";" between several). Only
    # FAILED attempts count. Per address first: a whole ministry may sign in from one NAT
    # address, so it is generous; it stops one address from guessing at, or locking, many
    # accounts. Per account (the e-mail address entered, known or not) second.
    LOGIN_ADDRESS_RATE_LIMIT = "100 per hour"
    LOGIN_ACCOUNT_RATE_LIMIT = "20 per hour;50 per day"
    # "Contact the Initiative" (the public side): how long messages are kept (said on the form),
    # how long a confirmation link lives, and how often one address (IP) and one e-mail address
    # may send. Counted per sent form, in the same store as the sign-in limits.
    CONTACT_RETENTION_DAYS = 365
    CONTACT_CONFIRM_HOURS = 48
    CONTACT_ADDRESS_RATE_LIMIT = "10 per hour;30 per day"
    CONTACT_EMAIL_RATE_LIMIT = "3 per hour;10 per day"
    # Where the limits are counted: in this process by default; production needs a store all
    # app processes share, e.g. redis://host:6379/0 (or unix:///path/redis.sock).
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "echri"
    RATELIMIT_STRATEGY = "moving-window"  # exact: no double allowance across a window's edge
    # If the store is unreachable, sign-in goes on (logged); the per-account lock-out in the
    # database still holds, so an outage of the store does not lock everyone out.
    RATELIMIT_SWALLOW_ERRORS = True
    PASSWORD_MIN_LENGTH = 12
    # argon2id parameters (argon2-cffi defaults follow RFC 9106's low-memory profile)
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    HSTS = False
    PAGE_SIZE = 25
    # Lists and searches count matches up to this many, then say "more than …" (pagination.py).
    COUNT_CAP = 1000

    # Operations. LOG_FORMAT: "text" (readable, development) or "json" (one object per line).
    LOG_FORMAT = "text"
    # /metrics answers a Bearer METRICS_TOKEN or an address in METRICS_ALLOWED_IPS
    # (comma-separated addresses or networks); with neither set it answers 404 to everyone.
    METRICS_TOKEN: str | None = None
    METRICS_ALLOWED_IPS = ""
    # Behind a reverse proxy: how many proxies append X-Forwarded-For/-Proto/-Host (0: trust
    # none), and which peer addresses may send them (the same variable gunicorn reads).
    TRUSTED_PROXY_COUNT = 0
    FORWARDED_ALLOW_IPS = "127.0.0.1,::1"

    # Every path follows configuration. INSTANCE_PATH moves the whole instance folder (database,
    # secret key, master key file, attachments, mail drop); the settings below move one thing each.
    INSTANCE_PATH: str | None = None  # default: Flask's instance folder beside the package
    MAIL_FOLDER: str | None = None  # console mail backend's .eml drop (default: <instance>/mail)

    # Attachments: "local" (a folder) or "s3" (S3-compatible object storage: AWS S3, MinIO, Ceph).
    ATTACHMENT_BACKEND = "local"
    ATTACHMENT_STORAGE: str | None = None  # the local folder (default: <instance>/attachments)
    ATTACHMENT_S3_BUCKET: str | None = None
    ATTACHMENT_S3_PREFIX = ""  # key prefix inside the bucket
    ATTACHMENT_S3_ENDPOINT_URL: str | None = None  # MinIO/Ceph/other; unset means AWS
    ATTACHMENT_S3_REGION: str | None = None
    # Unset: boto3's own chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, instance roles).
    ATTACHMENT_S3_ACCESS_KEY_ID: str | None = None
    ATTACHMENT_S3_SECRET_ACCESS_KEY: str | None = None
    ATTACHMENT_S3_PART_SIZE = 8 * 1024 * 1024  # multipart part size: the memory one upload holds
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
    LOG_FORMAT = "json"
    SSO_ALLOW_HTTP_LOOPBACK = False
    # Links in e-mails and feeds are built from BASE_URL, never from the request's Host header:
    # the development default (127.0.0.1) would send every recipient a dead link, so production
    # has none and refuses to start until it is set.
    BASE_URL: str | None = None  # type: ignore[assignment]


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
    "RATELIMIT_STORAGE_URI", "LOGIN_ADDRESS_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT",
    "INSTANCE_PATH", "MAIL_FOLDER", "ATTACHMENT_BACKEND", "ATTACHMENT_S3_BUCKET", "ATTACHMENT_S3_PREFIX",
    "ATTACHMENT_S3_ENDPOINT_URL", "ATTACHMENT_S3_REGION", "ATTACHMENT_S3_ACCESS_KEY_ID",
    "ATTACHMENT_S3_SECRET_ACCESS_KEY", "ATTACHMENT_S3_PART_SIZE",
    "LOG_FORMAT", "METRICS_TOKEN", "METRICS_ALLOWED_IPS", "TRUSTED_PROXY_COUNT", "FORWARDED_ALLOW_IPS",
    "API_MAX_JSON_BYTES", "WEBAUTHN_RP_ID", "WEBAUTHN_ORIGIN", "CONTACT_RETENTION_DAYS", "CONTACT_CONFIRM_HOURS",
    "CONTACT_ADDRESS_RATE_LIMIT", "CONTACT_EMAIL_RATE_LIMIT",
)


def _coerce(current: Any, raw: str) -> Any:
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    return raw


def _check_webauthn(settings: dict[str, Any]) -> None:
    """Browsers only use a key when the page's host is the RP id or below it, over HTTPS."""
    origin = urlsplit(str(settings["WEBAUTHN_ORIGIN"]))
    rp_id = str(settings["WEBAUTHN_RP_ID"]).lower()
    host = (origin.hostname or "").lower()
    if origin.scheme != "https" or origin.path not in ("", "/") or not (host == rp_id or host.endswith("." + rp_id)):
        raise ConfigurationError(
            "Refusing to start in production: WEBAUTHN_ORIGIN must be https://HOST[:PORT] where HOST is "
            "WEBAUTHN_RP_ID or a name under it."
        )


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
        if str(settings.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory:"):
            # Limits counted in each process would multiply by the number of processes.
            missing.append("RATELIMIT_STORAGE_URI (a store all processes share, e.g. redis://)")
        # Keys are bound to the relying party id: a guessed default would lock every key out
        # after a move, so production names both (the origin is checked in every assertion).
        missing += [key for key in ("WEBAUTHN_RP_ID", "WEBAUTHN_ORIGIN") if not settings.get(key)]
        if not str(settings.get("BASE_URL") or "").startswith(("https://", "http://")):
            missing.append("BASE_URL (the public address, e.g. https://portal.example.org)")
        if missing:
            raise ConfigurationError(
                "Refusing to start in production: missing " + ", ".join(missing) + "."
            )
        _check_webauthn(settings)
    return settings
