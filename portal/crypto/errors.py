"""Exception hierarchy for portal.crypto; callers can catch ``CryptoError`` for all of them."""

from __future__ import annotations


class CryptoError(Exception):
    """Base class for every error raised by portal.crypto."""


class MasterKeyMissing(CryptoError, RuntimeError):
    """No master key is configured (fatal at start-up in production)."""


class MasterKeyInvalid(CryptoError, ValueError):
    """A master key is configured but malformed (bad base64, wrong length, unreadable)."""


class KeyUnwrapError(CryptoError):
    """A wrapped private key failed authentication: wrong master key, owner, purpose or version."""


class StreamAuthenticationError(CryptoError):
    """Encrypted content failed authentication: tampered, truncated, reordered, spliced or wrong key."""


class WrapError(CryptoError):
    """An HPKE data-key wrap could not be created or opened."""


class SignatureError(CryptoError):
    """A manifest signature did not verify."""


class ManifestError(CryptoError, ValueError):
    """Manifest fields cannot be encoded canonically (floats, non-string keys, odd types)."""
