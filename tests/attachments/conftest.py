"""Fixtures for the attachment tests (additive: the harness itself lives in tests/conftest.py).

Every test here runs against both attachment stores: the local folder and S3-compatible object
storage (a real S3 API server, moto, started once per session). To keep the run time sane the
S3 store is paired with PostgreSQL only when both databases run (PostgreSQL and object storage
is the scaled-out deployment; SQLite with the local folder is the embedded default); with one
database chosen (--backend sqlite) both stores run on it. The backup round trip
(tests/test_backup.py) covers all four combinations.
"""
from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.attachments import download, service
from portal.extensions import db
from portal.models import Attachment, AttachmentKeyWrap, Item, ItemKind, Role, User
from portal.sharing import service as sharing
from tests.conftest import Account, csrf_token

STORES = ["local", "s3"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "attachment_store" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--store")
        metafunc.parametrize("attachment_store", STORES if chosen == "all" else [chosen], scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--backend") != "all":
        return
    here = Path(__file__).parent
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if (Path(str(item.path)).parent == here and params.get("attachment_store") == "s3"
                and params.get("backend") == "sqlite"):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def app(app: Flask, attachment_store: str, request: pytest.FixtureRequest) -> Flask:
    """The harness's app with its attachments in the chosen store (a fresh bucket per test for S3)."""
    if attachment_store == "s3":
        server = request.getfixturevalue("s3_server")
        app.config.update(server.settings(server.new_bucket()))
    return app


def pdf_bytes(size: int = 5000) -> bytes:
    """A file whose content says PDF (the type check looks at the first bytes)."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    return head + os.urandom(max(0, size - len(head)))


def threat_payload(countries: list[str] | tuple[str, ...] = ("NO", "FR"), tlp: str = "AMBER", *,
                   all_subscribing: bool = False, secretariat: bool = False, observers: bool = False) -> dict[str, Any]:
    return {"title": "Spyware vendor offering zero-click implants", "summary": "A vendor markets implants.",
            "body": "Observed at a trade fair.", "tlp": tlp,
            "audience": {"all_subscribing": all_subscribing, "countries": list(countries),
                         "secretariat": secretariat, "observers": observers},
            "severity": "high", "categories": ["intrusion_software"], "regions": [], "entities": []}


def user(account: Account) -> User:
    found = db.session.get(User, account.id)
    assert found is not None
    return found


@pytest.fixture
def spoc(make_user: Any) -> Account:
    """The point of contact of Denmark, the originating state in these tests."""
    return make_user(Role.SPOC, "DK")


@pytest.fixture
def make_item(app: Flask, spoc: Account) -> Any:
    """make_item(publish=True, author=spoc, **threat_payload args) -> item id (a threat notice from DK)."""

    def factory(*, publish: bool = True, author: Account | None = None, **kwargs: Any) -> uuid.UUID:
        with app.app_context():
            actor = user(author or spoc)
            item = sharing.create_draft(db.session, actor, ItemKind.THREAT_NOTICE, threat_payload(**kwargs))
            if publish:
                sharing.publish(db.session, actor, item)
            item_id = item.id
            db.session.remove()
        return item_id

    return factory


@pytest.fixture
def store(app: Flask, spoc: Account) -> Any:
    """store(item_id, data, filename, actor=spoc) -> attachment id, through the service layer."""

    def do(item_id: uuid.UUID, data: bytes, filename: str = "report.pdf", actor: Account | None = None) -> uuid.UUID:
        with app.app_context():
            item = db.session.get(Item, item_id)
            assert item is not None
            attachment = service.store_attachment(db.session, user(actor or spoc), item, filename, io.BytesIO(data))
            attachment_id = attachment.id
            db.session.remove()
        return attachment_id

    return do


def upload(client: FlaskClient, item_id: uuid.UUID, data: bytes, filename: str, **kwargs: Any) -> Any:
    """Post the page's upload form (CSRF token first, then the file)."""
    token = csrf_token(client)
    return client.post(f"/items/{item_id}/attachments", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", **kwargs)


def is_s3(app: Flask) -> bool:
    return app.config.get("ATTACHMENT_BACKEND") == "s3"


def s3_client(app: Flask) -> Any:
    """A plain boto3 client on the app's bucket: how the tests look at (and tamper with) objects."""
    import boto3

    return boto3.client("s3", endpoint_url=app.config["ATTACHMENT_S3_ENDPOINT_URL"],
                        region_name=app.config["ATTACHMENT_S3_REGION"],
                        aws_access_key_id=app.config["ATTACHMENT_S3_ACCESS_KEY_ID"],
                        aws_secret_access_key=app.config["ATTACHMENT_S3_SECRET_ACCESS_KEY"])


def stored_files(app: Flask) -> list[str]:
    """Everything in the store, temporary files and unfinished multipart uploads included."""
    if is_s3(app):
        client, bucket = s3_client(app), app.config["ATTACHMENT_S3_BUCKET"]
        objects = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return sorted([o["Key"] for o in objects] + [f"upload:{u['Key']}" for u in uploads])
    with app.app_context():
        root = service.storage().root  # type: ignore[attr-defined]
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def read_stored(app: Flask, attachment_id: uuid.UUID) -> bytes:
    """The stored ciphertext of an attachment, read behind the portal's back."""
    name = attachment_row(app, attachment_id).storage_name
    if is_s3(app):
        return bytes(s3_client(app).get_object(Bucket=app.config["ATTACHMENT_S3_BUCKET"], Key=name)["Body"].read())
    return stored_path(app, attachment_id).read_bytes()


def write_stored(app: Flask, attachment_id: uuid.UUID, data: bytes) -> None:
    """Replace the stored ciphertext (tampering, as someone with access to the store would)."""
    name = attachment_row(app, attachment_id).storage_name
    if is_s3(app):
        s3_client(app).put_object(Bucket=app.config["ATTACHMENT_S3_BUCKET"], Key=name, Body=data)
    else:
        stored_path(app, attachment_id).write_bytes(data)


def delete_stored(app: Flask, attachment_id: uuid.UUID) -> None:
    name = attachment_row(app, attachment_id).storage_name
    if is_s3(app):
        s3_client(app).delete_object(Bucket=app.config["ATTACHMENT_S3_BUCKET"], Key=name)
    else:
        stored_path(app, attachment_id).unlink()


def snapshot_store(app: Flask) -> dict[str, bytes]:
    """Every stored file's bytes by name."""
    with app.app_context():
        store = service.storage()
        snapshot = {}
        for name in store.names():
            handle = store.open(name)
            try:
                snapshot[name] = handle.read()
            finally:
                handle.close()
    return snapshot


def attachment_row(app: Flask, attachment_id: uuid.UUID) -> Attachment:
    with app.app_context():
        row = db.session.get(Attachment, attachment_id)
        assert row is not None
        db.session.expunge(row)
        db.session.remove()
    return row


def stored_path(app: Flask, attachment_id: uuid.UUID) -> Path:
    """The file of an attachment in the local store (local-only tests)."""
    row = attachment_row(app, attachment_id)
    with app.app_context():
        return service.storage().path(row.storage_name)  # type: ignore[attr-defined,no-any-return]


def wrap_owners(app: Flask, attachment_id: uuid.UUID) -> set[str]:
    with app.app_context():
        owners = set(db.session.scalars(select(AttachmentKeyWrap.owner)
                                        .where(AttachmentKeyWrap.attachment_id == attachment_id)))
        db.session.remove()
    return owners


def count_attachments(app: Flask) -> int:
    with app.app_context():
        n = len(db.session.scalars(select(Attachment.id)).all())
        db.session.remove()
    return n


def decrypt_as_owner(app: Flask, attachment_id: uuid.UUID, owner: str) -> bytes:
    """Below every access check: decrypt through `owner`'s own wrap (raises when it has none)."""
    with app.app_context():
        row = db.session.get(Attachment, attachment_id)
        assert row is not None
        try:
            return download.open_verified(db.session, row, owner).read_all()
        finally:
            db.session.remove()
