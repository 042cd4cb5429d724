"""Key pairs, wrapping private keys under the master key, fingerprints and PEM export."""

from __future__ import annotations

import os
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from portal.crypto.errors import CryptoError, KeyUnwrapError
from portal.crypto.keys import (
    PURPOSE_HPKE,
    PURPOSE_SIGNING,
    context_bytes,
    ed25519_public_from_private,
    ed25519_public_pem,
    fingerprint,
    generate_data_key,
    generate_ed25519_keypair,
    generate_x25519_keypair,
    unwrap_private_key,
    wrap_private_key,
    x25519_public_from_private,
)

MASTER = os.urandom(32)


def test_generated_pairs_are_raw_and_consistent() -> None:
    hpke, signing = generate_x25519_keypair(), generate_ed25519_keypair()
    assert len(hpke.private) == len(hpke.public) == 32
    assert len(signing.private) == len(signing.public) == 32
    assert x25519_public_from_private(hpke.private) == hpke.public
    assert ed25519_public_from_private(signing.private) == signing.public
    assert generate_x25519_keypair().private != hpke.private
    assert len(generate_data_key()) == 32


def test_repr_hides_the_private_key() -> None:
    pair = generate_ed25519_keypair()
    assert pair.private.hex() not in repr(pair)
    assert repr(pair.private) not in repr(pair)
    assert "redacted" in repr(pair)


def test_wrap_round_trip() -> None:
    pair = generate_x25519_keypair()
    wrapped = wrap_private_key(MASTER, pair.private, owner="state:FR", purpose=PURPOSE_HPKE, version=1)
    assert pair.private not in wrapped
    assert unwrap_private_key(MASTER, wrapped, owner="state:FR", purpose=PURPOSE_HPKE, version=1) == pair.private


def test_wrapping_is_randomised() -> None:
    private = generate_x25519_keypair().private
    first = wrap_private_key(MASTER, private, owner="state:FR", purpose=PURPOSE_HPKE, version=1)
    second = wrap_private_key(MASTER, private, owner="state:FR", purpose=PURPOSE_HPKE, version=1)
    assert first != second


@pytest.mark.parametrize(
    "binding",
    [
        {"owner": "state:DE", "purpose": PURPOSE_HPKE, "version": 1},  # swapped to another state
        {"owner": "state:FR", "purpose": PURPOSE_SIGNING, "version": 1},  # used for another purpose
        {"owner": "state:FR", "purpose": PURPOSE_HPKE, "version": 2},  # replayed as another version
    ],
)
def test_wrapped_key_is_bound_to_owner_purpose_and_version(binding: dict[str, object]) -> None:
    wrapped = wrap_private_key(MASTER, generate_x25519_keypair().private,
                               owner="state:FR", purpose=PURPOSE_HPKE, version=1)
    with pytest.raises(KeyUnwrapError):
        unwrap_private_key(MASTER, wrapped, **binding)  # type: ignore[arg-type]


def test_wrong_master_key_fails() -> None:
    wrapped = wrap_private_key(MASTER, generate_x25519_keypair().private, owner="o", purpose="p", version=0)
    with pytest.raises(KeyUnwrapError):
        unwrap_private_key(os.urandom(32), wrapped, owner="o", purpose="p", version=0)


def test_tampered_or_malformed_wrap_fails() -> None:
    wrapped = wrap_private_key(MASTER, generate_x25519_keypair().private, owner="o", purpose="p", version=0)
    for index in range(0, len(wrapped), 7):
        tampered = bytearray(wrapped)
        tampered[index] ^= 1
        with pytest.raises(KeyUnwrapError):
            unwrap_private_key(MASTER, bytes(tampered), owner="o", purpose="p", version=0)
    with pytest.raises(KeyUnwrapError):
        unwrap_private_key(MASTER, wrapped[:-1], owner="o", purpose="p", version=0)
    assert issubclass(KeyUnwrapError, CryptoError)


def test_binding_cannot_be_shifted_between_fields() -> None:
    # With naive "owner|purpose" joining these two would share associated data.
    wrapped = wrap_private_key(MASTER, generate_x25519_keypair().private, owner="a|b", purpose="c", version=1)
    with pytest.raises(KeyUnwrapError):
        unwrap_private_key(MASTER, wrapped, owner="a", purpose="b|c", version=1)
    assert context_bytes("x", "a|b", "c") != context_bytes("x", "a", "b|c")


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        wrap_private_key(MASTER, b"short", owner="o", purpose="p", version=1)
    with pytest.raises(ValueError):
        wrap_private_key(b"short", bytes(32), owner="o", purpose="p", version=1)
    with pytest.raises(ValueError):
        wrap_private_key(MASTER, bytes(32), owner="o", purpose="p", version=-1)
    with pytest.raises(TypeError):
        context_bytes("x", 1.5)  # type: ignore[arg-type]


def test_fingerprint_is_grouped_sha256() -> None:
    fp = fingerprint(bytes(32))
    assert re.fullmatch(r"([0-9a-f]{4}:){15}[0-9a-f]{4}", fp)
    assert fp.replace(":", "") == "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    assert fingerprint(b"\x01" * 32) != fp


def test_ed25519_public_pem_is_standard_spki() -> None:
    pair = generate_ed25519_keypair()
    pem = ed25519_public_pem(pair.public)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    loaded = serialization.load_pem_public_key(pem)
    assert isinstance(loaded, ed25519.Ed25519PublicKey)
    assert loaded.public_bytes_raw() == pair.public
