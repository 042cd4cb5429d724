"""Streaming authenticated encryption of attachment content: AES-256-GCM in the STREAM construction.

STREAM (Hoang, Reyhanitabar, Rogaway, Vizár, "Online authenticated-encryption and its
nonce-reuse misuse-resistance", CRYPTO 2015) splits the plaintext into fixed-size chunks and
gives every chunk a nonce that encodes its position and whether it is the last one, so an
attacker who can edit stored files cannot drop, reorder, duplicate or splice chunks, nor cut
the file at a chunk boundary, without a tag failing.

Layout (all integers big-endian)::

    header  = magic "ECHRIS" (6) | format version 0x01 (1) | chunk size (4) | nonce prefix (7)
    chunk i = AES-256-GCM(data key, nonce_i, plaintext chunk i, associated data = header)
              -> ciphertext (len of plaintext chunk) | tag (16)
    nonce_i = nonce prefix (7) | i (4) | 0x01 if last chunk else 0x00 (1)

Every chunk except the last carries exactly ``chunk size`` plaintext bytes; the last carries
0..chunk size bytes, so an empty file is one empty final chunk (just a tag). The header is the
associated data of every chunk, which authenticates the header itself (magic, version, chunk
size, prefix) and ties every chunk to this file's random prefix: a chunk moved from another
file, even one under the same data key, fails.

The data key is random per attachment, so the 7-byte random prefix is not needed for nonce
uniqueness; it is there for splice detection and as defence in depth if a key were ever reused.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.crypto.errors import StreamAuthenticationError

__all__ = [
    "CHUNK_SIZE",
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "MAGIC",
    "TAG_SIZE",
    "Sink",
    "Source",
    "StreamAuthenticationError",
    "StreamResult",
    "VerifiedStream",
    "ciphertext_size",
    "decrypt_stream",
    "encrypt_stream",
    "verify_stream",
]

MAGIC = b"ECHRIS"
FORMAT_VERSION = 1
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_PREFIX_SIZE = 7
MAX_CHUNK_SIZE = 1024 * 1024
KEY_SIZE = 32

_HEADER = struct.Struct(">6sBI7s")
HEADER_SIZE = _HEADER.size
_COUNTER_LAST = struct.Struct(">IB")
_MAX_CHUNKS = 2**32

# Bytes moved per Python-level iteration. Large enough that per-call overhead (readinto,
# write, hash update, thread hand-off) is noise next to the crypto; small enough that a
# stream's working set stays around 2 MiB whatever the file size.
_BATCH_BYTES = 1024 * 1024


class Source(Protocol):
    """Anything with a blocking ``read`` (files, request bodies, sockets); ``readinto`` is used when present."""

    def read(self, size: int = -1, /) -> bytes | None: ...


class Sink(Protocol):
    """Anything with ``write`` following io semantics: it must not keep the buffer after returning.

    A short count means a partial write and the rest is retried; ``None`` is taken as "all
    written", as returned by simple duck-typed sinks.
    """

    def write(self, data: memoryview, /) -> int | None: ...


@dataclass(frozen=True)
class StreamResult:
    """Sizes and SHA-256 digests (hex) measured while encrypting."""

    plaintext_size: int
    ciphertext_size: int
    plaintext_sha256: str
    ciphertext_sha256: str


class VerifiedStream(NamedTuple):
    """Outcome of authenticating a whole stream: SHA-256 (hex) and size of its plaintext."""

    plaintext_sha256: str
    plaintext_size: int


def ciphertext_size(plaintext_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """Return the exact encrypted size (header included) for a plaintext of the given size."""
    chunks = max(1, -(-plaintext_size // chunk_size))
    return HEADER_SIZE + plaintext_size + chunks * TAG_SIZE


def _aead(data_key: bytes) -> AESGCM:
    if len(data_key) != KEY_SIZE:
        raise ValueError(f"data key must be {KEY_SIZE} bytes")
    return AESGCM(data_key)


def _fill(src: Source, view: memoryview, pos: int) -> int:
    """Read into view[pos:] until it is full or src reports EOF; return the filled length."""
    readinto = getattr(src, "readinto", None)
    end = len(view)
    # Network bodies return short reads long before EOF; only an empty read means the end.
    while pos < end:
        if readinto is not None:
            n = readinto(view[pos:])
        else:
            data = src.read(end - pos)
            n = None if data is None else len(data)
            if data:
                view[pos:pos + len(data)] = data
        if n is None:
            raise BlockingIOError("non-blocking source returned no data; a blocking stream is required")
        if n == 0:
            break
        pos += n
    return pos


def _write_all(dst: Sink, view: memoryview) -> None:
    # Buffered files write everything, but raw streams may accept only part of the buffer.
    while view:
        n = dst.write(view)
        if n is None or n >= len(view):
            return
        if n <= 0:
            raise BlockingIOError("sink accepted no bytes; a blocking stream is required")
        view = view[n:]


def _batches(src: Source, buf: bytearray, unit: int) -> Iterator[tuple[int, bool]]:
    """Yield (end, final) for successive batches of whole units read into buf.

    When the buffer fills, the last unit is held back and moved to the front of the next
    batch: only the next read can tell whether it is the final unit, and a final unit must be
    marked as such even when the data length is an exact multiple of the unit.
    """
    view = memoryview(buf)
    held = 0
    while True:
        filled = _fill(src, view, held)
        if filled < len(buf):
            yield filled, True
            return
        end = len(buf) - unit
        yield end, False
        view[:unit] = view[end:]
        held = unit


def _header(chunk_size: int, prefix: bytes) -> bytes:
    return _HEADER.pack(MAGIC, FORMAT_VERSION, chunk_size, prefix)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= _MAX_CHUNKS:
        raise OverflowError("stream exceeds 2**32 chunks")
    return prefix + _COUNTER_LAST.pack(counter, last)


class _Digest(Protocol):
    def update(self, data: memoryview, /) -> None: ...


class _BackgroundHash:
    """Hash buffers on one worker thread so plaintext and ciphertext digests run in parallel.

    hashlib releases the GIL on large updates, so hashing the plaintext on a second core
    while this thread encrypts and hashes the ciphertext roughly halves the cost of the
    second digest. The worker is only started for streams longer than one batch.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def submit(self, digest: _Digest, data: memoryview) -> None:
        self.wait()
        try:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-hash")
            self._pending = self._pool.submit(digest.update, data)
        except RuntimeError:
            # No thread available (interpreter shutting down, thread limits): same result, slower.
            digest.update(data)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)


def encrypt_stream(data_key: bytes, src: Source, dst: Sink, *, chunk_size: int = CHUNK_SIZE) -> StreamResult:
    """Encrypt src into dst in constant memory, returning sizes and SHA-256 digests of both sides."""
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size must be between 1 and {MAX_CHUNK_SIZE}")
    aead = _aead(data_key)
    prefix = os.urandom(NONCE_PREFIX_SIZE)
    header = _header(chunk_size, prefix)
    block = chunk_size + TAG_SIZE
    per_batch = max(2, _BATCH_BYTES // chunk_size)  # >= 2 so a batch makes progress past the held unit

    buf = bytearray(per_batch * chunk_size)
    view = memoryview(buf)
    out = bytearray(per_batch * block)
    out_view = memoryview(out)
    plain_hash = hashlib.sha256()
    cipher_hash = hashlib.sha256(header)
    plain_size = 0
    cipher_size = len(header)
    counter = 0
    hasher = _BackgroundHash()

    _write_all(dst, memoryview(header))
    try:
        for end, final in _batches(src, buf, chunk_size):
            if final:
                hasher.wait()
                plain_hash.update(view[:end])
            else:
                hasher.submit(plain_hash, view[:end])
            starts = range(0, end, chunk_size) if end else range(1)
            last_start = starts[-1]
            written = 0
            for start in starts:
                stop = min(start + chunk_size, end)
                nonce = _nonce(prefix, counter, final and start == last_start)
                written += aead.encrypt_into(nonce, view[start:stop], header,
                                             out_view[written:written + stop - start + TAG_SIZE])
                counter += 1
            cipher_hash.update(out_view[:written])
            _write_all(dst, out_view[:written])
            plain_size += end
            cipher_size += written
            # The worker must be done with this batch before _batches reuses the buffer.
            hasher.wait()
    finally:
        hasher.close()
    return StreamResult(
        plaintext_size=plain_size,
        ciphertext_size=cipher_size,
        plaintext_sha256=plain_hash.hexdigest(),
        ciphertext_sha256=cipher_hash.hexdigest(),
    )


def _read_header(src: Source) -> tuple[bytes, bytes, int]:
    raw = bytearray(HEADER_SIZE)
    if _fill(src, memoryview(raw), 0) != HEADER_SIZE:
        raise StreamAuthenticationError("encrypted stream is truncated: incomplete header")
    header = bytes(raw)
    magic, version, chunk_size, prefix = _HEADER.unpack(header)
    # These checks only give clearer messages and bound memory before allocation; any
    # tampering they miss is caught because the header is every chunk's associated data.
    if magic != MAGIC:
        raise StreamAuthenticationError("not an ECHRI encrypted stream (bad magic)")
    if version != FORMAT_VERSION:
        raise StreamAuthenticationError(f"unsupported encrypted stream version {version}")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise StreamAuthenticationError(f"invalid chunk size {chunk_size} in stream header")
    return header, prefix, chunk_size


def _chunk_spans(end: int, final: bool, block: int) -> range:
    if final:
        if end == 0:
            raise StreamAuthenticationError("encrypted stream is truncated: no final chunk")
        if (end - 1) % block + 1 < TAG_SIZE:
            raise StreamAuthenticationError("encrypted stream is truncated or has trailing bytes")
    return range(0, end, block)


_Batch = tuple[AESGCM, bytes, memoryview, list[tuple[int, int, bytes]]]


def _open_chunks(data_key: bytes, src: Source) -> Iterator[_Batch]:
    """Yield per batch: cipher, header, buffer view and (start, stop, nonce) for each chunk."""
    aead = _aead(data_key)
    header, prefix, chunk_size = _read_header(src)
    block = chunk_size + TAG_SIZE
    per_batch = max(2, _BATCH_BYTES // chunk_size)
    buf = bytearray(per_batch * block)
    view = memoryview(buf)
    counter = 0
    for end, final in _batches(src, buf, block):
        spans = _chunk_spans(end, final, block)
        last_start = spans[-1]
        chunks = []
        for start in spans:
            chunks.append((start, min(start + block, end), _nonce(prefix, counter, final and start == last_start)))
            counter += 1
        yield aead, header, view, chunks


def _fail(index: int) -> StreamAuthenticationError:
    return StreamAuthenticationError(
        f"encrypted stream failed authentication at chunk {index} "
        "(wrong key, or content modified, truncated, reordered, spliced or extended)"
    )


def decrypt_stream(data_key: bytes, src: Source) -> Iterator[bytes]:
    """Yield authenticated plaintext chunks; raise StreamAuthenticationError on any tampering.

    Each yielded chunk is authentic, but truncation is only detectable at the end, so a
    consumer must treat the stream as valid only once iteration finishes without error. To
    avoid sending any byte of a bad file, run verify_stream first.
    """
    index = 0
    for aead, header, view, chunks in _open_chunks(data_key, src):
        for start, stop, nonce in chunks:
            try:
                plain = aead.decrypt(nonce, view[start:stop], header)
            except InvalidTag:
                raise _fail(index) from None
            index += 1
            yield plain


def verify_stream(data_key: bytes, src: Source) -> VerifiedStream:
    """Authenticate a whole stream without keeping plaintext; return its SHA-256 (hex) and size."""
    plain_hash = hashlib.sha256()
    size = 0
    index = 0
    scratch: memoryview | None = None
    for aead, header, view, chunks in _open_chunks(data_key, src):
        if scratch is None:
            scratch = memoryview(bytearray(len(view)))
        written = 0
        for start, stop, nonce in chunks:
            try:
                written += aead.decrypt_into(nonce, view[start:stop], header,
                                             scratch[written:written + stop - start - TAG_SIZE])
            except InvalidTag:
                raise _fail(index) from None
            index += 1
        plain_hash.update(scratch[:written])
        size += written
    return VerifiedStream(plain_hash.hexdigest(), size)
