"""The audit log is a hash chain: any altered or removed entry is found, by id."""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from flask import Flask
from sqlalchemy import func, select

from portal import audit
from portal.extensions import db
from portal.models import AuditEntry
from tests.conftest import run_sql


def append(app: Flask, count: int) -> list[int]:
    """Record `count` entries (as the services do) and return every id in the log, in order."""
    with app.app_context():
        for n in range(count):
            audit.record(db.session, "test.event", actor_label=f"tester-{n}", target_type="thing",
                         target_id=n, details={"version": n, "tlp": "AMBER+STRICT"})
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


def test_record_refuses_details_outside_the_allow_list(app: Flask) -> None:
    """Free text never reaches the log administrators read: an unknown key or a value of the wrong
    shape is a programming error, and nothing is written."""
    refused: list[dict[str, Any]] = [
        {"title": "Denial of IMSI catchers"}, {"filename": "report.pdf"}, {"reason": "Sent to the wrong audience."},
        {"note": "typo fixed"}, {"name": "Anne Holm"}, {"email": "anne@dk.example"}, {"wrapped_for": ["FR", "NO"]},
        {"version": "2"}, {"version": -1}, {"version": True}, {"tlp": "PURPLE"}, {"item_id": "not-a-uuid"},
        {"due": "next week"}, {"expires_at": "2026-13-01T00:00:00"}, {"country": "Denmark"},
        {"changed": ["title", "Drop table"]}, {"status": "whatever we like"}, {"head": "yes"},
        {"categories": ["intrusion_software", "my secret project"]}, {"meeting": {"nested": "dict"}},
    ]
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEntry))
        for details in refused:
            with pytest.raises(audit.UnsafeAuditDetails):
                audit.record(db.session, "test.event", actor_label="tester", details=details)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
        # The control: ids, counts, markings, status values, booleans and dates pass.
        audit.record(db.session, "test.event", actor_label="tester", details={
            "item_id": str(uuid.uuid4()), "version": 3, "tlp": "RED", "status": "circulated", "head": True,
            "due": "2030-01-31", "expires_at": "2030-01-31T12:00:00+00:00", "changed": ["title", "venue"],
            "country": "DK", "categories": ["intrusion_software"], "min_severity": None})
        db.session.commit()
        db.session.remove()


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
                      {"details": json.dumps({"version": 99, "tlp": "CLEAR"}), "id": victim})
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
        entry.details = {"version": 0, "tlp": "CLEAR"}
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


# --- administrators see no content, on any page -------------------------------------------

def test_no_admin_page_shows_content(app: Flask, make_user: Any, login_as: Any) -> None:
    """After a scenario that writes a marker into every free-text field, no page an
    administrator can open (the audit log under every filter, users, countries, keys …) holds one."""
    from tests import content_scenario

    s = content_scenario.build(app, make_user)
    client = login_as(app.test_client(), s.accounts["admin"])
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action)))
        db.session.remove()
    assert {"item.amended", "item.withdrawn", "attachment.uploaded", "meeting.agenda_item_edited",
            "meeting.delegate_registered", "meeting.cancelled", "login.failure"} <= actions
    prefixes = actions | {a.split(".")[0] for a in actions} | {a.split(".")[0] + "." for a in actions}
    paths = content_scenario.get_paths(app, s, feed_token="cal_not-a-token")  # a feed answers to its owner's token
    paths += [f"/admin/audit?action={p}&per_page=500" for p in sorted(prefixes)]
    paths += ["/admin/audit?verify=1", "/admin/audit?per_page=500"] + [f"/admin/audit?page={n}" for n in range(1, 8)]
    assert "/admin/audit" in paths and "/keys" in paths and any(p.startswith("/users/") for p in paths)

    leaks = []
    seen_audit = ""
    for path in paths:
        response = client.get(path)
        body = response.get_data().decode("utf-8", "replace").lower()  # public files are binary
        if path.startswith("/admin/audit"):
            seen_audit += body
        for what, marker in s.markers.items():
            if marker in body:
                leaks.append(f"{path} ({response.status_code}) shows the {what}")
    assert not leaks, "\n".join(leaks)
    # The control: the audit pages did list the scenario's entries, by id.
    assert all(item_id in seen_audit for item_id in s.ids["item"])
    assert all(meeting_id in seen_audit for meeting_id in s.ids["meeting"])


def test_entries_written_before_the_allow_list_show_no_free_text(app: Flask, make_user: Any, login_as: Any) -> None:
    """The chain keeps old entries as they were; the page shows only their allow-listed values."""
    ids = append(app, 1)
    old = {"title": "Denial zqmkoldtitle", "version": 2, "tlp": "zqmkoldtlp", "reason": "zqmkoldreason"}
    run_sql(app, "UPDATE audit_log SET details = :details WHERE id = :id", {"details": json.dumps(old), "id": ids[0]})
    client = login_as(app.test_client(), make_user("admin", None))
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "zqmk" not in html
    assert "&#34;version&#34;: 2" in html or '"version": 2' in html
    assert html.count("(withheld)") == 3
