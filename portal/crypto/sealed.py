"""Sealed settings: short secrets (an identity provider's client secret) kept under the master key.

AES-256-GCM (the `cryptography` package) under a key derived from the master key with HKDF and
its own label, so it never shares an AES key with private-key wrapping. The associated data
names the owner and the setting, so a sealed value copied onto another row does not open.

Layout: ``0x01 | nonce (12) | ciphertext | tag (16)``.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.crypto.errors import KeyUnwrapError
from portal.crypto.keys import KEY_SIZE, context_bytes

__all__ = ["MAX_SETTING_SIZE", "open_setting", "seal_setting"]

MAX_SETTING_SIZE = 4096
_FORMAT = 1
_NONCE_SIZE = 12


def _aead(master_key: bytes) -> AESGCM:
    if len(master_key) != KEY_SIZE:
        raise ValueError(f"master key must be {KEY_SIZE} bytes")
    key = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None,
               info=b"echri-portal sealed settings v1").derive(master_key)
    return AESGCM(key)


def _ad(owner: str, setting: str) -> bytes:
    return context_bytes("echri-setting", _FORMAT, owner, setting)


def seal_setting(master_key: bytes, value: bytes, *, owner: str, setting: str) -> bytes:
    """Encrypt a setting's value under the master key, bound to its owner and name."""
    if not 0 < len(value) <= MAX_SETTING_SIZE:
        raise ValueError(f"a sealed setting holds 1 to {MAX_SETTING_SIZE} bytes")
    nonce = os.urandom(_NONCE_SIZE)
    return bytes([_FORMAT]) + nonce + _aead(master_key).encrypt(nonce, value, _ad(owner, setting))


def open_setting(master_key: bytes, sealed: bytes, *, owner: str, setting: str) -> bytes:
    """Decrypt a sealed setting; raise KeyUnwrapError unless the key and bindings match."""
    if len(sealed) < 1 + _NONCE_SIZE + 16 or sealed[0] != _FORMAT:
        raise KeyUnwrapError("sealed setting has an unknown format or length")
    try:
        return _aead(master_key).decrypt(sealed[1:1 + _NONCE_SIZE], sealed[1 + _NONCE_SIZE:], _ad(owner, setting))
    except InvalidTag:
        raise KeyUnwrapError(f"sealed setting {setting!r} of {owner!r} did not authenticate "
                             "(wrong master key or value copied from elsewhere)") from None
