"""The key ring: the master key, every owner's key pairs (created on first need), rotation.

Owners are the states (by ISO code) and the secretariat (SECRETARIAT_OWNER). Each has an
X25519 pair that receives HPKE-wrapped attachment data keys and an Ed25519 pair that signs
manifests. Private halves are stored only wrapped by the master key (portal.crypto.keys).
Rotating re-wraps keys; no file content is ever re-encrypted.
"""
from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.files import fsync_dir
from portal import audit
from portal.crypto import keys as ck
from portal.crypto.errors import KeyUnwrapError
from portal.crypto.keyprovider import (
    DEFAULT_KEY_FILENAME, EnvKeyProvider, FileKeyProvider, KeyProvider, decode_master_key, provider_from_config,
)
from portal.crypto.wrap import attachment_info, unwrap_data_key, wrap_data_key
from portal.keys import sealed
from portal.models.attachment import AttachmentKeyWrap
from portal.models.base import utcnow
from portal.models.country import Country
from portal.models.keys import SECRETARIAT_OWNER, KeyPurpose, StateKey

_EXTENSION = "portal.keyprovider"
_CRYPTO_PURPOSE = {KeyPurpose.HPKE: ck.PURPOSE_HPKE, KeyPurpose.SIGNING: ck.PURPOSE_SIGNING}
ENV_NEW_MASTER_KEY = "PORTAL_NEW_MASTER_KEY"


class KeyStoreError(RuntimeError):
    """The key store cannot serve a key (unknown owner, or keys wrapped under another master key)."""


# --- the master key ---------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """In production, resolve the master key at start-up so a missing or bad key stops the app now."""
    if app.config.get("NAME") == "production":
        app.extensions[_EXTENSION] = _build_provider(app)
        app.extensions[_EXTENSION].master_key()


def _build_provider(app: Flask) -> KeyProvider:
    return provider_from_config(app.config, app.instance_path, production=app.config.get("NAME") == "production")


def provider() -> KeyProvider:
    """The app's master-key provider (built on first use: tests move the instance folder after create_app)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(_EXTENSION)
    if found is None:
        found = app.extensions[_EXTENSION] = _build_provider(app)
    return found  # type: ignore[no-any-return]


def reset_provider() -> None:
    """Forget the cached provider (after the master key was rotated)."""
    current_app.extensions.pop(_EXTENSION, None)


# --- owners and their keys --------------------------------------------------------------

def owner_label(session: Session, owner: str) -> str:
    """A human name for an owner."""
    if owner == SECRETARIAT_OWNER:
        return "ECHRI Secretariat"
    country = session.get(Country, owner)
    return country.name if country else owner


def _check_owner(session: Session, owner: str) -> None:
    if owner != SECRETARIAT_OWNER and session.get(Country, owner) is None:
        raise KeyStoreError(f"{owner!r} is neither a state in the register nor {SECRETARIAT_OWNER}")


def active_key(session: Session, owner: str, purpose: KeyPurpose, *, create: bool = True) -> StateKey | None:
    """The owner's active key for `purpose`, generated (in the caller's transaction) on first need."""
    key = session.scalar(select(StateKey).where(
        StateKey.owner == owner, StateKey.purpose == purpose, StateKey.retired_at.is_(None)))
    if key is not None or not create:
        return key
    _check_owner(session, owner)
    try:
        # A savepoint: losing a race with another request must not undo the caller's work.
        with session.begin_nested():
            key = _new_key(session, owner, purpose, master=provider())
    except IntegrityError:
        key = session.scalar(select(StateKey).where(
            StateKey.owner == owner, StateKey.purpose == purpose, StateKey.retired_at.is_(None)))
        if key is None:
            raise
    return key


def _new_key(session: Session, owner: str, purpose: KeyPurpose, *, master: KeyProvider) -> StateKey:
    latest = session.scalar(select(func.max(StateKey.version)).where(
        StateKey.owner == owner, StateKey.purpose == purpose)) or 0
    pair = ck.generate_x25519_keypair() if purpose is KeyPurpose.HPKE else ck.generate_ed25519_keypair()
    version = latest + 1
    key = StateKey(owner=owner, purpose=purpose, version=version, public_key=pair.public,
                   wrapped_private_key=ck.wrap_private_key(master.master_key(), pair.private, owner=owner,
                                                           purpose=_CRYPTO_PURPOSE[purpose], version=version),
                   master_key_id=master.key_id(), created_at=utcnow())
    session.add(key)
    session.flush()
    return key


def key_version(session: Session, owner: str, purpose: KeyPurpose, version: int) -> StateKey | None:
    """A specific (possibly retired) key version."""
    return session.scalar(select(StateKey).where(
        StateKey.owner == owner, StateKey.purpose == purpose, StateKey.version == version))


def private_key(key: StateKey, master: KeyProvider | None = None) -> bytes:
    """Unwrap a key's private half with the master key."""
    master = master or provider()
    try:
        return ck.unwrap_private_key(master.master_key(), key.wrapped_private_key, owner=key.owner,
                                     purpose=_CRYPTO_PURPOSE[key.purpose], version=key.version)
    except KeyUnwrapError:
        if key.master_key_id != master.key_id():
            # Name the likely cause: an interrupted rotation or the wrong key mounted.
            raise KeyUnwrapError(
                f"{key.owner}'s {key.purpose.value} key v{key.version} is wrapped under master key "
                f"{key.master_key_id}, but the configured master key is {master.key_id()} (if a rotation was "
                f"interrupted, the new key is in {DEFAULT_KEY_FILENAME}.new next to the key file)") from None
        raise


def list_keys(session: Session, owners: Iterable[str] | None = None) -> list[StateKey]:
    """Every key version (active and retired), by owner, purpose and version."""
    query = select(StateKey).order_by(StateKey.owner, StateKey.purpose, StateKey.version.desc())
    if owners is not None:
        query = query.where(StateKey.owner.in_(list(owners)))
    return list(session.scalars(query))


def describe(key: StateKey, label: str | None = None) -> dict[str, Any]:
    """The public description of a key, as /keys serves it."""
    out: dict[str, Any] = {
        "owner": key.owner, "purpose": key.purpose.value, "algorithm": key.purpose.algorithm,
        "version": key.version, "status": "active" if key.is_active else "retired",
        "fingerprint": ck.fingerprint(key.public_key),
        # The same digest as the README's OpenSSL check prints (`openssl dgst -sha256`): plain hex.
        "fingerprint_hex": ck.fingerprint(key.public_key).replace(":", ""),
        "public_key": base64.b64encode(key.public_key).decode("ascii"),
        "created_at": key.created_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
    }
    if label is not None:
        out["owner_name"] = label
    if key.purpose is KeyPurpose.SIGNING:
        out["public_key_pem"] = ck.ed25519_public_pem(key.public_key).decode("ascii")
    return out


def ensure_all(session: Session) -> int:
    """Create the missing key pairs of every registered state and the secretariat; returns how many."""
    owners = [SECRETARIAT_OWNER, *session.scalars(select(Country.code).order_by(Country.code))]
    created = 0
    for owner in owners:
        for purpose in KeyPurpose:
            if active_key(session, owner, purpose, create=False) is None:
                active_key(session, owner, purpose)
                created += 1
    session.commit()
    return created


# --- rotation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OwnerRotation:
    owner: str
    hpke_version: int
    signing_version: int
    rewrapped: int


def rotate_owner(session: Session, owner: str, *, actor_label: str = "cli") -> OwnerRotation:
    """New HPKE and signing key versions for `owner`; its data-key wraps move to the new HPKE key."""
    _check_owner(session, owner)
    master = provider()
    now = utcnow()
    old = {p: active_key(session, owner, p, create=False) for p in KeyPurpose}
    for key in old.values():
        if key is not None:
            key.retired_at = now
    session.flush()  # the retirements first: at most one active key per owner and purpose
    new = {p: _new_key(session, owner, p, master=master) for p in KeyPurpose}
    hpke = new[KeyPurpose.HPKE]
    private_cache: dict[int, bytes] = {}
    rewrapped = 0
    wraps = session.scalars(select(AttachmentKeyWrap).where(AttachmentKeyWrap.owner == owner))
    for wrap in wraps:
        if wrap.key_version not in private_cache:
            previous = key_version(session, owner, KeyPurpose.HPKE, wrap.key_version)
            if previous is None:
                raise KeyStoreError(f"{owner} HPKE key v{wrap.key_version} is missing")
            private_cache[wrap.key_version] = private_key(previous, master)
        info = attachment_info(str(wrap.attachment_id), owner)
        data_key = unwrap_data_key(private_cache[wrap.key_version], wrap.wrapped_key, info)
        wrap.wrapped_key = wrap_data_key(hpke.public_key, data_key, info)
        wrap.key_version = hpke.version
        rewrapped += 1
    audit.record(session, "keys.rotated", actor_label=actor_label, target_type="key_owner", target_id=owner,
                 details={"hpke_version": hpke.version, "signing_version": new[KeyPurpose.SIGNING].version,
                          "rewrapped_data_keys": rewrapped})
    session.commit()
    return OwnerRotation(owner, hpke.version, new[KeyPurpose.SIGNING].version, rewrapped)


def rewrap_private_keys(session: Session, old: KeyProvider, new: KeyProvider) -> int:
    """Re-wrap every private key (active and retired) from the old master key to the new one (no commit)."""
    count = 0
    new_key, new_id = new.master_key(), new.key_id()
    for key in session.scalars(select(StateKey).order_by(StateKey.id)):
        raw = private_key(key, old)
        key.wrapped_private_key = ck.wrap_private_key(new_key, raw, owner=key.owner,
                                                      purpose=_CRYPTO_PURPOSE[key.purpose], version=key.version)
        key.master_key_id = new_id
        count += 1
    session.flush()
    sealed.reseal_all(session, old, new)  # sealed settings move with the keys, in the same transaction
    return count


@dataclass(frozen=True)
class MasterRotation:
    old_id: str
    new_id: str
    rewrapped: int
    backup: Path | None  # the retired key file (file provider only)


def rotate_master(session: Session, *, actor_label: str = "cli", new_key_b64: str | None = None) -> MasterRotation:
    """Move every private key to a new master key.

    File provider: a fresh key is written next to the key file as master.key.new (0600), the old
    file is copied to master.key.<UTC timestamp>.retired (0600), the database is re-wrapped and
    committed, then master.key.new is renamed over master.key. Other providers (environment, KMS):
    the new key comes from PORTAL_NEW_MASTER_KEY and the operator swaps the setting afterwards.
    """
    old = provider()
    old.master_key()  # fail before touching anything if the current key is unusable
    if isinstance(old, FileKeyProvider):
        return _rotate_master_file(session, old, actor_label)
    value = new_key_b64 or os.environ.get(ENV_NEW_MASTER_KEY)
    if not value:
        raise KeyStoreError(f"the master key does not come from a file: set {ENV_NEW_MASTER_KEY} to the new key "
                            "(base64 of 32 bytes), run this again, then replace PORTAL_MASTER_KEY with it")
    new = EnvKeyProvider(value, source=ENV_NEW_MASTER_KEY)
    count = rewrap_private_keys(session, old, new)
    _audit_master(session, old, new, count, actor_label)
    session.commit()
    reset_provider()
    return MasterRotation(old.key_id(), new.key_id(), count, None)


def _audit_master(session: Session, old: KeyProvider, new: KeyProvider, count: int, actor_label: str) -> None:
    audit.record(session, "keys.master_rotated", actor_label=actor_label, target_type="master_key",
                 target_id=new.key_id(), details={"previous": old.key_id(), "rewrapped_private_keys": count})


def _write_private(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


def _rotate_master_file(session: Session, old: FileKeyProvider, actor_label: str) -> MasterRotation:
    path = old.path
    pending = path.with_name(path.name + ".new")
    if pending.exists():
        raise KeyStoreError(f"{pending} exists: a previous rotation did not finish. If the database was re-wrapped "
                            f"(check the audit log for keys.master_rotated), move it over {path}; otherwise delete it")
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{path.name}.{stamp}.retired")
    new_value = base64.b64encode(secrets.token_bytes(32)) + b"\n"
    new = EnvKeyProvider(new_value.decode("ascii"), source=str(pending))
    _write_private(backup, path.read_bytes())
    _write_private(pending, new_value)
    try:
        decode_master_key(pending.read_bytes(), source=str(pending))  # what we wrote reads back
        count = rewrap_private_keys(session, old, new)
        _audit_master(session, old, new, count, actor_label)
        session.commit()
    except BaseException:
        session.rollback()
        pending.unlink(missing_ok=True)
        backup.unlink(missing_ok=True)  # the old key stays in use: no second copy needed
        raise
    # From here the database needs the new key: put it in place atomically.
    os.replace(pending, path)
    fsync_dir(path.parent)
    reset_provider()
    return MasterRotation(old.key_id(), new.key_id(), count, backup)
