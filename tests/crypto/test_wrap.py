"""HPKE wrapping of data keys: round trip, and refusal for the wrong recipient or context."""

from __future__ import annotations

import pytest

from portal.crypto.keys import generate_data_key, generate_ed25519_keypair, generate_x25519_keypair
from portal.crypto.wrap import WRAPPED_SIZE, WrapError, attachment_info, unwrap_data_key, wrap_data_key


def test_round_trip() -> None:
    recipient = generate_x25519_keypair()
    data_key = generate_data_key()
    info = attachment_info("att-1", "state:FR")
    wrapped = wrap_data_key(recipient.public, data_key, info)
    assert len(wrapped) == WRAPPED_SIZE
    assert data_key not in wrapped
    assert unwrap_data_key(recipient.private, wrapped, info) == data_key


def test_wraps_are_randomised() -> None:
    recipient = generate_x25519_keypair()
    data_key = generate_data_key()
    info = attachment_info(1, "state:FR")
    assert wrap_data_key(recipient.public, data_key, info) != wrap_data_key(recipient.public, data_key, info)


def test_wrong_recipient_cannot_unwrap() -> None:
    france, germany = generate_x25519_keypair(), generate_x25519_keypair()
    info = attachment_info("att-1", "state:FR")
    wrapped = wrap_data_key(france.public, generate_data_key(), info)
    with pytest.raises(WrapError):
        unwrap_data_key(germany.private, wrapped, info)


def test_wrap_copied_from_another_attachment_fails() -> None:
    recipient = generate_x25519_keypair()
    wrapped_for_a = wrap_data_key(recipient.public, generate_data_key(), attachment_info("att-A", "state:FR"))
    with pytest.raises(WrapError):
        unwrap_data_key(recipient.private, wrapped_for_a, attachment_info("att-B", "state:FR"))


def test_wrap_copied_to_another_recipient_row_fails() -> None:
    # Even where two rows share a key pair (e.g. a key reused by mistake), the info differs.
    shared = generate_x25519_keypair()
    wrapped = wrap_data_key(shared.public, generate_data_key(), attachment_info("att-1", "state:FR"))
    with pytest.raises(WrapError):
        unwrap_data_key(shared.private, wrapped, attachment_info("att-1", "state:DE"))


def test_info_fields_cannot_be_shifted_between_id_and_recipient() -> None:
    assert attachment_info("1|2", "3") != attachment_info("1", "2|3")
    assert attachment_info(12, "3") != attachment_info(1, "23")


def test_tampered_wrap_fails() -> None:
    recipient = generate_x25519_keypair()
    info = attachment_info("att-1", "state:FR")
    wrapped = bytearray(wrap_data_key(recipient.public, generate_data_key(), info))
    for index in (1, 40, len(wrapped) - 1):
        tampered = bytearray(wrapped)
        tampered[index] ^= 1
        with pytest.raises(WrapError):
            unwrap_data_key(recipient.private, bytes(tampered), info)
    with pytest.raises(WrapError):
        unwrap_data_key(recipient.private, bytes(wrapped[:-1]), info)
    with pytest.raises(WrapError):
        unwrap_data_key(recipient.private, b"\x02" + bytes(wrapped[1:]), info)


def test_bad_inputs_raise_wrap_error() -> None:
    recipient = generate_x25519_keypair()
    info = attachment_info("att-1", "state:FR")
    with pytest.raises(WrapError):
        wrap_data_key(recipient.public, b"short", info)
    with pytest.raises(WrapError):
        wrap_data_key(b"\x01" * 31, generate_data_key(), info)
    with pytest.raises(WrapError):
        wrap_data_key(bytes(32), generate_data_key(), info)  # low-order point
    with pytest.raises(WrapError):
        wrap_data_key(recipient.public, generate_data_key(), b"")
    wrapped = wrap_data_key(recipient.public, generate_data_key(), info)
    with pytest.raises(WrapError):
        unwrap_data_key(b"\x00" * 5, wrapped, info)


def test_signing_key_is_not_an_hpke_recipient() -> None:
    recipient = generate_x25519_keypair()
    signer = generate_ed25519_keypair()
    info = attachment_info("att-1", "state:FR")
    wrapped = wrap_data_key(recipient.public, generate_data_key(), info)
    with pytest.raises(WrapError):
        unwrap_data_key(signer.private, wrapped, info)
