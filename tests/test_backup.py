"""Backups that restore: create, verify, restore into a fresh target beside the live installation.

The round trip runs on both databases and both attachment stores; the refusals (tampering,
wrong signer, non-empty targets) do not depend on the store and run with the local folder.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from sqlalchemy import func, inspect, select, text

from portal import backup, create_app
from portal.attachments import download
from portal.attachments import service as attachments
from portal.crypto import keys as ck
from portal.extensions import db
from portal.models import Attachment, AttachmentKeyWrap, ItemKind, Role, User
from portal.sharing import service as sharing
from tests.attachments.conftest import pdf_bytes, threat_payload
from tests.conftest import Account

FINGERPRINT = re.compile(r"signed by the secretariat key ([0-9a-f:]+)")


def _user(account: Account) -> User:
    found = db.session.get(User, account.id)
    assert found is not None
    return found


def _populate(app: Flask, make_user: Any) -> dict[uuid.UUID, bytes]:
    """Items (with amended versions), attachments, a meeting and the audit entries they leave."""
    from tests.meetings.conftest import new_meeting

    spoc = make_user(Role.SPOC, "DK")
    secretariat = make_user(Role.SECRETARIAT, None)
    files: dict[uuid.UUID, bytes] = {}
    with app.app_context():
        actor = _user(spoc)
        for countries, tlp in ((["NO", "FR"], "AMBER"), (["NO"], "GREEN")):
            item = sharing.create_draft(db.session, actor, ItemKind.THREAT_NOTICE, threat_payload(countries, tlp))
            sharing.publish(db.session, actor, item)
            sharing.amend(db.session, actor, item, threat_payload(countries, tlp) | {"summary": "Amended."},
                          "Second sighting added.")
            for data, name in ((pdf_bytes(300_000), "evidence.pdf"), (b"plain notes\n", "notes.txt")):
                attachment = attachments.store_attachment(db.session, actor, item, name, io.BytesIO(data))
                files[attachment.id] = data
        db.session.remove()
    new_meeting(app, secretariat)
    return files


def _counts(app: Flask) -> dict[str, int]:
    engine = app.extensions["portal.db"]
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(text(f'"{name}"'))).scalar_one()
                for name in inspect(conn).get_table_names() if name != "sqlite_sequence" and not name.startswith("item_fts")}


@pytest.fixture(params=["local", "s3"])
def store_settings(request: pytest.FixtureRequest) -> Any:
    """A factory of settings for a fresh, empty store of the parametrised kind."""
    if request.param == "local":
        return lambda folder: {"ATTACHMENT_BACKEND": "local", "ATTACHMENT_STORAGE": str(folder / "attachments")}
    server = request.getfixturevalue("s3_server")
    return lambda folder: server.settings(server.new_bucket())


def _target(app: Flask, backend: str, tmp_path: Path, request: pytest.FixtureRequest, store: dict[str, Any]) -> Flask:
    """A second installation beside the live one: its own instance folder, empty database and store,
    and the live installation's master key (restored apart from the backup)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'restored' / 'portal.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"restore_{uuid.uuid4().hex[:8]}")
    target = create_app("testing", DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / "restored-instance"),
                        PORTAL_MASTER_KEY_FILE=str(Path(app.instance_path) / "master.key"),
                        SMTP_PORT=app.config["SMTP_PORT"], **store)
    return target


@pytest.fixture
def targets(app: Flask, backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    made: list[Flask] = []

    def make(store: dict[str, Any] | None = None) -> Flask:
        folder = tmp_path / f"target-{len(made)}"
        folder.mkdir()
        target = _target(app, backend, folder, request,
                         store or {"ATTACHMENT_BACKEND": "local", "ATTACHMENT_STORAGE": None})
        made.append(target)
        return target

    yield make
    for target in made:
        target.extensions["portal.db"].dispose()


def _create(app: Flask, folder: Path) -> str:
    result = app.test_cli_runner().invoke(args=["backup", "create", str(folder)])
    assert result.exit_code == 0, result.output
    match = FINGERPRINT.search(result.output)
    assert match, result.output
    return match.group(1)


def test_round_trip_restores_everything(app: Flask, make_user: Any, tmp_path: Path, store_settings: Any,
                                        targets: Any) -> None:
    app.config.update(store_settings(tmp_path / "live"))
    files = _populate(app, make_user)
    before = _counts(app)
    assert before["items"] == 2 and before["item_versions"] >= 4 and before["meetings"] == 1
    assert before["attachments"] == 4 and before["audit_log"] > 10

    folder = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(folder)])
    assert result.exit_code == 0, result.output
    assert "The master key is NOT in the backup" in result.output
    assert str(Path(app.instance_path) / "master.key") in result.output  # where it must be kept
    fingerprint = FINGERPRINT.search(result.output).group(1)  # type: ignore[union-attr]
    master = (Path(app.instance_path) / "master.key").read_bytes()
    for path in folder.rglob("*"):
        assert not path.is_file() or master not in path.read_bytes()
    assert len(list((folder / "attachments").rglob("*.enc"))) == 4
    # What the copy holds: everything before, plus the secretariat signing key made for the backup
    # (the "backup.created" audit entry is written after the copy).
    before = _counts(app)
    before["audit_log"] -= 1

    verify = app.test_cli_runner().invoke(args=["backup", "verify", str(folder)])  # trusts the live keys
    assert verify.exit_code == 0 and "backup verified" in verify.output, verify.output

    target = targets(store_settings(tmp_path / "target-store"))
    assert target.instance_path == str(tmp_path / "target-0" / "restored-instance")
    restore = target.test_cli_runner().invoke(args=["backup", "restore", str(folder), "--fingerprint", fingerprint])
    assert restore.exit_code == 0, restore.output
    assert "Warning" not in restore.output

    assert _counts(target) == before
    audit = target.test_cli_runner().invoke(args=["audit", "verify"])
    assert audit.exit_code == 0 and "audit chain intact" in audit.output, audit.output
    with target.app_context():
        with target.extensions["portal.db"].connect():
            pass
        store = attachments.storage()
        assert store.backend == app.config["ATTACHMENT_BACKEND"]
        assert len(store.names()) == 4
        opened = 0
        for attachment in db.session.scalars(select(Attachment)):
            for wrap in db.session.scalars(select(AttachmentKeyWrap).where(AttachmentKeyWrap.attachment_id == attachment.id)):
                assert download.open_verified(db.session, attachment, wrap.owner).read_all() == files[attachment.id]
                opened += 1
        assert opened >= 4 * 2
        db.session.remove()


@pytest.fixture
def live_backup(app: Flask, make_user: Any, tmp_path: Path) -> tuple[Path, str]:
    _populate(app, make_user)
    folder = tmp_path / "backup"
    return folder, _create(app, folder)


def _verify(app: Flask, folder: Path, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["backup", "verify", str(folder), *args])


def test_create_refuses_a_folder_that_is_not_empty(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "full"
    folder.mkdir()
    (folder / "old.txt").write_text("x")
    result = app.test_cli_runner().invoke(args=["backup", "create", str(folder)])
    assert result.exit_code == 1 and "not an empty folder" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["old.txt"]


def test_tampered_attachment_copy_is_refused(app: Flask, live_backup: tuple[Path, str], targets: Any) -> None:
    folder, fingerprint = live_backup
    victim = next((folder / "attachments").rglob("*.enc"))
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1
    victim.write_bytes(bytes(data))
    result = _verify(app, folder)
    assert result.exit_code == 1 and "does not match its digest" in result.output
    target = targets()
    restore = target.test_cli_runner().invoke(args=["backup", "restore", str(folder), "--fingerprint", fingerprint])
    assert restore.exit_code == 1 and "does not match its digest" in restore.output
    assert _target_is_empty(target)


def test_tampered_database_copy_is_refused(app: Flask, live_backup: tuple[Path, str]) -> None:
    folder, _ = live_backup
    database = next(p for p in folder.iterdir() if p.name.startswith("database."))
    with database.open("ab") as handle:
        handle.write(b"\0")
    result = _verify(app, folder)
    assert result.exit_code == 1 and f"{database.name} does not match" in result.output


def test_tampered_manifest_is_refused(app: Flask, live_backup: tuple[Path, str]) -> None:
    folder, fingerprint = live_backup
    manifest = json.loads((folder / "MANIFEST.json").read_bytes())
    victim = next(name for name in manifest["files"] if name.startswith("attachments/"))
    del manifest["files"][victim]  # hide a file, e.g. to drop evidence from the restore
    (folder / "MANIFEST.json").write_bytes(backup._canonical(manifest))
    result = _verify(app, folder, "--fingerprint", fingerprint)
    assert result.exit_code == 1 and "signature does not verify" in result.output


def test_backup_resigned_with_another_key_is_refused(app: Flask, live_backup: tuple[Path, str], targets: Any) -> None:
    """An attacker who replaces both the manifest's key and the signature is caught by the trust anchor."""
    folder, fingerprint = live_backup
    manifest = json.loads((folder / "MANIFEST.json").read_bytes())
    impostor = ed25519.Ed25519PrivateKey.generate()
    public = impostor.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    manifest["signer"]["public_key"] = public.hex()
    manifest["signer"]["fingerprint"] = ck.fingerprint(public)
    body = backup._canonical(manifest)
    (folder / "MANIFEST.json").write_bytes(body)
    (folder / "MANIFEST.sig").write_bytes(impostor.sign(body))

    against_live = _verify(app, folder)
    assert against_live.exit_code == 1 and "not a secretariat signing key of this installation" in against_live.output
    against_fingerprint = _verify(app, folder, "--fingerprint", fingerprint)
    assert against_fingerprint.exit_code == 1 and "not by the fingerprint given" in against_fingerprint.output
    target = targets()
    restore = target.test_cli_runner().invoke(args=["backup", "restore", str(folder), "--fingerprint", fingerprint])
    assert restore.exit_code == 1 and _target_is_empty(target)


def test_wrong_signature_bytes_are_refused(app: Flask, live_backup: tuple[Path, str]) -> None:
    folder, _ = live_backup
    signature = bytearray((folder / "MANIFEST.sig").read_bytes())
    signature[0] ^= 1
    (folder / "MANIFEST.sig").write_bytes(bytes(signature))
    result = _verify(app, folder)
    assert result.exit_code == 1 and "signature does not verify" in result.output


def test_extra_file_in_the_backup_is_refused(app: Flask, live_backup: tuple[Path, str]) -> None:
    folder, _ = live_backup
    (folder / "attachments" / "planted.sh").write_text("#!/bin/sh\n")
    result = _verify(app, folder)
    assert result.exit_code == 1 and "not in the manifest" in result.output


def test_verify_without_a_trust_anchor_asks_for_the_fingerprint(live_backup: tuple[Path, str], targets: Any) -> None:
    folder, fingerprint = live_backup
    target = targets()  # an installation with an empty database: no secretariat keys to trust
    result = target.test_cli_runner().invoke(args=["backup", "verify", str(folder)])
    assert result.exit_code == 1 and "pass --fingerprint" in result.output
    result = target.test_cli_runner().invoke(args=["backup", "verify", str(folder), "--fingerprint",
                                                   fingerprint.replace(":", "").upper()])
    assert result.exit_code == 0, result.output


def test_restore_refuses_a_target_that_is_not_empty(app: Flask, live_backup: tuple[Path, str], targets: Any,
                                                    tmp_path: Path) -> None:
    folder, fingerprint = live_backup
    # The live installation itself: its database has tables and rows.
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(folder), "--fingerprint", fingerprint])
    assert result.exit_code == 1 and ("exists" in result.output or "has tables" in result.output), result.output
    # An empty database but a store that already holds a file.
    target = targets()
    with target.app_context():
        store = attachments.storage()
        with store.stage() as staged:
            staged.write(memoryview(b"ciphertext"))
            staged.commit()
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(folder), "--fingerprint", fingerprint])
    assert result.exit_code == 1 and "attachment store" in result.output and "not empty" in result.output
    assert _database_is_empty(target)


def test_restore_needs_the_fingerprint(live_backup: tuple[Path, str], targets: Any) -> None:
    folder, _ = live_backup
    target = targets()
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code != 0 and "--fingerprint" in result.output
    assert _target_is_empty(target)


def _database_is_empty(target: Flask) -> bool:
    url = target.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        return not Path(url.removeprefix("sqlite:///")).exists()
    return not inspect(target.extensions["portal.db"]).get_table_names()


def _target_is_empty(target: Flask) -> bool:
    with target.app_context():
        store = attachments.storage()
        return _database_is_empty(target) and not store.names() and not store.temporary()


def test_instance_path_setting_moves_every_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """INSTANCE_PATH (environment) moves the database, secret key, master key, attachments and mail drop."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    moved = create_app("default")
    folder = tmp_path / "elsewhere"
    assert moved.instance_path == str(folder)
    assert moved.config["DATABASE_URL"] == f"sqlite:///{folder / 'portal.db'}"
    assert (folder / "secret_key").exists()
    with moved.app_context():
        assert attachments.storage().root == folder / "attachments"  # type: ignore[attr-defined]
        from portal.keys import service as keys

        assert keys.provider().path == folder / "master.key"  # type: ignore[attr-defined]
    from email.message import EmailMessage

    from portal import mail

    message = EmailMessage()
    message["To"], message["Subject"] = "a@example.org", "hello"
    message.set_content("body")
    with mail.transport({"MAIL_BACKEND": "console"}, moved.instance_path) as outgoing:
        outgoing.send(message)
    assert len(list((folder / "mail").glob("*.eml"))) == 1
    with mail.transport({"MAIL_BACKEND": "console", "MAIL_FOLDER": str(tmp_path / "drop")}, moved.instance_path) as out:
        out.send(message)
    assert len(list((tmp_path / "drop").glob("*.eml"))) == 1
    shutil.rmtree(folder)
