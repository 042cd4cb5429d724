"""Throughput of portal.crypto.stream against raw AES-256-GCM + SHA-256 on the same data.

Usage: .venv/bin/python bench/crypto_stream.py [MiB] [--repeat N] [--to-file]

Baseline: cryptography's AESGCM over 64 KiB chunks plus one SHA-256 of the data, with no I/O,
no framing and no second digest: the ceiling any Python streaming layer can approach.
encrypt_stream also hashes the ciphertext (the manifest records both digests), so it does
one more SHA-256 pass than the baseline; it overlaps that pass on a worker thread.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.crypto.stream import CHUNK_SIZE, decrypt_stream, encrypt_stream, verify_stream


class NullSink(io.RawIOBase):
    """Write-only sink that discards data, to measure crypto without disk speed."""

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        return len(b)


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """Return the fastest wall time of repeat runs (least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Run the benchmark and print MB/s and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mib", nargs="?", type=int, default=256, help="data size in MiB (default 256)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, best kept (default 3)")
    parser.add_argument("--to-file", action="store_true", help="also encrypt to a real file in a temp dir")
    args = parser.parse_args()

    size = args.mib * 1024 * 1024
    data = os.urandom(size)
    key = AESGCM.generate_key(256)
    mb = size / 1e6

    def raw() -> None:
        aead = AESGCM(key)
        nonce = os.urandom(12)
        view = memoryview(data)
        digest = hashlib.sha256()
        for i in range(0, size, CHUNK_SIZE):
            aead.encrypt(nonce, view[i:i + CHUNK_SIZE], None)
            digest.update(view[i:i + CHUNK_SIZE])
        digest.hexdigest()

    ciphertext = io.BytesIO()
    encrypt_stream(key, io.BytesIO(data), ciphertext)
    ct = ciphertext.getvalue()

    def enc_null() -> None:
        encrypt_stream(key, io.BytesIO(data), NullSink())

    def dec_hash() -> None:
        digest = hashlib.sha256()
        for chunk in decrypt_stream(key, io.BytesIO(ct)):
            digest.update(chunk)
        digest.hexdigest()

    def verify() -> None:
        verify_stream(key, io.BytesIO(ct))

    rows: list[tuple[str, float]] = [
        ("raw AES-256-GCM + SHA-256 (baseline)", best_of(args.repeat, raw)),
        ("encrypt_stream -> null sink", best_of(args.repeat, enc_null)),
    ]
    if args.to_file:
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "blob"

            def enc_file() -> None:
                with open(target, "wb") as out:
                    encrypt_stream(key, io.BytesIO(data), out)

            rows.append(("encrypt_stream -> temp file", best_of(args.repeat, enc_file)))
    rows += [
        ("decrypt_stream + SHA-256 by caller", best_of(args.repeat, dec_hash)),
        ("verify_stream", best_of(args.repeat, verify)),
    ]

    base = rows[0][1]
    print(f"{args.mib} MiB random data, {CHUNK_SIZE // 1024} KiB chunks, best of {args.repeat}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'':40} {'MB/s':>8} {'vs baseline':>12}")
    for name, seconds in rows:
        print(f"{name:40} {mb / seconds:8.0f} {base / seconds:11.0%}")


if __name__ == "__main__":
    main()
