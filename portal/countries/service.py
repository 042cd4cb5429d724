"""The country register: seeding, adding states and observers, changing status."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.countries.register import CODE_PUBLISHED, FOUNDING_STATES
from portal.errors import Forbidden, NotFound
from portal.models.base import utcnow
from portal.models.country import Country, CountryStatus
from portal.models.user import Role, User, UserStatus
from portal.validation import Checker

CODE_PATTERN = re.compile(r"^[A-Z]{2}$")


def seed_register(session: Session) -> int:
    """Insert the founding states that are missing; returns how many were added."""
    existing = set(session.scalars(select(Country.code)))
    added = 0
    for code, name in FOUNDING_STATES:
        if code not in existing:
            session.add(Country(code=code, name=name, status=CountryStatus.SUBSCRIBING, endorsed_on=CODE_PUBLISHED))
            added += 1
    if added:
        audit.record(session, "country.register_seeded", actor_label="system", details={"added": added})
    session.commit()
    return added


def list_countries(session: Session) -> list[Country]:
    return list(session.scalars(select(Country).order_by(Country.name)))


def designated_contacts(session: Session) -> dict[str, User]:
    """Each state's designated point of contact, by country code."""
    users = session.scalars(select(User).where(User.is_designated_poc.is_(True)))
    return {u.country_code: u for u in users if u.country_code}


def get_country(session: Session, code: str) -> Country:
    country = session.get(Country, code.upper()) if CODE_PATTERN.match(code.upper()) else None
    if country is None:
        raise NotFound()
    return country


def points_of_contact(session: Session, country: Country) -> list[User]:
    """A state's active points of contact, the designated one first (public within the portal)."""
    return list(session.scalars(select(User).where(
        User.country_code == country.code, User.role == Role.SPOC, User.status == UserStatus.ACTIVE
    ).order_by(User.is_designated_poc.desc(), User.name)))


def _name(session: Session, c: Checker, exclude_code: str | None) -> str:
    """The state's name, unique in the register whatever its case."""
    name = c.text("name", required=True, limit=120, missing="Enter the state's name.")
    if name:
        clash = session.scalar(select(Country.code).where(func.lower(Country.name) == name.lower()))
        if clash is not None and clash != exclude_code:
            c.fail("name", f"{name} is already in the register.")
    return name


def add_country(
    session: Session, actor: User, *, code: str, name: str, status: CountryStatus, endorsed_on: date | None
) -> Country:
    """Add a subscribing or observer state to the register."""
    if not access.can_edit_register(actor):
        raise Forbidden("Only the secretariat and administrators keep the register.")
    c = Checker({"code": code, "name": name})
    code = c.text("code", required=True, limit=10,
                  missing="Enter the state's two-letter ISO 3166 code, for example CR.").upper()
    if code and not CODE_PATTERN.match(code):
        c.fail("code", "Enter a two-letter ISO 3166 code, for example CR.")
    elif code and session.get(Country, code) is not None:
        c.fail("code", f"{code} is already in the register.")
    name = _name(session, c, None)
    c.done("The state could not be added.")
    country = Country(code=code, name=name, status=status, endorsed_on=endorsed_on)
    session.add(country)
    audit.record(session, "country.added", actor=actor, target_type="country", target_id=code,
                 details={"status": status.value, "endorsed_on": endorsed_on.isoformat() if endorsed_on else None})
    session.commit()
    return country


def update_country(
    session: Session, actor: User, country: Country, *, name: str, status: CountryStatus, endorsed_on: date | None
) -> None:
    """Rename a state, change its status (subscribing/observer) or endorsement date."""
    if not access.can_edit_register(actor):
        raise Forbidden("Only the secretariat and administrators keep the register.")
    c = Checker({"name": name})
    name = _name(session, c, country.code)
    c.done("The state could not be changed.")
    changes: dict[str, Any] = {}
    for attr, value in (("name", name), ("status", status), ("endorsed_on", endorsed_on)):
        old = getattr(country, attr)
        if old != value:
            changes[attr] = {"from": _plain(old), "to": _plain(value)}
            setattr(country, attr, value)
    if not changes:
        return
    # The audit holds which fields changed and the status values, not the name (no free text there).
    details: dict[str, Any] = {"changed": sorted(changes)}
    if "status" in changes:
        details.update(changes["status"])
    if "endorsed_on" in changes:
        details["endorsed_on"] = changes["endorsed_on"]["to"]
    audit.record(session, "country.changed", actor=actor, target_type="country", target_id=country.code,
                 details=details)
    if "status" in changes:
        # A state that became an observer must lose its wraps of non-CLEAR/GREEN files (and
        # one that became subscribing gains those shared with all subscribing states). That
        # walks every file, so the worker does it; access.py already follows the new status.
        country.wraps_stale_since = utcnow()
    session.commit()


def _plain(value: object) -> object:
    if isinstance(value, CountryStatus):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value
