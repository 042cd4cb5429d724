"""Password hashing (argon2id) and the password policy (length and common passwords only)."""
from __future__ import annotations

from functools import lru_cache, cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MAX_LENGTH = 256  # long enough for any passphrase, short enough that hashing is no DoS lever


class PasswordPolicyError(ValueError):
    """The chosen password is not acceptable; the message says why, for the user."""


@cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


class Passwords:
    """Hash, verify and judge passwords with the configured argon2id cost."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int, min_length: int) -> None:
        self.hasher = _hasher(time_cost, memory_cost, parallelism)
        self.min_length = min_length
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches; with no stored hash, spend the same time and fail."""
        if stored_hash is None:
            # Equalise timing so a missing account cannot be told from a wrong password.
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash("dummy password for timing")
            stored_hash = self._dummy_hash
            password = password + "\x00never"
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)

    def check_policy(self, password: str, *, context: list[str]) -> None:
        """Raise PasswordPolicyError unless `password` is long enough and not easily guessed.

        No composition rules (NIST SP 800-63B): length, a list of common passwords, and an
        estimate of guessability that also knows the user's own name and e-mail address.
        """
        if len(password) < self.min_length:
            raise PasswordPolicyError(f"Use at least {self.min_length} characters.")
        if len(password) > MAX_LENGTH:
            raise PasswordPolicyError(f"Use at most {MAX_LENGTH} characters.")
        if password.lower() in _common_passwords():
            raise PasswordPolicyError("This password is on a list of commonly used passwords. Choose another.")
        # zxcvbn's cost grows with length; the first 100 characters decide guessability.
        estimate = zxcvbn(password[:100], user_inputs=[c for c in context if c])
        if estimate["score"] < 3:
            hint = estimate["feedback"].get("warning") or "It would be easy to guess."
            raise PasswordPolicyError(f"Choose a password that is harder to guess. {hint}".strip())
