"""Backups that restore: a consistent copy of the database and the attachment store, signed.

A backup is a folder:

    MANIFEST.json      what is in it: SHA-256 and size of every file, row counts, schema revision,
                       the signer's public key and fingerprint (canonical JSON)
    MANIFEST.sig       Ed25519 signature of MANIFEST.json by the secretariat's signing key
    signer.pem         the same public key as PEM, for checking with stock OpenSSL
    database.sqlite3   SQLite: a copy made with SQLite's online backup API
    database.pgdump    PostgreSQL: pg_dump's custom format, taken in an exported snapshot
    attachments/xx/<name>.enc   every stored (encrypted) file the database refers to

Consistency: the database copy and the list of files come from one snapshot (the SQLite copy
itself; for PostgreSQL a REPEATABLE READ transaction whose snapshot pg_dump shares). Files land
in the store before their row commits and are never rewritten, so every file a row of the
snapshot names is in the store when it is copied.

The master key is never in a backup: it wraps the private keys held (wrapped) in the database,
so a backup alone decrypts nothing. Keep the master key apart from the backups.

Trust: the signature is checked with the public key recorded in the manifest, and that key
must be trusted independently, since whoever could alter a backup could replace the key too:
it must be one of the secretariat's signing keys of the live installation (the configured
database, retired versions included), or match the fingerprint the operator passes with
--fingerprint (printed by `backup create`, listed by `keys list`). Restoring goes into an empty
target, which has no keys yet, so a restore always needs --fingerprint.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.engine import Connection, make_url

from portal import audit
from portal.attachments import service as attachments
from portal.attachments.storage import AttachmentStore, StorageError, check_name
from portal.crypto import keys as ck
from portal.crypto.errors import CryptoError
from portal.crypto.keyprovider import EnvKeyProvider, FileKeyProvider
from portal.crypto.manifest import sign_manifest, verify_manifest
from portal.extensions import db
from portal.keys import service as keys
from portal.models import Attachment, Base
from portal.models.keys import SECRETARIAT_OWNER, KeyPurpose, StateKey

FORMAT = "echri-backup/1"
MANIFEST = "MANIFEST.json"
SIGNATURE = "MANIFEST.sig"
SIGNER_PEM = "signer.pem"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FILES_DIR = "attachments"
_COPY = 1024 * 1024


class BackupError(Exception):
    """A backup cannot be made, does not verify, or cannot be restored into this target."""


@dataclass
class BackupResult:
    directory: Path
    files: int
    fingerprint: str
    master_key_location: str
    row_counts: dict[str, int] = field(default_factory=dict)


# --- helpers ---------------------------------------------------------------------------

def _engine() -> Engine:
    engine: Engine = current_app.extensions["portal.db"]
    return engine


def _dialect() -> str:
    return _engine().dialect.name


def _tables() -> list[str]:
    return [table.name for table in Base.metadata.sorted_tables] + ["alembic_version"]


def _row_counts(conn: Connection) -> dict[str, int]:
    existing = set(inspect(conn).get_table_names())
    return {name: int(conn.execute(select(func.count()).select_from(text(_quote(conn, name)))).scalar_one())
            for name in _tables() if name in existing}


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _copy_stream(src: Any, dst: BinaryIO | None, digest: Any) -> int:
    size = 0
    while True:
        data = src.read(_COPY)
        if not data:
            return size
        digest.update(data)
        if dst is not None:
            dst.write(data)
        size += len(data)


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        size = _copy_stream(handle, None, digest)
    return digest.hexdigest(), size


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def normalise_fingerprint(value: str) -> str:
    """Fingerprints compare without case, colons or spaces (as printed by `keys list` or not)."""
    return "".join(ch for ch in value.lower() if ch in "0123456789abcdef")


def pg_binary(name: str) -> str:
    """pg_dump / pg_restore: PG_BIN_DIR when set, else PATH, else the newest Debian install."""
    configured = current_app.config.get("PG_BIN_DIR")
    if configured:
        return str(Path(configured) / name)
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise BackupError(f"PostgreSQL's {name} is not installed (or set PG_BIN_DIR)")
    return found


def _libpq_environment(url: str) -> dict[str, str]:
    """The database URL as libpq variables, so pg_dump reaches the same server (socket or TCP) and
    no password appears on a command line."""
    parsed = make_url(url)
    env = dict(os.environ)
    host = parsed.host or parsed.query.get("host")
    mapping = {"PGHOST": host, "PGPORT": str(parsed.port) if parsed.port else parsed.query.get("port"),
               "PGUSER": parsed.username, "PGPASSWORD": parsed.password, "PGDATABASE": parsed.database,
               "PGSSLMODE": parsed.query.get("sslmode")}
    for key, value in mapping.items():
        if isinstance(value, tuple):
            value = value[0]
        if value:
            env[key] = str(value)
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("the SQLite database must be a file")
    return Path(database)


def master_key_location() -> str:
    """Where the installation's master key comes from (never the key itself)."""
    provider = keys.provider()
    if isinstance(provider, FileKeyProvider):
        return f"the key file {provider.path}"
    if isinstance(provider, EnvKeyProvider):
        return "the PORTAL_MASTER_KEY setting (environment)"
    return f"the key provider {type(provider).__name__}"


# --- create ----------------------------------------------------------------------------

@contextmanager
def _database_snapshot(out: Path) -> Iterator[tuple[dict[str, int], list[str]]]:
    """Copy the database to `out` and yield the row counts and attachment names of that same copy."""
    url = current_app.config["DATABASE_URL"]
    if _dialect() == "sqlite":
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        target = sqlite3.connect(out)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        from sqlalchemy import create_engine

        copy = create_engine(f"sqlite:///{out}")
        try:
            with copy.connect() as conn:
                yield _row_counts(conn), list(conn.execute(select(Attachment.storage_name)).scalars())
        finally:
            copy.dispose()
        return
    with _engine().connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(text("SET TRANSACTION READ ONLY"))
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = _row_counts(conn)
        names = list(conn.execute(select(Attachment.storage_name)).scalars())
        # pg_dump sees exactly what this transaction sees while it stays open.
        _run([pg_binary("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", f"--file={out}"], _libpq_environment(url))
        yield counts, names


def create_backup(directory: Path) -> BackupResult:
    """Write a signed, consistent backup of the database and the attachment store into `directory`."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(f"{directory} exists and is not an empty folder")
    session = db.session
    signer = keys.active_key(session, SECRETARIAT_OWNER, KeyPurpose.SIGNING)
    assert signer is not None
    session.commit()  # a signing key made on first need is then part of the copy
    private = keys.private_key(signer)  # fails now, not after the copy, if the master key is wrong
    signer_public, signer_version = signer.public_key, signer.version
    master_key_id = keys.provider().key_id()
    session.remove()

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    dialect = _dialect()
    database_file = DATABASE_FILES.get(dialect)
    if database_file is None:
        raise BackupError(f"unsupported database {dialect}")
    store = attachments.storage()
    entries: dict[str, dict[str, Any]] = {}
    with _database_snapshot(directory / database_file) as (counts, names):
        for name in sorted(set(names)):
            relative = f"{FILES_DIR}/{check_name(name)}"
            target = directory / relative
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            digest = hashlib.sha256()
            try:
                handle = store.open(name)
            except (OSError, StorageError) as error:
                raise BackupError(f"stored file {name} of the database cannot be read: {error}") from None
            try:
                with target.open("xb") as out:
                    size = _copy_stream(handle, out, digest)
                    out.flush()
                    os.fsync(out.fileno())
            finally:
                handle.close()
            entries[relative] = {"sha256": digest.hexdigest(), "size": size}
    _fsync(directory / database_file)
    sha, size = _file_digest(directory / database_file)
    entries[database_file] = {"sha256": sha, "size": size}
    with _engine().connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    fields = {
        "format": FORMAT,
        "created_at": _now(),
        "database": {"dialect": dialect, "file": database_file, "alembic_revision": revision, "row_counts": counts},
        "store": {"backend": store.backend, "files": len(entries) - 1},
        "files": entries,
        "signer": {"owner": SECRETARIAT_OWNER, "purpose": KeyPurpose.SIGNING.value, "key_version": signer_version,
                   "public_key": signer_public.hex(), "fingerprint": ck.fingerprint(signer_public)},
        "master_key_id": master_key_id,  # which master key unwraps the private keys; not the key
    }
    manifest = _canonical(fields)
    for name, content in ((MANIFEST, manifest), (SIGNATURE, sign_manifest(private, manifest)),
                          (SIGNER_PEM, ck.ed25519_public_pem(signer_public))):
        path = directory / name
        with path.open("xb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
    for folder in {directory, *(p.parent for p in directory.rglob("*.enc"))}:
        _fsync(folder)
    audit.record(db.session, "backup.created", actor_label="cli", target_type="backup",
                 details={"files": len(entries) - 1, "rows": sum(counts.values()), "database": dialect,
                          "store": store.backend, "signing_key_version": signer_version})
    db.session.commit()
    return BackupResult(directory, len(entries) - 1, ck.fingerprint(signer_public), master_key_location(), counts)


def _now() -> str:
    from portal.models.base import utcnow

    return utcnow().isoformat(timespec="seconds")


# --- verify ----------------------------------------------------------------------------

def live_secretariat_keys() -> set[bytes]:
    """The secretariat's signing public keys in the configured database (none when it is empty)."""
    if _dialect() == "sqlite" and not _sqlite_path(current_app.config["DATABASE_URL"]).exists():
        return set()  # looking must not create the file a restore needs absent
    try:
        if "state_keys" not in inspect(_engine()).get_table_names():
            return set()
        return set(db.session.scalars(select(StateKey.public_key).where(
            StateKey.owner == SECRETARIAT_OWNER, StateKey.purpose == KeyPurpose.SIGNING)))
    finally:
        db.session.remove()


def _allowed_relative(relative: str, database_file: str) -> bool:
    if relative == database_file:
        return True
    prefix = f"{FILES_DIR}/"
    if not relative.startswith(prefix):
        return False
    try:
        check_name(relative[len(prefix):])
    except StorageError:
        return False
    return True


def verify_backup(directory: Path, fingerprint: str | None = None) -> dict[str, Any]:
    """Check a backup's signature, the trust in its signer and every file; return its manifest fields."""
    directory = Path(directory)
    try:
        manifest = (directory / MANIFEST).read_bytes()
        signature = (directory / SIGNATURE).read_bytes()
    except OSError as error:
        raise BackupError(f"not a backup folder: {error}") from None
    try:
        fields = json.loads(manifest)
        signer = fields["signer"]
        public = bytes.fromhex(signer["public_key"])
        files: dict[str, dict[str, Any]] = fields["files"]
        database_file = fields["database"]["file"]
        if fields.get("format") != FORMAT or signer.get("owner") != SECRETARIAT_OWNER:
            raise ValueError(f"format {fields.get('format')!r} or signer {signer.get('owner')!r} is not expected")
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"the manifest is not readable: {error}") from None
    try:
        verify_manifest(public, manifest, signature)
    except CryptoError as error:
        raise BackupError(f"the manifest signature does not verify: {error}") from None
    actual = ck.fingerprint(public)
    if fingerprint:
        if normalise_fingerprint(fingerprint) != normalise_fingerprint(actual):
            raise BackupError(f"the backup is signed by key {actual}, not by the fingerprint given")
    else:
        live = live_secretariat_keys()
        if not live:
            raise BackupError("no secretariat signing key to check the signer against in the configured database: "
                              "pass --fingerprint (printed by `backup create`, listed by `keys list`)")
        if public not in live:
            raise BackupError(f"the backup is signed by key {actual}, which is not a secretariat signing key "
                              "of this installation")
    if database_file not in DATABASE_FILES.values() or database_file not in files:
        raise BackupError("the manifest names no database copy")
    for relative, expected in files.items():
        if not _allowed_relative(relative, database_file):
            raise BackupError(f"the manifest names an unexpected file {relative!r}")
        path = directory / relative
        if not path.is_file() or path.is_symlink():
            raise BackupError(f"{relative} is missing")
        sha, size = _file_digest(path)
        if sha != expected.get("sha256") or size != expected.get("size"):
            raise BackupError(f"{relative} does not match its digest in the manifest")
    extra = sorted(str(p.relative_to(directory)) for p in directory.rglob("*")
                   if p.is_file() and str(p.relative_to(directory)) not in files
                   and p.name not in (MANIFEST, SIGNATURE, SIGNER_PEM))
    if extra:
        raise BackupError(f"files not in the manifest: {', '.join(extra[:5])}")
    return dict(fields)


# --- restore ---------------------------------------------------------------------------

def _check_empty_target(dialect: str, store: AttachmentStore) -> None:
    url = current_app.config["DATABASE_URL"]
    if _dialect() != dialect:
        raise BackupError(f"the backup holds a {dialect} database; the configured database is {_dialect()}")
    if dialect == "sqlite":
        path = _sqlite_path(url)
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"the SQLite database {path} exists; restore only into a file that does not exist yet")
    elif inspect(_engine()).get_table_names():
        raise BackupError("the PostgreSQL database has tables; restore only into an empty database")
    if store.names() or store.temporary():
        raise BackupError(f"the attachment store ({store.describe()}) is not empty")


def restore_backup(directory: Path, fingerprint: str | None = None) -> dict[str, Any]:
    """Verify a backup, then restore it into the configured (empty) database and attachment store."""
    directory = Path(directory)
    if not fingerprint:
        raise BackupError("a restore needs --fingerprint: the secretariat signing key fingerprint, printed by "
                          "`backup create` and listed by `keys list` on the live installation")
    store = attachments.storage()
    try:
        fields = json.loads((directory / MANIFEST).read_bytes())
        dialect = fields["database"]["dialect"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"not a backup folder: {error}") from None
    _check_empty_target(dialect, store)
    fields = verify_backup(directory, fingerprint)
    try:
        _restore_verified(directory, fields, store)
    except (BackupError, OSError, StorageError) as error:
        raise BackupError(f"{error} (the target may be partly restored: empty it before trying again)") from None
    return fields


def _restore_verified(directory: Path, fields: Mapping[str, Any], store: AttachmentStore) -> None:
    dialect = fields["database"]["dialect"]
    database_file = fields["database"]["file"]
    url = current_app.config["DATABASE_URL"]
    _engine().dispose()
    if dialect == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.restoring")
        shutil.copyfile(directory / database_file, partial)
        _fsync(partial)
        os.rename(partial, target)
        _fsync(target.parent)
    else:
        _run([pg_binary("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={_libpq_environment(url)['PGDATABASE']}", str(directory / database_file)],
             _libpq_environment(url))
    for relative, expected in sorted(fields["files"].items()):
        if relative == database_file:
            continue
        name = relative[len(FILES_DIR) + 1:]
        digest = hashlib.sha256()
        with (directory / relative).open("rb") as source, store.stage(name) as staged:
            _copy_stream(source, staged, digest)  # type: ignore[arg-type]
            if digest.hexdigest() != expected["sha256"]:
                raise BackupError(f"{relative} changed while it was being restored")
            staged.commit()
    _check_restored(fields)


def _check_restored(fields: Mapping[str, Any]) -> None:
    with _engine().connect() as conn:
        counts = _row_counts(conn)
    expected = fields["database"]["row_counts"]
    wrong = sorted(name for name in expected if counts.get(name) != expected[name])
    if wrong:
        raise BackupError(f"row counts differ after the restore: {', '.join(wrong)}")
    if bytes.fromhex(fields["signer"]["public_key"]) not in live_secretariat_keys():
        raise BackupError("the restored database does not hold the key that signed the backup")


def master_key_matches(fields: Mapping[str, Any]) -> bool:
    """Whether the configured master key is the one that wrapped the restored private keys."""
    try:
        return bool(keys.provider().key_id() == fields.get("master_key_id"))
    except CryptoError:
        return False
