"""The store itself, on both backends: nothing left by an aborted upload, flat memory, the sweep command."""
from __future__ import annotations

import io
import os
import time
import tracemalloc
from typing import Any

import pytest
from flask import Flask

from portal.attachments import download, service
from portal.extensions import db
from portal.models import Attachment, Item, User
from tests.attachments.conftest import count_attachments, is_s3, pdf_bytes, s3_client, stored_files

MiB = 1024 * 1024


class BreaksAfter(io.RawIOBase):
    """A PDF-looking source of `size` bytes that fails after `fail_at` bytes (a dropped connection)."""

    def __init__(self, size: int, fail_at: int | None = None) -> None:
        self.size, self.fail_at, self.pos = size, fail_at, 0
        self.head = pdf_bytes(64)

    def readable(self) -> bool:
        return True

    def readinto(self, view: Any) -> int:
        if self.fail_at is not None and self.pos >= self.fail_at:
            raise OSError("client went away")
        n = min(len(view), self.size - self.pos)
        if self.pos == 0:
            view[:len(self.head)] = self.head
        self.pos += n
        return n


def _store(app: Flask, spoc: Any, item_id: Any, source: Any) -> Attachment:
    with app.app_context():
        attachment = service.store_attachment(db.session, db.session.get(User, spoc.id), db.session.get(Item, item_id),
                                              "big.pdf", source, limit=200 * MiB)
        db.session.expunge(attachment)
        db.session.remove()
    return attachment


def test_aborted_multipart_upload_leaves_no_object(app: Flask, make_item: Any, spoc: Any) -> None:
    """Several parts already sent when the source breaks: the upload is aborted, the bucket stays empty."""
    app.config["ATTACHMENT_S3_PART_SIZE"] = 5 * MiB
    item_id = make_item()
    with pytest.raises(OSError, match="client went away"):
        _store(app, spoc, item_id, BreaksAfter(30 * MiB, fail_at=17 * MiB))
    assert count_attachments(app) == 0
    assert stored_files(app) == []  # S3: neither objects nor unfinished multipart uploads


def test_memory_stays_flat_for_a_large_file(app: Flask, make_item: Any, spoc: Any) -> None:
    """Uploading and downloading 48 MiB holds a part (S3) or a batch (local) at a time, not the file."""
    app.config["ATTACHMENT_S3_PART_SIZE"] = 5 * MiB
    item_id = make_item(countries=["NO"])
    size = 48 * MiB
    _store(app, spoc, item_id, BreaksAfter(MiB))  # warm up: clients and API models load once per process
    tracemalloc.start()
    try:
        attachment = _store(app, spoc, item_id, BreaksAfter(size))
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with app.app_context():
            row = db.session.get(Attachment, attachment.id)
            verified = download.open_verified(db.session, row, "NO")
            total = sum(len(chunk) for chunk in verified.chunks())
            db.session.remove()
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert upload_peak < 16 * MiB, f"upload peak {upload_peak / MiB:.1f} MiB"
    assert download_peak < 12 * MiB, f"download peak {download_peak / MiB:.1f} MiB"
    if is_s3(app):  # it really went up in parts
        head = s3_client(app).head_object(Bucket=app.config["ATTACHMENT_S3_BUCKET"], Key=attachment.storage_name)
        assert head["ETag"].strip('"').endswith("-10")  # 48 MiB in 5 MiB parts


def _stale_upload(app: Flask) -> None:
    """What a crash mid-upload leaves: a temporary file, or an unfinished multipart upload."""
    with app.app_context():
        store = service.storage()
        if is_s3(app):
            store.client.create_multipart_upload(Bucket=store.bucket, Key=store.key(store.new_name()))  # type: ignore[attr-defined]
        else:
            path = store.root / ".tmp-0123456789abcdef0123456789abcdef"  # type: ignore[attr-defined]
            path.write_bytes(b"partial")
            old = time.time() - 3 * 24 * 3600
            os.utime(path, (old, old))


def test_sweep_command_removes_stale_temporary_uploads_only(app: Flask, make_item: Any, store: Any) -> None:
    kept = store(make_item(), pdf_bytes())
    _stale_upload(app)
    files_before = stored_files(app)
    assert len(files_before) == 2
    runner = app.test_cli_runner()
    if is_s3(app):
        # The API cannot back-date an upload, and moto reports every upload as initiated on 2010-11-10:
        # an age limit of 30 years keeps it, the default (a day) aborts it.
        result = runner.invoke(args=["attachments", "sweep", "--older-than", str(30 * 365 * 24)])
        assert result.exit_code == 0 and result.output.startswith("0 stale"), result.output
        assert stored_files(app) == files_before
        result = runner.invoke(args=["attachments", "sweep"])
    else:
        fresh = service_root(app) / ".tmp-fedcba9876543210fedcba9876543210"
        fresh.write_bytes(b"uploading now")
        result = runner.invoke(args=["attachments", "sweep"])
        assert fresh.exists()
        fresh.unlink()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 stale temporary upload(s) removed"), result.output
    remaining = stored_files(app)
    assert len(remaining) == 1 and remaining[0].endswith(".enc")
    client_download = _decrypts(app, kept)
    assert client_download.startswith(b"%PDF")


def service_root(app: Flask) -> Any:
    with app.app_context():
        return service.storage().root  # type: ignore[attr-defined]


def _decrypts(app: Flask, attachment_id: Any) -> bytes:
    from tests.attachments.conftest import decrypt_as_owner

    return decrypt_as_owner(app, attachment_id, "DK")
