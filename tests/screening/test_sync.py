"""denial_parties follow the sharing service: publish, amend, revoke, renew, lapse, withdraw."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import DenialParty, DenialPartyKey, DenialPartyName, DenialStatus, Item
from portal.models.base import utcnow
from portal.sharing import service
from tests.screening.conftest import party
from tests.sharing import helpers


def rows(app: Flask, item_id: uuid.UUID) -> list[tuple[str, list[str], str | None, list[str]]]:
    """(name, aliases, country, names indexed) per party row of the item, in order."""
    with app.app_context():
        parties = db.session.scalars(select(DenialParty).where(DenialParty.item_id == item_id)
                                     .order_by(DenialParty.position)).all()
        result = [(p.name, p.aliases, p.country, [n.name for n in p.names]) for p in parties]
        keys = db.session.scalar(select(func.count()).select_from(DenialPartyKey)
                                 .where(DenialPartyKey.item_id == item_id))
        names = db.session.scalar(select(func.count()).select_from(DenialPartyName)
                                  .where(DenialPartyName.item_id == item_id))
        assert (keys > 0) == bool(result) and names == sum(len(r[3]) for r in result)
        db.session.remove()
    return result


def test_parties_follow_publish_amend_and_withdraw(app: Flask, make_user: Any, screen_as: Any) -> None:
    spoc, reader = make_user("spoc", "DK"), make_user("officer", "NO")
    first = [party("Spetstekhnika LLC", "RU", ["Spetstech"]), party("Ivan Petrov", "RU")]
    draft = helpers.make_item(app, spoc, "denial", "draft", parties=first)
    assert rows(app, draft) == []  # drafts are not screened
    assert screen_as(reader, ["Spetstekhnika"]) == [[]]

    with app.app_context():
        item = db.session.get(Item, draft)
        service.publish(db.session, helpers.user(spoc), item)
        db.session.remove()
    assert rows(app, draft) == [("Spetstekhnika LLC", ["Spetstech"], "RU", ["Spetstekhnika LLC", "Spetstech"]),
                                ("Ivan Petrov", [], "RU", ["Ivan Petrov"])]
    assert [m.party_name for m in screen_as(reader, ["Spetstekhnika"])[0]] == ["Spetstekhnika LLC"]

    # An amendment replaces the parties: the old name no longer matches, the new one does.
    amended = [party("Promstroy JSC", "BY")]
    with app.app_context():
        item = db.session.get(Item, draft)
        service.amend(db.session, helpers.user(spoc), item, helpers.denial_payload(
            parties=amended, national_ref=item.national_ref), "Parties corrected.")
        db.session.remove()
    assert rows(app, draft) == [("Promstroy JSC", [], "BY", ["Promstroy JSC"])]
    spets, prom = screen_as(reader, ["Spetstekhnika", "Promstroi"])
    assert spets == [] and [m.party_name for m in prom] == ["Promstroy JSC"]
    assert prom[0].denial_status is DenialStatus.AMENDED

    with app.app_context():
        item = db.session.get(Item, draft)
        service.withdraw(db.session, helpers.user(spoc), item, "Sent in error.")
        db.session.remove()
    assert rows(app, draft) == []
    assert screen_as(reader, ["Promstroy"], include_inactive=True) == [[]]


def test_revoked_and_lapsed_denials_keep_their_rows_and_match_only_when_asked(
        app: Flask, make_user: Any, screen_as: Any) -> None:
    spoc, officer = make_user("spoc", "DK"), make_user("officer", "NO")
    revoked = helpers.make_item(app, spoc, parties=[party("Nordlicht Optics", "DE")])
    lapsed = helpers.make_item(app, spoc, parties=[party("Sudwerk Systems", "DE")])
    with app.app_context():
        service.revoke_denial(db.session, helpers.user(spoc), db.session.get(Item, revoked), "Court ruling.")
        db.session.get(Item, lapsed).review_date = utcnow().date() - timedelta(days=1)  # type: ignore[union-attr]
        db.session.commit()
        assert service.lapse_overdue_denials(db.session) == 1
        db.session.remove()
    assert [r[0] for r in rows(app, revoked)] == ["Nordlicht Optics"]
    assert [r[0] for r in rows(app, lapsed)] == ["Sudwerk Systems"]

    assert screen_as(officer, ["Nordlicht Optics", "Sudwerk Systems"]) == [[], []]
    found = screen_as(officer, ["Nordlicht Optics", "Sudwerk Systems"], include_inactive=True)
    assert [(m.party_name, m.denial_status) for ms in found for m in ms] == [
        ("Nordlicht Optics", DenialStatus.REVOKED), ("Sudwerk Systems", DenialStatus.LAPSED)]

    # Renewing a lapsed denial puts it back in force.
    with app.app_context():
        service.renew_denial(db.session, helpers.user(spoc), db.session.get(Item, lapsed))
        db.session.remove()
    assert [m.party_name for m in screen_as(officer, ["Sudwerk Systems"])[0]] == ["Sudwerk Systems"]
