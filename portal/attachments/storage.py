"""Where encrypted attachment files live: server-generated names, atomic landing, no partial files.

Two backends implement one small interface (`AttachmentStore`): a local folder and S3-compatible
object storage (portal.attachments.s3). `store_from_config` picks one from configuration.

Only ciphertext ever reaches a store; manifests, signatures and key wraps live in the database.
A name is reserved when a file is staged and the file appears under it only on `commit`: a
failed or abandoned upload leaves nothing behind (a local temporary file or an S3 multipart
upload, both removed on failure; `sweep_temporary` removes those left by a crash).

Local folder: a file is written to a temporary name in the storage folder, fsynced, renamed to
its final name and the folder fsynced, so a crash leaves either nothing or a complete file.
Temporary files start with ".tmp-" and are never referenced by a row.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol, Self, runtime_checkable
from portal.files import fsync_dir

_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}\.enc$")
_TEMP_PREFIX = ".tmp-"
DEFAULT_SWEEP_AGE = 24 * 3600


class StorageError(RuntimeError):
    """A storage name is malformed (never derived from user input, so this means a bug or tampering)."""


def new_name() -> str:
    """A fresh server-generated storage name: two hex digits of fan-out, 128 random bits."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}.enc"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise StorageError(f"malformed storage name {name!r}")
    return name


@runtime_checkable
class StoredFile(Protocol):
    """A stored file opened for reading: a binary stream that knows its size and can rewind."""

    @property
    def size(self) -> int: ...

    def read(self, size: int = -1, /) -> bytes: ...

    def readinto(self, buffer: Any, /) -> int | None: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def close(self) -> None: ...


class Staged(Protocol):
    """A file being written (the Sink encryption writes to); it appears under `name` only on commit."""

    name: str

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def write(self, data: memoryview, /) -> int: ...

    def commit(self) -> str: ...


class AttachmentStore(Protocol):
    """The storage interface every backend implements."""

    backend: str

    def stage(self, name: str | None = None) -> Staged:
        """Start writing a file that will be stored as `name` (a fresh server-generated name by default)."""
        ...

    def open(self, name: str) -> StoredFile: ...

    def delete(self, name: str) -> None: ...

    def names(self) -> list[str]:
        """Every stored (committed) file name, sorted."""
        ...

    def temporary(self) -> list[str]:
        """Uploads in progress or left by a crash (descriptions, for operators and tests)."""
        ...

    def sweep_temporary(self, older_than_seconds: float = DEFAULT_SWEEP_AGE) -> int:
        """Remove temporary uploads older than the given age; returns how many."""
        ...

    def describe(self) -> str: ...

    def check_ready(self) -> None:
        """Raise unless files can be stored now (for /readyz)."""
        ...


class LocalFile(io.FileIO):
    """A stored file in the local folder (unbuffered: decryption reads in large batches anyway)."""

    @property
    def size(self) -> int:
        return os.fstat(self.fileno()).st_size


class StagedFile:
    """A temporary file that becomes a stored attachment on `commit`, or disappears.

    It is the Sink that encryption writes to: every SYNC_EVERY bytes it starts an fdatasync on
    a helper thread, so the disk flushes while the CPU encrypts and the final fsync is short.
    """

    SYNC_EVERY = 32 * 1024 * 1024

    def __init__(self, storage: Storage, name: str) -> None:
        self.storage = storage
        self.name = check_name(name)
        self.path = storage.root / f"{_TEMP_PREFIX}{secrets.token_hex(16)}"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        self.file: BinaryIO = os.fdopen(fd, "wb", buffering=0)
        self.committed = False
        self._unsynced = 0
        self._pool: ThreadPoolExecutor | None = None
        self._syncing: Future[None] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop_syncing()
        if not self.file.closed:
            self.file.close()
        if not self.committed:
            self.path.unlink(missing_ok=True)

    def write(self, data: memoryview) -> int:
        written = self.file.write(data) or 0
        self._unsynced += written
        if self._unsynced >= self.SYNC_EVERY and (self._syncing is None or self._syncing.done()):
            self._unsynced = 0
            if self._syncing is not None:
                self._syncing.result()  # surface an I/O error now rather than at commit
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attachment-sync")
            self._syncing = self._pool.submit(os.fdatasync, self.file.fileno())
        return written

    def _stop_syncing(self) -> None:
        try:
            if self._syncing is not None:
                self._syncing.result()
        finally:
            self._syncing = None
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def commit(self) -> str:
        """fsync, move to its final server-generated name, fsync the folder."""
        self._stop_syncing()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        final = self.storage.path(self.name)
        final.parent.mkdir(mode=0o700, exist_ok=True)
        os.rename(self.path, final)
        fsync_dir(final.parent)
        self.committed = True
        return self.name


class Storage:
    """A folder of encrypted attachment files (the local backend)."""

    backend = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def new_name(self) -> str:
        return new_name()

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def stage(self, name: str | None = None) -> StagedFile:
        return StagedFile(self, name or new_name())

    def open(self, name: str) -> LocalFile:
        return LocalFile(self.path(name), "rb")

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def names(self) -> list[str]:
        return sorted(f"{p.parent.name}/{p.name}" for p in self.root.glob("*/*.enc"))

    def temporary_files(self) -> list[Path]:
        return sorted(self.root.glob(f"{_TEMP_PREFIX}*"))

    def temporary(self) -> list[str]:
        return [p.name for p in self.temporary_files()]

    def sweep_temporary(self, older_than_seconds: float = DEFAULT_SWEEP_AGE) -> int:
        """Delete temporary files left by a crash (not by a running upload: they are recent)."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.temporary_files():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

    def check_ready(self) -> None:
        """Create and remove a temporary file (the ".tmp-" prefix the sweeper knows)."""
        probe = self.root / f"{_TEMP_PREFIX}ready-{secrets.token_hex(8)}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"ready")
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)

    def describe(self) -> str:
        return f"local folder {self.root}"


LocalStorage = Storage

DEFAULT_PART_SIZE = 8 * 1024 * 1024


def store_from_config(config: Mapping[str, Any], instance_path: str | os.PathLike[str]) -> AttachmentStore:
    """The one place a backend is chosen: ATTACHMENT_BACKEND "local" (default) or "s3"."""
    backend = (config.get("ATTACHMENT_BACKEND") or "local").lower()
    if backend == "local":
        return Storage(config.get("ATTACHMENT_STORAGE") or Path(instance_path) / "attachments")
    if backend == "s3":
        from portal.attachments.s3 import S3Storage

        bucket = config.get("ATTACHMENT_S3_BUCKET")
        if not bucket:
            raise StorageError("ATTACHMENT_BACKEND is s3 but ATTACHMENT_S3_BUCKET is not set")
        return S3Storage(
            bucket=bucket, prefix=config.get("ATTACHMENT_S3_PREFIX") or "",
            endpoint_url=config.get("ATTACHMENT_S3_ENDPOINT_URL") or None,
            region=config.get("ATTACHMENT_S3_REGION") or None,
            access_key_id=config.get("ATTACHMENT_S3_ACCESS_KEY_ID") or None,
            secret_access_key=config.get("ATTACHMENT_S3_SECRET_ACCESS_KEY") or None,
            part_size=int(config.get("ATTACHMENT_S3_PART_SIZE") or DEFAULT_PART_SIZE))
    raise StorageError(f"unknown ATTACHMENT_BACKEND {backend!r}; choose local or s3")
