"""Key hierarchy: state key pairs, wrapping private keys under the master key, fingerprints.

Each state (and the secretariat) owns an X25519 pair (HPKE recipient of data keys) and an
Ed25519 pair (signs manifests). Private keys are stored only wrapped: AES-256-GCM under a key
derived from the master key, with associated data naming owner, purpose and key version, so
a wrapped key copied onto another state's row or another purpose does not open.

Wrapped private key layout: ``0x01 | nonce (12) | ciphertext (32) | tag (16)`` = 61 bytes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.crypto.errors import KeyUnwrapError

__all__ = [
    "KEY_SIZE",
    "PURPOSE_HPKE",
    "PURPOSE_SIGNING",
    "KeyPair",
    "context_bytes",
    "ed25519_public_from_private",
    "ed25519_public_pem",
    "fingerprint",
    "generate_data_key",
    "generate_ed25519_keypair",
    "generate_x25519_keypair",
    "unwrap_private_key",
    "wrap_private_key",
    "x25519_public_from_private",
]

KEY_SIZE = 32
PURPOSE_HPKE = "hpke-x25519"
PURPOSE_SIGNING = "sign-ed25519"

_WRAP_FORMAT = 1
_NONCE_SIZE = 12
_WRAPPED_SIZE = 1 + _NONCE_SIZE + KEY_SIZE + 16


@dataclass(frozen=True, repr=False)
class KeyPair:
    """Raw 32-byte private and public halves of an X25519 or Ed25519 key pair."""

    private: bytes
    public: bytes

    def __repr__(self) -> str:
        # Keeps private keys out of logs, tracebacks and debugger dumps.
        return f"KeyPair(public={fingerprint(self.public)}, private=<redacted>)"


def context_bytes(label: str, *parts: str | int) -> bytes:
    """Encode a domain label and fields unambiguously for associated data / HPKE info."""
    # Length-prefixing each field means no owner name or id, whatever characters it holds,
    # can make two different (owner, purpose, ...) tuples produce the same bytes.
    out = [label.encode("utf-8")]
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, (str, int)):
            raise TypeError(f"context fields must be str or int, not {type(part).__name__}")
        encoded = str(part).encode("utf-8")
        out.append(b"%d:%s" % (len(encoded), encoded))
    return b"|".join(out)


def generate_data_key() -> bytes:
    """Return a fresh random 256-bit attachment data key."""
    return os.urandom(KEY_SIZE)


def generate_x25519_keypair() -> KeyPair:
    """Generate an X25519 key pair for receiving HPKE-wrapped data keys."""
    private = x25519.X25519PrivateKey.generate()
    return KeyPair(private=private.private_bytes_raw(), public=private.public_key().public_bytes_raw())


def generate_ed25519_keypair() -> KeyPair:
    """Generate an Ed25519 key pair for signing manifests."""
    private = ed25519.Ed25519PrivateKey.generate()
    return KeyPair(private=private.private_bytes_raw(), public=private.public_key().public_bytes_raw())


def x25519_public_from_private(private_raw: bytes) -> bytes:
    """Derive the raw X25519 public key from a raw private key."""
    return x25519.X25519PrivateKey.from_private_bytes(private_raw).public_key().public_bytes_raw()


def ed25519_public_from_private(private_raw: bytes) -> bytes:
    """Derive the raw Ed25519 public key from a raw private key."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(private_raw).public_key().public_bytes_raw()


def _key_encryption_key(master_key: bytes) -> AESGCM:
    if len(master_key) != KEY_SIZE:
        raise ValueError(f"master key must be {KEY_SIZE} bytes")
    # A derived key, not the master key itself, so the master key can later serve other
    # purposes (session secrets, search tokens) without two uses sharing one AES key.
    kek = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None,
               info=b"echri-portal private-key wrapping v1").derive(master_key)
    return AESGCM(kek)


def _wrap_ad(owner: str, purpose: str, version: int) -> bytes:
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError("key version must be a non-negative int")
    return context_bytes("echri-key", _WRAP_FORMAT, owner, purpose, version)


def wrap_private_key(master_key: bytes, private_raw: bytes, *, owner: str, purpose: str, version: int) -> bytes:
    """Encrypt a raw private key under the master key, bound to owner, purpose and version."""
    if len(private_raw) != KEY_SIZE:
        raise ValueError(f"private key must be {KEY_SIZE} raw bytes")
    nonce = os.urandom(_NONCE_SIZE)
    sealed = _key_encryption_key(master_key).encrypt(nonce, private_raw, _wrap_ad(owner, purpose, version))
    return bytes([_WRAP_FORMAT]) + nonce + sealed


def unwrap_private_key(master_key: bytes, wrapped: bytes, *, owner: str, purpose: str, version: int) -> bytes:
    """Decrypt a wrapped private key; raise KeyUnwrapError unless every binding matches."""
    if len(wrapped) != _WRAPPED_SIZE or wrapped[0] != _WRAP_FORMAT:
        raise KeyUnwrapError("wrapped private key has an unknown format or length")
    nonce, sealed = wrapped[1:1 + _NONCE_SIZE], wrapped[1 + _NONCE_SIZE:]
    try:
        return _key_encryption_key(master_key).decrypt(nonce, sealed, _wrap_ad(owner, purpose, version))
    except InvalidTag:
        raise KeyUnwrapError(
            f"wrapped private key did not authenticate for owner={owner!r} purpose={purpose!r} "
            f"version={version} (wrong master key or key copied from elsewhere)"
        ) from None


def fingerprint(public_key_bytes: bytes) -> str:
    """Return the SHA-256 of a raw public key as colon-separated groups of 4 hex digits."""
    digest = hashlib.sha256(public_key_bytes).hexdigest()
    return ":".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def ed25519_public_pem(public_raw: bytes) -> bytes:
    """Export a raw Ed25519 public key as SubjectPublicKeyInfo PEM (verifiable by OpenSSL)."""
    return ed25519.Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
