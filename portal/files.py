"""Durable file writes shared by the key file, the attachment store and key rotation (no Flask)."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries to disk after a create or rename in it: without this, a crash
    right after could lose the new name (a landed file, or the only copy of a key). A file
    system that cannot fsync a folder is accepted as it is."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
