"""Master-key providers: the root of the key hierarchy that wraps every state's private keys.

Key file format (``FileKeyProvider``): one line of standard base64 encoding exactly 32 bytes,
followed by a newline. Text rather than raw bytes so the same value can be backed up, printed
to a sealed envelope, or moved into ``PORTAL_MASTER_KEY`` without conversion. Reading also
accepts the URL-safe alphabet and missing padding, like ``EnvKeyProvider``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import contextlib
import os
import secrets
import stat
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from portal.crypto.errors import MasterKeyInvalid, MasterKeyMissing
from portal.files import fsync_dir

__all__ = [
    "DEFAULT_KEY_FILENAME",
    "ENV_MASTER_KEY",
    "ENV_MASTER_KEY_FILE",
    "MASTER_KEY_SIZE",
    "EnvKeyProvider",
    "FileKeyProvider",
    "KeyProvider",
    "MasterKeyInvalid",
    "MasterKeyMissing",
    "decode_master_key",
    "provider_from_config",
]

MASTER_KEY_SIZE = 32
ENV_MASTER_KEY = "PORTAL_MASTER_KEY"
ENV_MASTER_KEY_FILE = "PORTAL_MASTER_KEY_FILE"
DEFAULT_KEY_FILENAME = "master.key"

log = logging.getLogger(__name__)


def decode_master_key(text: str | bytes, *, source: str) -> bytes:
    """Decode a base64 (standard or URL-safe, padding optional) 32-byte master key."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise MasterKeyInvalid(f"master key in {source} is not base64 text") from None
    # Normalising to the standard alphabet lets one strict decoder accept both encodings.
    cleaned = "".join(text.split()).replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        key = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        # Never echo the value: it may be a real key with one bad character.
        raise MasterKeyInvalid(f"master key in {source} is not valid base64") from None
    if len(key) != MASTER_KEY_SIZE:
        raise MasterKeyInvalid(
            f"master key in {source} decodes to {len(key)} bytes; "
            f"expected {MASTER_KEY_SIZE} (generate one with: "
            f'python -c "import secrets, base64; print(base64.b64encode(secrets.token_bytes(32)).decode())")'
        )
    return key


class KeyProvider(ABC):
    """Source of the 32-byte master key; a KMS-backed provider can implement the same interface."""

    @abstractmethod
    def master_key(self) -> bytes:
        """Return the 32-byte master key."""

    def key_id(self) -> str:
        """Return a stable, non-secret identifier of the master key (for rotation bookkeeping)."""
        # Derived from the key itself, not its location, so moving the key from a file to the
        # environment keeps the id that existing wrapped keys were recorded under.
        digest = hashlib.sha256(b"echri-master-key-id|" + self.master_key()).hexdigest()
        return f"mk-{digest[:16]}"


class EnvKeyProvider(KeyProvider):
    """Master key given directly as base64 text (typically from ``PORTAL_MASTER_KEY``)."""

    def __init__(self, value: str | bytes, *, source: str = ENV_MASTER_KEY) -> None:
        # Decoded eagerly so a bad value stops the app at start-up, not at the first upload.
        self._key = decode_master_key(value, source=source)

    def master_key(self) -> bytes:
        """Return the 32-byte master key."""
        return self._key

    def __repr__(self) -> str:
        return "EnvKeyProvider(<redacted>)"


class FileKeyProvider(KeyProvider):
    """Master key kept in a 0600 file; created with fresh random bytes on first use if allowed."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        self.create = create
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileKeyProvider({str(self.path)!r}, create={self.create})"

    def master_key(self) -> bytes:
        """Return the 32-byte master key, creating the key file first if it is missing."""
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._load_or_create()
        return self._key

    def _load_or_create(self) -> bytes:
        try:
            return self._read()
        except FileNotFoundError:
            if not self.create:
                raise MasterKeyMissing(
                    f"master key file {self.path} does not exist (set by {ENV_MASTER_KEY_FILE}); "
                    "refusing to create a new key there because existing data would become unreadable"
                ) from None
        self._create()
        return self._read()

    def _read(self) -> bytes:
        try:
            st = os.stat(self.path)
            if not stat.S_ISREG(st.st_mode):
                raise MasterKeyInvalid(f"master key file {self.path} is not a regular file")
            if st.st_mode & 0o077:
                # Not fatal: mounted secrets (Docker, Kubernetes) are often 0644 inside a
                # locked-down container, and refusing would only push people to env vars.
                log.warning("master key file %s is accessible to group/others (mode %o)",
                            self.path, stat.S_IMODE(st.st_mode))
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise MasterKeyInvalid(f"master key file {self.path} cannot be read: {exc.strerror}") from None
        return decode_master_key(data, source=f"file {self.path}")

    def _create(self) -> None:
        directory = self.path.parent
        os.makedirs(directory, mode=0o700, exist_ok=True)
        content = base64.b64encode(secrets.token_bytes(MASTER_KEY_SIZE)) + b"\n"
        # Write a complete temporary file, then hard-link it into place: the link is atomic and
        # fails if the name exists, so concurrent workers never see a half-written key and
        # exactly one creator wins.
        tmp = directory / f".{self.path.name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            try:
                os.write(fd, content)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                return  # another process created it first; its key is the one to use
            except OSError:
                # Filesystems without hard links: fall back to an exclusive create of the
                # final name (a concurrent reader could then briefly see a partial file).
                self._create_in_place(content)
                return
            fsync_dir(directory)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _create_in_place(self, content: bytes) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            return
        try:
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self.path.parent)


def provider_from_config(
    mapping: Mapping[str, Any],
    instance_path: str | os.PathLike[str],
    production: bool,
) -> KeyProvider:
    """Choose the master-key provider from configuration (env-style mapping)."""
    value = mapping.get(ENV_MASTER_KEY) or None
    path = mapping.get(ENV_MASTER_KEY_FILE) or None
    if value is not None and path is not None:
        raise MasterKeyInvalid(
            f"both {ENV_MASTER_KEY} and {ENV_MASTER_KEY_FILE} are set; set exactly one"
        )
    if value is not None:
        return EnvKeyProvider(value)
    if path is not None:
        # In production an explicitly named file that is missing means a failed secret mount;
        # creating a fresh key there would silently orphan every wrapped key.
        return FileKeyProvider(os.fspath(path), create=not production)
    if production:
        raise MasterKeyMissing(
            f"no master key configured: set {ENV_MASTER_KEY} (base64 of 32 bytes) or "
            f"{ENV_MASTER_KEY_FILE} (path to a file holding it); production never generates one"
        )
    return FileKeyProvider(Path(instance_path) / DEFAULT_KEY_FILENAME)
