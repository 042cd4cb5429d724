"""Per-recipient wrapping of attachment data keys with HPKE (RFC 9180).

Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, base mode (single shot).
The HPKE ``info`` string goes into the key schedule, so a wrap only opens with the exact
info it was made with; ``attachment_info`` builds one naming the attachment and recipient,
so a wrap copied onto another attachment or another state's row fails.

Wrapped layout: ``0x01 | HPKE enc (32) | sealed data key (32) | tag (16)`` = 81 bytes; the
leading format byte lets a future suite (e.g. a post-quantum hybrid KEM) coexist.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from portal.crypto.errors import WrapError
from portal.crypto.keys import KEY_SIZE, context_bytes

__all__ = ["WRAPPED_SIZE", "WRAP_FORMAT", "WrapError", "attachment_info", "unwrap_data_key", "wrap_data_key"]

WRAP_FORMAT = 1
_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
WRAPPED_SIZE = 1 + KEM.X25519.enc_length() + KEY_SIZE + 16


def attachment_info(attachment_id: str | int, recipient: str) -> bytes:
    """Build the HPKE info binding a wrap to one attachment and one recipient owner."""
    return context_bytes("echri-attachment", WRAP_FORMAT, attachment_id, recipient)


def wrap_data_key(recipient_public_x25519_bytes: bytes, data_key: bytes, info: bytes) -> bytes:
    """Seal a 32-byte data key to a recipient's X25519 public key under the given info."""
    if len(data_key) != KEY_SIZE:
        raise WrapError(f"data key must be {KEY_SIZE} bytes")
    if not info:
        # An empty info would make wraps interchangeable between attachments and recipients.
        raise WrapError("HPKE info must bind the attachment and recipient; got empty info")
    try:
        public_key = x25519.X25519PublicKey.from_public_bytes(recipient_public_x25519_bytes)
    except ValueError:
        raise WrapError("recipient public key is not a 32-byte X25519 key") from None
    try:
        sealed = _SUITE.encrypt(data_key, public_key, info=info)
    except ValueError as exc:
        # e.g. a low-order public point, for which X25519 yields the all-zero shared secret.
        raise WrapError(f"cannot wrap to this recipient key: {exc}") from None
    return bytes([WRAP_FORMAT]) + sealed


def unwrap_data_key(recipient_private_bytes: bytes, wrapped: bytes, info: bytes) -> bytes:
    """Open a wrapped data key with the recipient's raw X25519 private key; raise WrapError on failure."""
    if len(wrapped) != WRAPPED_SIZE or wrapped[0] != WRAP_FORMAT:
        raise WrapError("wrapped data key has an unknown format or length")
    try:
        private_key = x25519.X25519PrivateKey.from_private_bytes(recipient_private_bytes)
    except ValueError:
        raise WrapError("recipient private key is not a 32-byte X25519 key") from None
    try:
        data_key = _SUITE.decrypt(wrapped[1:], private_key, info=info)
    except (InvalidTag, ValueError):
        raise WrapError(
            "wrapped data key did not open: wrong recipient key, or a wrap from another attachment or recipient"
        ) from None
    if len(data_key) != KEY_SIZE:
        raise WrapError("wrapped data key has the wrong length")
    return data_key
