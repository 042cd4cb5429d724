"""STREAM encryption: round trips, exact framing, and every tampering the construction must catch."""

from __future__ import annotations

import hashlib
import io
import os
import random
import tracemalloc
from collections.abc import Callable

import pytest

from portal.crypto.errors import CryptoError
from portal.crypto.stream import (
    CHUNK_SIZE,
    HEADER_SIZE,
    TAG_SIZE,
    StreamAuthenticationError,
    StreamResult,
    ciphertext_size,
    decrypt_stream,
    encrypt_stream,
    verify_stream,
)

BLOCK = CHUNK_SIZE + TAG_SIZE
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
SEEDED = random.Random(20240611)
RANDOM_SIZES = sorted({SEEDED.randrange(0, 40 * CHUNK_SIZE) for _ in range(6)})
# 16 chunks fill one internal 1 MiB batch: these exercise the hand-over between batches.
BATCH_EDGES = [15 * CHUNK_SIZE, 16 * CHUNK_SIZE - 1, 16 * CHUNK_SIZE, 16 * CHUNK_SIZE + 1,
               31 * CHUNK_SIZE, 32 * CHUNK_SIZE]


def encrypt(data: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    encrypt_stream(key, io.BytesIO(data), out)
    return out.getvalue()


def decrypt(blob: bytes, key: bytes = KEY) -> bytes:
    return b"".join(decrypt_stream(key, io.BytesIO(blob)))


def chunks_of(blob: bytes) -> tuple[bytes, list[bytes]]:
    body = blob[HEADER_SIZE:]
    return blob[:HEADER_SIZE], [body[i:i + BLOCK] for i in range(0, len(body), BLOCK)]


def assert_rejected(blob: bytes, key: bytes = KEY) -> None:
    with pytest.raises(StreamAuthenticationError):
        decrypt(blob, key)
    with pytest.raises(StreamAuthenticationError):
        verify_stream(key, io.BytesIO(blob))


@pytest.mark.parametrize(
    "size",
    [0, 1, 15, 16, 17, 65535, 65536, 65537, 2 * 65536, 3 * 65536, 3 * 65536 + 7] + RANDOM_SIZES + BATCH_EDGES,
)
def test_round_trip_and_reported_digests(size: int) -> None:
    data = os.urandom(size)
    out = io.BytesIO()
    result = encrypt_stream(KEY, io.BytesIO(data), out)
    blob = out.getvalue()

    assert result == StreamResult(
        plaintext_size=size,
        ciphertext_size=len(blob),
        plaintext_sha256=hashlib.sha256(data).hexdigest(),
        ciphertext_sha256=hashlib.sha256(blob).hexdigest(),
    )
    assert len(blob) == ciphertext_size(size)
    assert decrypt(blob) == data
    assert verify_stream(KEY, io.BytesIO(blob)) == (hashlib.sha256(data).hexdigest(), size)


def test_yielded_chunks_follow_the_chunk_size() -> None:
    data = os.urandom(2 * CHUNK_SIZE + 5)
    assert [len(c) for c in decrypt_stream(KEY, io.BytesIO(encrypt(data)))] == [CHUNK_SIZE, CHUNK_SIZE, 5]


def test_empty_file_is_one_final_empty_chunk() -> None:
    blob = encrypt(b"")
    assert len(blob) == HEADER_SIZE + TAG_SIZE
    assert list(decrypt_stream(KEY, io.BytesIO(blob))) == [b""]


def test_exact_multiple_has_no_extra_empty_chunk() -> None:
    assert len(encrypt(os.urandom(3 * CHUNK_SIZE))) == HEADER_SIZE + 3 * BLOCK


def test_same_plaintext_encrypts_differently() -> None:
    data = b"same content"
    assert encrypt(data) != encrypt(data)


class ShortReads(io.RawIOBase):
    """A network-like body: readinto hands back a few bytes at a time."""

    def __init__(self, data: bytes, seed: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._rng = random.Random(seed)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._rng.randint(1, 3000), len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n


class ReadOnly:
    """A source with only read() (no readinto), returning short pieces."""

    def __init__(self, data: bytes, seed: int) -> None:
        self._data = data
        self._pos = 0
        self._rng = random.Random(seed)

    def read(self, n: int = -1) -> bytes:
        n = min(n, self._rng.randint(1, 5000))
        piece = self._data[self._pos:self._pos + n]
        self._pos += len(piece)
        return piece


class ShortWrites(io.RawIOBase):
    """A raw sink that accepts at most 1000 bytes per write call."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        piece = bytes(b[:1000])
        self.data += piece
        return len(piece)


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, 3 * CHUNK_SIZE + 1, 17 * CHUNK_SIZE])
@pytest.mark.parametrize("source", [ShortReads, ReadOnly])
def test_short_reads_on_both_sides(size: int, source: Callable[[bytes, int], object]) -> None:
    data = os.urandom(size)
    sink = ShortWrites()
    result = encrypt_stream(KEY, source(data, 1), sink)  # type: ignore[arg-type]
    blob = bytes(sink.data)
    assert result.ciphertext_sha256 == hashlib.sha256(blob).hexdigest()
    assert b"".join(decrypt_stream(KEY, source(blob, 2))) == data  # type: ignore[arg-type]
    assert verify_stream(KEY, source(blob, 3)).plaintext_size == size  # type: ignore[arg-type]


def test_small_custom_chunk_size_round_trips() -> None:
    data = os.urandom(1000)
    out = io.BytesIO()
    encrypt_stream(KEY, io.BytesIO(data), out, chunk_size=7)
    assert decrypt(out.getvalue()) == data


# --- truncation -------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, 3 * CHUNK_SIZE + 100, 20 * CHUNK_SIZE])
def test_dropping_the_last_chunk_is_detected(size: int) -> None:
    header, chunks = chunks_of(encrypt(os.urandom(size)))
    assert_rejected(header + b"".join(chunks[:-1]))


@pytest.mark.parametrize("cut", [1, 15, 16, 17, BLOCK // 2, BLOCK - 1])
def test_cutting_mid_chunk_is_detected(cut: int) -> None:
    blob = encrypt(os.urandom(3 * CHUNK_SIZE))
    assert_rejected(blob[:HEADER_SIZE + BLOCK + cut])
    assert_rejected(blob[:-cut])


@pytest.mark.parametrize("keep", [0, 1, HEADER_SIZE - 1, HEADER_SIZE])
def test_truncated_to_or_inside_the_header_is_detected(keep: int) -> None:
    assert_rejected(encrypt(os.urandom(100))[:keep])


def test_truncation_is_raised_after_the_authentic_prefix() -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    header, chunks = chunks_of(encrypt(data))
    pieces = decrypt_stream(KEY, io.BytesIO(header + b"".join(chunks[:2])))
    # Chunks handed out before the failure are genuine; only the end can reveal truncation.
    assert next(pieces) == data[:CHUNK_SIZE]
    with pytest.raises(StreamAuthenticationError):
        next(pieces)


# --- reordering, duplication, splicing --------------------------------------------------

def test_reordered_chunks_are_detected() -> None:
    header, chunks = chunks_of(encrypt(os.urandom(3 * CHUNK_SIZE + 10)))
    chunks[0], chunks[1] = chunks[1], chunks[0]
    assert_rejected(header + b"".join(chunks))


def test_reordered_chunks_in_a_later_batch_are_detected() -> None:
    header, chunks = chunks_of(encrypt(os.urandom(40 * CHUNK_SIZE)))
    chunks[20], chunks[21] = chunks[21], chunks[20]
    assert_rejected(header + b"".join(chunks))


def test_duplicated_chunk_is_detected() -> None:
    header, chunks = chunks_of(encrypt(os.urandom(3 * CHUNK_SIZE)))
    assert_rejected(header + b"".join([chunks[0], chunks[0], chunks[1], chunks[2]]))
    assert_rejected(header + b"".join([chunks[0], chunks[0], chunks[2]]))


def test_final_chunk_moved_forward_is_detected() -> None:
    header, chunks = chunks_of(encrypt(os.urandom(3 * CHUNK_SIZE)))
    assert_rejected(header + chunks[2])


@pytest.mark.parametrize("other_key", [KEY, OTHER_KEY], ids=["same-key", "different-key"])
def test_chunk_spliced_from_another_file_is_detected(other_key: bytes) -> None:
    header, chunks = chunks_of(encrypt(os.urandom(3 * CHUNK_SIZE)))
    _, foreign = chunks_of(encrypt(os.urandom(3 * CHUNK_SIZE), other_key))
    chunks[1] = foreign[1]
    assert_rejected(header + b"".join(chunks))


def test_header_swapped_from_another_file_with_same_key_is_detected() -> None:
    _, chunks = chunks_of(encrypt(os.urandom(2 * CHUNK_SIZE)))
    foreign_header, _ = chunks_of(encrypt(os.urandom(2 * CHUNK_SIZE)))
    assert_rejected(foreign_header + b"".join(chunks))


# --- bit flips, trailing data, wrong key ------------------------------------------------

@pytest.mark.parametrize("index", range(HEADER_SIZE))
def test_flipped_header_byte_is_detected(index: int) -> None:
    blob = bytearray(encrypt(os.urandom(CHUNK_SIZE + 1)))
    blob[index] ^= 0x01
    assert_rejected(bytes(blob))


@pytest.mark.parametrize(
    "offset",
    [HEADER_SIZE, HEADER_SIZE + 1000, HEADER_SIZE + CHUNK_SIZE - 1,  # body of chunk 0
     HEADER_SIZE + CHUNK_SIZE, HEADER_SIZE + BLOCK - 1,  # tag of chunk 0
     HEADER_SIZE + BLOCK + 3,  # body of the final chunk
     -1, -TAG_SIZE],  # tag of the final chunk
)
def test_flipped_body_or_tag_byte_is_detected(offset: int) -> None:
    blob = bytearray(encrypt(os.urandom(CHUNK_SIZE + 50)))
    blob[offset] ^= 0x80
    assert_rejected(bytes(blob))


@pytest.mark.parametrize("size", [0, 10, CHUNK_SIZE, 2 * CHUNK_SIZE, 16 * CHUNK_SIZE, 16 * CHUNK_SIZE + 5])
@pytest.mark.parametrize("garbage", [b"\x00", b"x" * 15, b"y" * 16, b"z" * 17, bytes(range(256)) * 257],
                         ids=["1", "15", "16", "17", "block+"])
def test_trailing_data_is_detected(size: int, garbage: bytes) -> None:
    assert_rejected(encrypt(os.urandom(size)) + garbage)


def test_appending_a_copy_of_the_final_chunk_is_detected() -> None:
    blob = encrypt(os.urandom(CHUNK_SIZE))
    assert_rejected(blob + blob[HEADER_SIZE:])


@pytest.mark.parametrize("size", [0, 1, 3 * CHUNK_SIZE])
def test_wrong_key_is_detected(size: int) -> None:
    assert_rejected(encrypt(os.urandom(size)), OTHER_KEY)


def test_oversized_chunk_size_in_header_is_refused_before_allocating() -> None:
    blob = bytearray(encrypt(b"data"))
    blob[7:11] = (2**32 - 1).to_bytes(4, "big")
    with pytest.raises(StreamAuthenticationError, match="chunk size"):
        verify_stream(KEY, io.BytesIO(bytes(blob)))


def test_not_a_stream_at_all() -> None:
    with pytest.raises(StreamAuthenticationError, match="magic"):
        verify_stream(KEY, io.BytesIO(b"%PDF-1.7 " + bytes(100)))


def test_errors_share_the_crypto_base_class() -> None:
    assert issubclass(StreamAuthenticationError, CryptoError)


@pytest.mark.parametrize("bad", [b"", bytes(16), bytes(31), bytes(33)])
def test_data_key_must_be_256_bits(bad: bytes) -> None:
    with pytest.raises(ValueError):
        encrypt_stream(bad, io.BytesIO(b"x"), io.BytesIO())
    with pytest.raises(ValueError):
        verify_stream(bad, io.BytesIO(encrypt(b"x")))


# --- constant memory --------------------------------------------------------------------

class Generated(io.RawIOBase):
    """Deterministic data produced on demand, so the source itself holds no big buffer."""

    def __init__(self, size: int) -> None:
        self._left = size
        self._block = bytes(range(256)) * 256
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), len(self._block), self._left)
        buffer[:n] = self._block[:n]
        self.digest.update(self._block[:n])
        self._left -= n
        return n


class Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.digest.update(b)
        return len(b)


def test_memory_stays_flat_for_large_streams() -> None:
    size = 48 * 1024 * 1024
    source, sink = Generated(size), Sink()
    tracemalloc.start()
    try:
        result = encrypt_stream(KEY, source, sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.plaintext_size == size
    assert result.plaintext_sha256 == source.digest.hexdigest()
    assert result.ciphertext_sha256 == sink.digest.hexdigest()
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while encrypting {size} bytes"


def test_memory_stays_flat_when_decrypting_from_a_file(tmp_path: os.PathLike[str]) -> None:
    size = 32 * 1024 * 1024
    path = os.path.join(tmp_path, "blob")
    with open(path, "wb") as out:
        encrypt_stream(KEY, Generated(size), out)
    tracemalloc.start()
    try:
        with open(path, "rb") as src:
            total = sum(len(piece) for piece in decrypt_stream(KEY, src))
        with open(path, "rb") as src:
            verified = verify_stream(KEY, src)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == verified.plaintext_size == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while decrypting {size} bytes"
