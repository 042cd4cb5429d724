"""Published keys, lazily created key pairs, and rotations that keep every file readable and verifiable."""
from __future__ import annotations

import base64
import io
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.crypto.keyprovider import FileKeyProvider
from portal.crypto.keys import fingerprint
from portal.extensions import db
from portal.keys import service as keys
from portal.models import AttachmentKeyWrap, KeyPurpose, Role, StateKey
from tests.attachments.conftest import pdf_bytes, snapshot_store
from tests.attachments.test_bundle import OPENSSL, openssl_verify
from tests.conftest import audit_actions


def test_keys_json_lists_public_keys_for_signed_in_users(app: Flask, make_user: Any, login_as: Any,
                                                          make_item: Any, store: Any) -> None:
    anonymous = app.test_client()
    assert anonymous.get("/keys").status_code == 302  # to the sign-in page
    store(make_item(countries=["NO"]), pdf_bytes())
    client = app.test_client()
    login_as(client, make_user(Role.READER, "FI"))
    response = client.get("/keys")
    assert response.status_code == 200
    listed = {(k["owner"], k["purpose"]): k for k in response.get_json()["keys"]}
    assert set(listed) == {("DK", "hpke"), ("DK", "signing"), ("NO", "hpke")}
    signing = listed[("DK", "signing")]
    assert signing["owner_name"] == "Denmark" and signing["version"] == 1 and signing["status"] == "active"
    raw = base64.b64decode(signing["public_key"])
    assert len(raw) == 32 and signing["fingerprint"] == fingerprint(raw)
    assert signing["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "public_key_pem" not in listed[("NO", "hpke")]
    assert "private" not in response.get_data(as_text=True).lower()


def test_country_page_shows_fingerprints(app: Flask, make_user: Any, login_as: Any, make_item: Any,
                                         store: Any) -> None:
    client = app.test_client()
    login_as(client, make_user(Role.READER, "FI"))
    assert "no keys yet" in client.get("/countries/DK").get_data(as_text=True)
    store(make_item(countries=["NO"]), pdf_bytes())
    page = client.get("/countries/DK").get_data(as_text=True)
    with app.app_context():
        dk = db.session.scalars(select(StateKey).where(StateKey.owner == "DK")).all()
        db.session.remove()
    for key in dk:
        assert fingerprint(key.public_key) in page


def test_private_keys_are_stored_only_wrapped(app: Flask, make_item: Any, store: Any) -> None:
    store(make_item(countries=["NO"]), pdf_bytes())
    with app.app_context():
        for key in db.session.scalars(select(StateKey)):
            private = keys.private_key(key)
            assert private not in key.wrapped_private_key
            assert key.master_key_id == keys.provider().key_id()
        db.session.remove()
    key_file = Path(app.instance_path) / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_ensure_creates_every_owners_keys(app: Flask) -> None:
    with app.app_context():
        created = keys.ensure_all(db.session)
        owners = set(db.session.scalars(select(StateKey.owner)))
        assert created == 2 * len(owners) and "SECRETARIAT" in owners and "XK" in owners
        assert keys.ensure_all(db.session) == 0
        db.session.remove()


def _downloads(app: Flask, client: Any, expected: dict[Any, bytes]) -> None:
    for attachment_id, data in expected.items():
        response = client.get(f"/attachments/{attachment_id}")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.get_data() == data


def _verifies_with_openssl(client: Any, attachment_id: Any, folder: Path) -> None:
    response = client.get(f"/attachments/{attachment_id}/signature")
    assert response.status_code == 200
    if OPENSSL:
        result = openssl_verify(zipfile.ZipFile(io.BytesIO(response.get_data())), folder)
        assert result.returncode == 0, result.stderr


def test_rotate_master_rewraps_without_touching_content(app: Flask, make_user: Any, login_as: Any,
                                                        make_item: Any, store: Any, tmp_path: Path) -> None:
    item_id = make_item(countries=["NO"])
    files = {store(item_id, data): data for data in (pdf_bytes(), pdf_bytes(200_000))}
    storage_before = snapshot_store(app)
    assert len(storage_before) == len(files)
    key_file = Path(app.instance_path) / "master.key"
    old_key = key_file.read_bytes()

    result = app.test_cli_runner().invoke(args=["keys", "rotate-master"])
    assert result.exit_code == 0, result.output
    assert "master key rotated" in result.output

    new_key = key_file.read_bytes()
    assert new_key != old_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    backups = list(Path(app.instance_path).glob("master.key.*.retired"))
    assert len(backups) == 1 and backups[0].read_bytes() == old_key
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert not Path(app.instance_path, "master.key.new").exists()
    # Content untouched, keys re-wrapped under the new master key only.
    assert snapshot_store(app) == storage_before
    with app.app_context():
        new_id = FileKeyProvider(key_file).key_id()
        assert {k.master_key_id for k in db.session.scalars(select(StateKey))} == {new_id}
        db.session.remove()
    assert "keys.master_rotated" in audit_actions(app)

    client = app.test_client()
    login_as(client, make_user(Role.OFFICER, "NO"))
    _downloads(app, client, files)
    _verifies_with_openssl(client, next(iter(files)), tmp_path / "bundle")
    # And new uploads work under the new key.
    files[store(item_id, b"after rotation\n", "after.txt")] = b"after rotation\n"
    _downloads(app, client, files)


def test_rotate_master_with_the_old_key_fails_cleanly(app: Flask, make_item: Any, store: Any) -> None:
    """A stale key (e.g. a process that missed the rotation) gets a clear error naming the key ids."""
    from portal.crypto.errors import KeyUnwrapError

    store(make_item(countries=["NO"]), pdf_bytes())
    key_file = Path(app.instance_path) / "master.key"
    old = FileKeyProvider(key_file)
    old.master_key()
    assert app.test_cli_runner().invoke(args=["keys", "rotate-master"]).exit_code == 0
    with app.app_context():
        key = db.session.scalars(select(StateKey)).first()
        with pytest.raises(KeyUnwrapError, match="wrapped under master key"):
            keys.private_key(key, old)
        db.session.remove()


def test_rotate_country_keeps_files_readable_and_old_signatures_verifiable(
        app: Flask, make_user: Any, login_as: Any, make_item: Any, store: Any, tmp_path: Path) -> None:
    item_id = make_item(countries=["NO"])
    old_files = {store(item_id, data): data for data in (pdf_bytes(), pdf_bytes(150_000))}
    storage_before = snapshot_store(app)
    assert len(storage_before) == len(old_files)
    norwegian = app.test_client()
    login_as(norwegian, make_user(Role.OFFICER, "NO"))
    danish = app.test_client()
    login_as(danish, make_user(Role.OFFICER, "DK"))

    for owner in ("NO", "DK"):  # the recipient's keys, then the signer's
        result = app.test_cli_runner().invoke(args=["keys", "rotate-country", owner.lower()])
        assert result.exit_code == 0, result.output
        assert "v2" in result.output

    assert snapshot_store(app) == storage_before
    with app.app_context():
        wraps = db.session.scalars(select(AttachmentKeyWrap)).all()
        assert {(w.owner, w.key_version) for w in wraps} == {("NO", 2), ("DK", 2)}
        db.session.remove()
    listed = {(k["owner"], k["purpose"], k["version"]): k["status"] for k in norwegian.get("/keys").get_json()["keys"]}
    assert listed[("DK", "signing", 1)] == "retired" and listed[("DK", "signing", 2)] == "active"
    assert listed[("NO", "hpke", 1)] == "retired" and listed[("NO", "hpke", 2)] == "active"

    _downloads(app, norwegian, old_files)
    _downloads(app, danish, old_files)
    # Old files stay signed by DK's retired v1 key, still verifiable; new files use v2.
    _verifies_with_openssl(norwegian, next(iter(old_files)), tmp_path / "old")
    new_id = store(item_id, pdf_bytes(), "new.pdf")
    from tests.attachments.conftest import attachment_row

    assert attachment_row(app, new_id).signer_key_version == 2
    assert attachment_row(app, next(iter(old_files))).signer_key_version == 1
    _verifies_with_openssl(norwegian, new_id, tmp_path / "new")
    assert "keys.rotated" in audit_actions(app, "NO")


def test_rotate_country_refuses_unknown_owner(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["keys", "rotate-country", "ZZ"])
    assert result.exit_code != 0
    assert "neither a state in the register" in result.output


def test_rotate_master_from_environment_key(app: Flask, make_user: Any, login_as: Any, make_item: Any,
                                            store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With PORTAL_MASTER_KEY the new key comes from PORTAL_NEW_MASTER_KEY; the operator swaps them."""
    old_value = base64.b64encode(os.urandom(32)).decode()
    new_value = base64.b64encode(os.urandom(32)).decode()
    app.config["PORTAL_MASTER_KEY"] = old_value
    with app.app_context():
        keys.reset_provider()
    item_id = make_item(countries=["NO"])
    data = pdf_bytes()
    attachment_id = store(item_id, data)
    assert app.test_cli_runner().invoke(args=["keys", "rotate-master"]).exit_code != 0  # no new key given
    monkeypatch.setenv("PORTAL_NEW_MASTER_KEY", new_value)
    result = app.test_cli_runner().invoke(args=["keys", "rotate-master"])
    assert result.exit_code == 0, result.output
    app.config["PORTAL_MASTER_KEY"] = new_value
    with app.app_context():
        keys.reset_provider()
    client = app.test_client()
    login_as(client, make_user(Role.READER, "NO"))
    assert client.get(f"/attachments/{attachment_id}").get_data() == data


def test_retired_keys_are_kept(app: Flask) -> None:
    with app.app_context():
        first = keys.active_key(db.session, "FR", KeyPurpose.SIGNING)
        db.session.commit()
        keys.rotate_owner(db.session, "FR")
        keys.rotate_owner(db.session, "FR")
        versions = [(k.version, k.is_active) for k in keys.list_keys(db.session, ["FR"])
                    if k.purpose is KeyPurpose.SIGNING]
        assert first is not None and versions == [(3, True), (2, False), (1, False)]
        db.session.remove()
