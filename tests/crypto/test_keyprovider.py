"""Master-key providers: key file creation and reuse, environment keys, configuration rules."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from portal.crypto.errors import CryptoError
from portal.crypto.keyprovider import (
    EnvKeyProvider,
    FileKeyProvider,
    MasterKeyInvalid,
    MasterKeyMissing,
    provider_from_config,
)


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "master.key"  # the instance folder may not exist yet
    first = FileKeyProvider(path).master_key()
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert base64.b64decode(path.read_text().strip()) == first
    assert FileKeyProvider(path).master_key() == first  # a second process reads the same key
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temp file left behind


def test_key_id_is_stable_and_not_the_key(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path / "master.key")
    key = provider.master_key()
    assert provider.key_id() == FileKeyProvider(tmp_path / "master.key").key_id()
    assert provider.key_id() == EnvKeyProvider(base64.b64encode(key).decode()).key_id()
    assert key.hex() not in provider.key_id()
    assert provider.key_id() != EnvKeyProvider(base64.b64encode(os.urandom(32)).decode()).key_id()


@pytest.mark.parametrize(
    "content",
    [b"", b"not base64 at all!!\n", base64.b64encode(bytes(16)) + b"\n",
     base64.b64encode(bytes(33)) + b"\n", bytes(range(200, 232))],
    ids=["empty", "not-base64", "16-bytes", "33-bytes", "raw-binary"],
)
def test_malformed_key_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "master.key"
    path.write_bytes(content)
    with pytest.raises(MasterKeyInvalid, match="master key"):
        FileKeyProvider(path).master_key()
    assert path.read_bytes() == content  # never overwritten


def test_key_file_that_is_a_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "master.key").mkdir()
    with pytest.raises(MasterKeyInvalid):
        FileKeyProvider(tmp_path / "master.key").master_key()


def test_file_provider_without_create_does_not_invent_a_key(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyMissing, match="does not exist"):
        FileKeyProvider(tmp_path / "absent.key", create=False).master_key()
    assert not (tmp_path / "absent.key").exists()


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_env_key_accepts_standard_and_urlsafe_base64(encode: object) -> None:
    key = bytes([0xFB, 0xFF, 0xFE]) * 10 + b"\xfa\xfb"  # exercises the +/ versus -_ alphabets
    text = encode(key).decode()  # type: ignore[operator]
    assert EnvKeyProvider(text).master_key() == key
    assert EnvKeyProvider(text.rstrip("=")).master_key() == key


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_env_key_of_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(MasterKeyInvalid, match="expected 32"):
        EnvKeyProvider(base64.b64encode(os.urandom(length)).decode() or "AA")


def test_env_key_with_invalid_characters_is_refused_without_echoing_it() -> None:
    secret = base64.b64encode(os.urandom(32)).decode()
    bad = secret[:10] + "*" + secret[11:]
    with pytest.raises(MasterKeyInvalid) as caught:
        EnvKeyProvider(bad)
    assert bad not in str(caught.value)
    assert "secret" not in repr(EnvKeyProvider(secret)) and secret not in repr(EnvKeyProvider(secret))


def test_production_without_configuration_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyMissing) as caught:
        provider_from_config({}, tmp_path, production=True)
    assert "PORTAL_MASTER_KEY" in str(caught.value) and "PORTAL_MASTER_KEY_FILE" in str(caught.value)
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, CryptoError)
    assert not (tmp_path / "master.key").exists()


def test_development_defaults_to_a_key_file_in_the_instance_folder(tmp_path: Path) -> None:
    provider = provider_from_config({"PORTAL_MASTER_KEY": ""}, tmp_path, production=False)
    assert isinstance(provider, FileKeyProvider)
    key = provider.master_key()
    assert (tmp_path / "master.key").exists()
    assert provider_from_config({}, str(tmp_path), production=False).master_key() == key


@pytest.mark.parametrize("production", [True, False])
def test_env_value_is_used(tmp_path: Path, production: bool) -> None:
    key = os.urandom(32)
    provider = provider_from_config({"PORTAL_MASTER_KEY": base64.b64encode(key).decode()}, tmp_path, production)
    assert provider.master_key() == key
    assert not (tmp_path / "master.key").exists()


def test_env_value_is_checked_at_configuration_time(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyInvalid):
        provider_from_config({"PORTAL_MASTER_KEY": "c2hvcnQ="}, tmp_path, production=True)


def test_key_file_variable_is_used(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "portal.key"
    path.parent.mkdir()
    key = os.urandom(32)
    path.write_text(base64.b64encode(key).decode() + "\n")
    provider = provider_from_config({"PORTAL_MASTER_KEY_FILE": str(path)}, tmp_path, production=True)
    assert provider.master_key() == key


def test_missing_key_file_in_production_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "not-mounted" / "portal.key"
    provider = provider_from_config({"PORTAL_MASTER_KEY_FILE": str(path)}, tmp_path, production=True)
    with pytest.raises(MasterKeyMissing):
        provider.master_key()
    assert not path.exists()


def test_both_variables_set_is_ambiguous(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyInvalid, match="exactly one"):
        provider_from_config(
            {"PORTAL_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
             "PORTAL_MASTER_KEY_FILE": str(tmp_path / "k")},
            tmp_path, production=False,
        )


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "master.key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: FileKeyProvider(path).master_key(), range(32)))
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]
