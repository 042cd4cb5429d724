"""Sealed settings: a value opens only under its master key, owner and setting name."""
from __future__ import annotations

import os

import pytest

from portal.crypto.errors import KeyUnwrapError
from portal.crypto.sealed import open_setting, seal_setting


def test_a_sealed_setting_opens_only_where_it_was_sealed() -> None:
    master, other_master = os.urandom(32), os.urandom(32)
    sealed = seal_setting(master, b"client-secret", owner="DK", setting="oidc-client-secret")
    assert b"client-secret" not in sealed
    assert open_setting(master, sealed, owner="DK", setting="oidc-client-secret") == b"client-secret"
    assert seal_setting(master, b"client-secret", owner="DK", setting="oidc-client-secret") != sealed  # fresh nonce
    for key, owner, setting in ((other_master, "DK", "oidc-client-secret"), (master, "NO", "oidc-client-secret"),
                                (master, "DK", "another-setting")):
        with pytest.raises(KeyUnwrapError):
            open_setting(key, sealed, owner=owner, setting=setting)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(KeyUnwrapError):
        open_setting(master, tampered, owner="DK", setting="oidc-client-secret")
    with pytest.raises(ValueError):
        seal_setting(master, b"", owner="DK", setting="oidc-client-secret")
