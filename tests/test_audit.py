"""The audit log is a hash chain: any altered or removed entry is found, by id."""
from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal import audit
from portal.extensions import db
from portal.models import AuditEntry
from tests.conftest import run_sql


def append(app: Flask, count: int) -> list[int]:
    """Record `count` entries (as the services do) and return every id in the log, in order."""
    with app.app_context():
        for n in range(count):
            audit.record(db.session, "test.event", actor_label=f"tester-{n}", target_type="thing",
                         target_id=n, details={"n": n, "text": "ÆØÅ ünïcødé"})
        db.session.commit()
        ids = list(db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        db.session.remove()
    return ids


def verify(app: Flask) -> audit.ChainReport:
    with app.app_context():
        report = audit.verify_chain(db.session)
        db.session.remove()
    return report


def cli_verify(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_intact_chain_verifies(app: Flask) -> None:
    ids = append(app, 6)
    report = verify(app)
    assert report.ok
    assert report.entries == len(ids)  # ours and whatever start-up recorded (the register seeding)
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert entries[0].prev_hash == audit.GENESIS_HASH
        assert all(later.prev_hash == earlier.entry_hash for earlier, later in zip(entries, entries[1:]))
        db.session.remove()

    result = cli_verify(app)
    assert result.exit_code == 0
    assert result.stdout == f"audit chain intact: {len(ids)} entries\n"


def test_altered_details_are_reported_at_that_entry(app: Flask) -> None:
    ids = append(app, 5)
    victim = ids[3]
    changed = run_sql(app, "UPDATE audit_log SET details = :details WHERE id = :id",
                      {"details": json.dumps({"n": 99, "text": "rewritten"}), "id": victim})
    assert changed == 1

    report = verify(app)
    assert (report.ok, report.first_bad_id) == (False, victim)
    assert report.problem == "content does not match its hash: the entry was altered"

    result = cli_verify(app)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"audit chain broken at entry {victim}: content does not match its hash: the entry was altered\n"


def test_altered_action_or_time_is_reported(app: Flask) -> None:
    ids = append(app, 4)
    run_sql(app, "UPDATE audit_log SET action = 'login.success' WHERE id = :id", {"id": ids[2]})
    assert verify(app).first_bad_id == ids[2]


def test_deleted_middle_entry_is_reported_at_the_next(app: Flask) -> None:
    ids = append(app, 5)
    run_sql(app, "DELETE FROM audit_log WHERE id = :id", {"id": ids[2]})

    report = verify(app)
    assert (report.ok, report.first_bad_id) == (False, ids[3])
    assert report.problem == "previous hash does not match: an entry before it was removed or altered"
    result = cli_verify(app)
    assert result.exit_code == 1
    assert f"audit chain broken at entry {ids[3]}:" in result.stderr


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link(app: Flask) -> None:
    """Someone who edits a row and recomputes its own hash still cannot fix its successors."""
    ids = append(app, 4)
    with app.app_context():
        entry = db.session.get(AuditEntry, ids[1])
        assert entry is not None
        entry.details = {"n": 0, "text": "nothing happened"}
        entry.entry_hash = audit._digest(entry)
        db.session.commit()
        db.session.remove()
    assert verify(app).first_bad_id == ids[2]


def test_the_first_of_several_bad_entries_is_named(app: Flask) -> None:
    ids = append(app, 6)
    run_sql(app, "UPDATE audit_log SET actor_label = 'someone-else' WHERE id IN (:a, :b)", {"a": ids[4], "b": ids[2]})
    assert cli_verify(app).stderr.startswith(f"audit chain broken at entry {ids[2]}:")


def test_admins_see_the_verification_result_in_the_portal(app: Flask, make_user: Any, login_as: Any) -> None:
    ids = append(app, 3)
    client = login_as(app.test_client(), make_user("admin", None))
    intact = client.get("/admin/audit?verify=1").get_data(as_text=True)
    # The admin's own sign-in is not audited by login_as, so the count is what append() left.
    assert f"The chain is intact: {len(ids)} entries verified." in intact

    run_sql(app, "UPDATE audit_log SET target_id = 'x' WHERE id = :id", {"id": ids[1]})
    broken = client.get("/admin/audit?verify=1").get_data(as_text=True)
    assert f"The chain is broken at entry {ids[1]}: content does not match its hash: the entry was altered." in broken


def test_only_admins_open_the_audit_log(app: Flask, make_user: Any, login_as: Any) -> None:
    for role, country in (("secretariat", None), ("spoc", "DK"), ("officer", "DK"), ("reader", "DK")):
        client = login_as(app.test_client(), make_user(role, country))
        assert client.get("/admin/audit").status_code == 404
