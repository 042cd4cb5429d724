"""Demonstration accounts for the development default. Never available in production.

The TOTP secrets are derived from the e-mail address so the same demo accounts work after
every `make run` and can be listed in the README.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit
from portal.auth.service import passwords
from portal.models.base import utcnow
from portal.models.country import Country, CountryStatus
from portal.models.user import Role, User, UserStatus

DEMO_PASSWORD = "amber-harbour-lantern-42"

# (e-mail, name, role, country, designated point of contact)
DEMO_ACCOUNTS: tuple[tuple[str, str, Role, str | None, bool], ...] = (
    ("admin@echri.example", "Ada Admin", Role.ADMIN, None, False),
    ("secretariat@echri.example", "Sam Secretariat", Role.SECRETARIAT, None, False),
    ("spoc.dk@echri.example", "Dagny Dahl", Role.SPOC, "DK", True),
    ("officer.dk@echri.example", "Otto Olsen", Role.OFFICER, "DK", False),
    ("reader.dk@echri.example", "Rita Rasmussen", Role.READER, "DK", False),
    ("spoc.no@echri.example", "Nils Nordby", Role.SPOC, "NO", True),
    ("officer.no@echri.example", "Ingrid Berg", Role.OFFICER, "NO", False),
    ("spoc.fr@echri.example", "Fleur Fontaine", Role.SPOC, "FR", True),
    ("reader.fr@echri.example", "Jules Roux", Role.READER, "FR", False),
    ("reader.cr@echri.example", "Carla Rojas", Role.READER, "CR", False),
)


def demo_totp_secret(email: str) -> str:
    return base64.b32encode(hashlib.sha256(b"echri-demo|" + email.encode()).digest()[:20]).decode()


def seed(session: Session) -> Iterator[str]:
    """Create the demo accounts (and the observer state Costa Rica); yields lines to print."""
    if session.get(Country, "CR") is None:
        session.add(Country(code="CR", name="Costa Rica", status=CountryStatus.OBSERVER, endorsed_on=None))
    hashed = passwords().hash(DEMO_PASSWORD)
    existing = set(session.scalars(select(User.email)))
    for email, name, role, country, designated in DEMO_ACCOUNTS:
        if email in existing:
            continue
        session.add(User(
            email=email, name=name, role=role, country_code=country, is_designated_poc=designated,
            status=UserStatus.ACTIVE, password_hash=hashed, password_changed_at=utcnow(),
            totp_secret=demo_totp_secret(email), totp_enrolled_at=utcnow(),
        ))
    audit.record(session, "demo.seeded", actor_label="cli")
    session.commit()
    yield "Demo accounts (development only). Password for all: " + DEMO_PASSWORD
    yield "Sign in, then enter the code from an authenticator app holding the TOTP secret,"
    yield "or run:  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\""
    for email, _name, role, country, designated in DEMO_ACCOUNTS:
        label = role.value + (f" {country}" if country else "") + (" (designated)" if designated else "")
        yield f"  {email:<28} {label:<20} totp-secret: {demo_totp_secret(email)}"
