"""Where encrypted attachment files live: server-generated names, atomic landing, no partial files.

A file is written to a temporary name in the storage folder, fsynced, renamed to its final
name and the folder fsynced, so a crash leaves either nothing or a complete file. Temporary
files start with ".tmp-" and are never referenced by a row; `sweep_temporary` removes stale
ones. The interface (stage, commit, open, delete) is small so an object store can replace it.
"""
from __future__ import annotations

import os
import re
import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}\.enc$")
_TEMP_PREFIX = ".tmp-"


class StorageError(RuntimeError):
    """A storage name is malformed (never derived from user input, so this means a bug or tampering)."""


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class StagedFile:
    """A temporary file that becomes a stored attachment on `commit`, or disappears.

    It is the Sink that encryption writes to: every SYNC_EVERY bytes it starts an fdatasync on
    a helper thread, so the disk flushes while the CPU encrypts and the final fsync is short.
    """

    SYNC_EVERY = 32 * 1024 * 1024

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.path = storage.root / f"{_TEMP_PREFIX}{secrets.token_hex(16)}"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        self.file: BinaryIO = os.fdopen(fd, "wb", buffering=0)
        self.name: str | None = None
        self._unsynced = 0
        self._pool: ThreadPoolExecutor | None = None
        self._syncing: Future[None] | None = None

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop_syncing()
        if not self.file.closed:
            self.file.close()
        if self.name is None:
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

    def commit(self, name: str) -> str:
        """fsync, move to its final server-generated `name` (from Storage.new_name), fsync the folder."""
        self._stop_syncing()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        final = self.storage.path(name)
        final.parent.mkdir(mode=0o700, exist_ok=True)
        os.rename(self.path, final)
        _fsync_dir(final.parent)
        self.name = name
        return name


class Storage:
    """A folder of encrypted attachment files."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def new_name(self) -> str:
        token = secrets.token_hex(16)
        return f"{token[:2]}/{token}.enc"

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise StorageError(f"malformed storage name {name!r}")
        return self.root / name

    def stage(self) -> StagedFile:
        return StagedFile(self)

    def open(self, name: str) -> BinaryIO:
        return open(self.path(name), "rb")

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def names(self) -> list[str]:
        """Every stored (final) file name."""
        return sorted(f"{p.parent.name}/{p.name}" for p in self.root.glob("*/*.enc"))

    def temporary_files(self) -> list[Path]:
        return sorted(self.root.glob(f"{_TEMP_PREFIX}*"))

    def sweep_temporary(self, older_than_seconds: float = 24 * 3600) -> int:
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
