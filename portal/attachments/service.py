"""Attachments of items and consultations: store (encrypt, sign, wrap for the audience), keep
wraps equal to the audience, list.

Downloads and signature bundles are in portal.attachments.download. Every function takes the
actor (or works below access checks, as `sync_wraps` does) and needs only an app context
for configuration: the CLI, the API, the pages and the tests call the same code.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from portal import access, audit, errors
from portal.attachments.content import SNIFF_BYTES, detect, sanitise_filename
from portal.attachments.storage import AttachmentStore, store_from_config
from portal.crypto import keys as ck
from portal.crypto.errors import CryptoError
from portal.crypto.manifest import canonical_manifest, sign_manifest
from portal.crypto.stream import CHUNK_SIZE, Source, encrypt_stream
from portal.crypto.wrap import attachment_info, unwrap_data_key, wrap_data_key
from portal.errors import Forbidden
from portal.keys import service as keys
from portal.models.attachment import Attachment, AttachmentKeyWrap
from portal.models.base import utcnow
from portal.models.consultation import Consultation
from portal.models.country import Country, CountryStatus
from portal.models.item import Item, ItemVersion
from portal.models.keys import SECRETARIAT_OWNER, KeyPurpose
from portal.models.user import User

log = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 100 * 1024 * 1024
MANIFEST_FORMAT = "echri-attachment-manifest/1"


class TooLarge(errors.TooLarge):
    """The file is larger than the configured limit; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")
        self.limit = limit


class DataKeyUnavailable(CryptoError):
    """None of an attachment's wraps could be opened, so no wrap can be added for a new audience state."""


# --- configuration --------------------------------------------------------------------

_STORE_SETTINGS = ("ATTACHMENT_BACKEND", "ATTACHMENT_STORAGE", "ATTACHMENT_S3_BUCKET", "ATTACHMENT_S3_PREFIX",
                   "ATTACHMENT_S3_ENDPOINT_URL", "ATTACHMENT_S3_REGION", "ATTACHMENT_S3_ACCESS_KEY_ID",
                   "ATTACHMENT_S3_SECRET_ACCESS_KEY", "ATTACHMENT_S3_PART_SIZE")


def storage() -> AttachmentStore:
    """The app's attachment store, chosen by ATTACHMENT_BACKEND (local folder by default, or S3).

    Kept per app and settings: an S3 client is costly to build and safe to share between threads.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key = (app.instance_path, *(str(app.config.get(name)) for name in _STORE_SETTINGS))
    cached = app.extensions.get("portal.attachment_store")
    if cached is None or cached[0] != key:
        cached = (key, store_from_config(app.config, Path(app.instance_path)))
        app.extensions["portal.attachment_store"] = cached
    store: AttachmentStore = cached[1]
    return store


def max_size() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_SIZE") or DEFAULT_MAX_SIZE)


# --- the audience as key owners -------------------------------------------------------

def originator_owner(item: Item) -> str:
    """The key owner that signs the item's files: its state, or the secretariat for its own documents."""
    return item.originator_code or SECRETARIAT_OWNER


@dataclass(frozen=True)
class Audience:
    owners: frozenset[str]  # reached whatever the file's marking
    observers: frozenset[str]  # reached only by CLEAR/GREEN files

    def for_tlp(self, tlp: Any) -> frozenset[str]:
        return self.owners | self.observers if tlp.may_reach_observers else self.owners


def audience(session: Session, item: Item, release: Item | ItemVersion | None = None) -> Audience:
    """The owners whose users the item reaches, mirroring access.items_filter over the register;
    with `release`, the owners that one of its versions was released to (the item's originator,
    the version's own marking and audience)."""
    release = release or item
    rows = session.execute(select(Country.code, Country.status))
    statuses: dict[str, CountryStatus] = {code: status for code, status in rows}
    owners = {originator_owner(item)}
    if release.all_subscribing:
        owners |= {code for code, status in statuses.items() if status is CountryStatus.SUBSCRIBING}
    # A named state that is now an observer reads only what is released to observers.
    owners |= {code for code in release.named_countries if statuses.get(code) is CountryStatus.SUBSCRIBING}
    if release.to_secretariat:
        owners.add(SECRETARIAT_OWNER)
    observers: set[str] = set()
    if release.to_observers and release.tlp.may_reach_observers:
        observers = {code for code, status in statuses.items() if status is CountryStatus.OBSERVER}
    return Audience(frozenset(owners), frozenset(observers - owners))


def release_version(session: Session, attachment: Attachment) -> ItemVersion | None:
    """The version that released the file: the one it was attached under (version 1 for a file
    attached to the draft); None while the item is unpublished."""
    assert attachment.item_version is not None  # an item's file
    return session.scalar(select(ItemVersion).where(ItemVersion.item_id == attachment.item_id,
                                                    ItemVersion.version == max(attachment.item_version, 1)))


def attachment_reach(session: Session, item: Item, attachment: Attachment) -> frozenset[str]:
    """The owners that may hold a wrap of `attachment`: the item's audience now, narrowed to the
    audience of the version that released the file, both under the file's own marking. Lowering
    or widening the item later never adds a wrap for a state the file was not released to."""
    wanted = audience(session, item).for_tlp(attachment.tlp)
    released = release_version(session, attachment)
    if released is not None:
        wanted &= audience(session, item, released).for_tlp(attachment.tlp)
    return wanted


# --- upload ---------------------------------------------------------------------------

class LimitedReader:
    """A Source that lets the type be sniffed from the first bytes and stops at the size limit."""

    def __init__(self, src: Source, limit: int) -> None:
        self.src = src
        self.limit = limit
        self.total = 0
        self._head = b""
        self._head_pos = 0
        self._head_read = False

    def _raw_readinto(self, view: memoryview) -> int:
        readinto = getattr(self.src, "readinto", None)
        if readinto is not None:
            return int(readinto(view) or 0)
        data = self.src.read(len(view)) or b""
        view[:len(data)] = data
        return len(data)

    def head(self) -> bytes:
        """The first SNIFF_BYTES (or fewer, for a short file), read once and replayed by readinto."""
        if not self._head_read:
            buf = bytearray(SNIFF_BYTES)
            view = memoryview(buf)
            filled = 0
            while filled < SNIFF_BYTES:
                n = self._raw_readinto(view[filled:])
                if n == 0:
                    break
                filled += n
            self._head = bytes(buf[:filled])
            self._head_read = True
            self._count(filled)
        return self._head

    def _count(self, n: int) -> None:
        self.total += n
        if self.total > self.limit:
            raise TooLarge(self.limit)

    def read(self, size: int = -1, /) -> bytes:
        buf = bytearray(size if size >= 0 else SNIFF_BYTES)
        return bytes(buf[:self.readinto(memoryview(buf))])

    def readinto(self, view: memoryview) -> int:
        self.head()
        if self._head_pos < len(self._head):
            n = min(len(view), len(self._head) - self._head_pos)
            view[:n] = self._head[self._head_pos:self._head_pos + n]
            self._head_pos += n
            return n
        n = self._raw_readinto(view)
        self._count(n)
        return n


# --- owners: an item or a consultation ------------------------------------------------
#
# One mechanism for both: the owner decides who may attach, who signs, whom the data key is
# wrapped for, the marking, and the manifest fields that name it. Item manifests keep exactly
# the fields they always had (signatures made before stay valid); a consultation's file names
# `consultation_id` (and the denial it is about) instead of `item_id`/`item_kind`/`item_version`.

AttachmentOwner = Item | Consultation


def owner_of(session: Session, attachment: Attachment) -> AttachmentOwner:
    """The item or consultation the file belongs to (below access checks)."""
    owner: AttachmentOwner | None
    if attachment.consultation_id is not None:
        owner = session.get(Consultation, attachment.consultation_id)
    else:
        assert attachment.item_id is not None
        owner = session.get(Item, attachment.item_id)
    assert owner is not None  # both foreign keys cascade: a file never outlives its owner
    return owner


def signers(owner: AttachmentOwner) -> frozenset[str]:
    """The key owners whose signature a file of `owner` may carry: the item's originator; either
    state of a consultation (the uploader's state signs, and both states may attach)."""
    if isinstance(owner, Consultation):
        return frozenset(owner.party_codes())
    return frozenset({originator_owner(owner)})


def consultation_reach(consultation: Consultation) -> frozenset[str]:
    """A consultation's files are wrapped for its two states, never anyone else."""
    return frozenset(consultation.party_codes())


def owner_audit(owner: AttachmentOwner) -> dict[str, Any]:
    """The audit detail naming a file's owner (an id only)."""
    if isinstance(owner, Consultation):
        return {"consultation_id": str(owner.id)}
    return {"item_id": str(owner.id)}


def _may_attach(actor: User, owner: AttachmentOwner) -> bool:
    if isinstance(owner, Consultation):
        return access.can_attach_to_consultation(actor, owner)
    return access.can_attach(actor, owner)


def _refusal(owner: AttachmentOwner) -> str:
    if isinstance(owner, Consultation):
        return "Only the two states' points of contact and officers attach files, until the consultation is closed."
    return ("Only the originating state attaches files: its editors to drafts, its point of contact "
            "to published items.")


def _signer_for(actor: User, owner: AttachmentOwner) -> str:
    if isinstance(owner, Consultation):
        assert actor.country_code in owner.party_codes()  # _may_attach checked it
        return str(actor.country_code)
    return originator_owner(owner)


def _new_file_reach(session: Session, owner: AttachmentOwner) -> frozenset[str]:
    if isinstance(owner, Consultation):
        return consultation_reach(owner)
    return audience(session, owner).for_tlp(owner.tlp)


def _lock_owner(session: Session, owner: AttachmentOwner) -> None:
    if isinstance(owner, Consultation):
        # Closing and uploading then happen one after the other: no file lands in a closed thread.
        session.execute(select(Consultation.id).where(Consultation.id == owner.id).with_for_update())
    else:
        _lock_item(session, owner)


def _owner_fields(owner: AttachmentOwner) -> dict[str, Any]:
    """The manifest fields naming the owner, and the record's columns for it."""
    if isinstance(owner, Consultation):
        return {"consultation_id": str(owner.id), "denial_id": str(owner.denial_id)}
    return {"item_id": str(owner.id), "item_kind": owner.kind.value, "item_version": owner.version}


def _owner_columns(owner: AttachmentOwner) -> dict[str, Any]:
    if isinstance(owner, Consultation):
        return {"consultation_id": owner.id}
    return {"item_id": owner.id, "item_version": owner.version}


def store_attachment(session: Session, actor: User, owner: AttachmentOwner, filename: str, source: Source, *,
                     limit: int | None = None, store: AttachmentStore | None = None) -> Attachment:
    """Encrypt, sign and store a file for an item or a consultation; on any failure nothing is
    left, in storage or database."""
    if not _may_attach(actor, owner):
        raise Forbidden(_refusal(owner))
    name = sanitise_filename(filename)
    reader = LimitedReader(source, limit or max_size())
    kind = detect(name, reader.head())
    signer_owner = _signer_for(actor, owner)
    # Keys made on first need are committed before the long write: no write lock is held while streaming.
    keys.active_key(session, signer_owner, KeyPurpose.SIGNING)
    for key_owner in _new_file_reach(session, owner):
        keys.active_key(session, key_owner, KeyPurpose.HPKE)
    session.commit()

    store = store or storage()
    attachment_id = uuid.uuid4()
    data_key = ck.generate_data_key()
    final_name: str | None = None
    try:
        with store.stage() as staged:
            result = encrypt_stream(data_key, reader, staged)
            # Lock the owner: a concurrent audience change (or closing) then either sees this file or is seen by it.
            _lock_owner(session, owner)
            session.refresh(owner)
            if not _may_attach(actor, owner):
                raise Forbidden(f"The {'consultation' if isinstance(owner, Consultation) else 'item'} changed "
                                "while the file was uploading; it can no longer take files.")
            if isinstance(owner, Item) and owner.is_live:
                # A file added after publication changes what the audience has: it is an
                # amendment (a new version it is released under, a history entry, alerts), so
                # nobody misses it. Chosen over requiring "Amend" first: one action, and the
                # page's upload form cannot add a file silently. sharing.service imports this
                # module, hence the import here.
                from portal.sharing.service import amend_with_file
                amend_with_file(session, actor, owner, name)
            signer = keys.active_key(session, signer_owner, KeyPurpose.SIGNING)
            assert signer is not None
            fields = {
                "format": MANIFEST_FORMAT, "attachment_id": str(attachment_id), **_owner_fields(owner),
                "filename": name, "media_type": kind.media_type,
                "size": result.plaintext_size, "plaintext_sha256": result.plaintext_sha256,
                "ciphertext_size": result.ciphertext_size, "ciphertext_sha256": result.ciphertext_sha256,
                "chunk_size": CHUNK_SIZE, "tlp": owner.tlp.value,
                "uploaded_by": str(actor.id), "uploader_name": actor.name,
                "uploaded_at": utcnow().isoformat(timespec="seconds"),
                "signer": signer_owner, "signing_key_version": signer.version,
                "signing_key_fingerprint": ck.fingerprint(signer.public_key),
            }
            manifest = canonical_manifest(fields)
            final_name = staged.name
            attachment = Attachment(
                id=attachment_id, **_owner_columns(owner), filename=name,
                media_type=kind.media_type, size=result.plaintext_size, plaintext_sha256=result.plaintext_sha256,
                ciphertext_sha256=result.ciphertext_sha256, ciphertext_size=result.ciphertext_size,
                storage_name=final_name, manifest=manifest, signature=sign_manifest(keys.private_key(signer), manifest),
                signer_owner=signer_owner, signer_key_version=signer.version, tlp=owner.tlp,
                uploaded_by_id=actor.id, created_at=utcnow())
            session.add(attachment)
            owners = sorted(_new_file_reach(session, owner))
            for key_owner in owners:
                attachment.wraps.append(_wrap_for(session, attachment_id, key_owner, data_key))
            audit.record(session, "attachment.uploaded", actor=actor, target_type="attachment", target_id=attachment_id,
                         details={**owner_audit(owner), "media_type": kind.media_type,
                                  "size": result.plaintext_size, "tlp": owner.tlp.value, "wraps": len(owners)})
            session.flush()
            staged.commit()
        session.commit()
    except BaseException:
        session.rollback()
        if final_name is not None:
            store.delete(final_name)
        raise
    return attachment


def _lock_item(session: Session, item: Item) -> None:
    """Row-lock the item (PostgreSQL; SQLite serialises writers anyway): uploads and audience
    changes of one item then happen one after the other, so neither misses the other's wraps."""
    session.execute(select(Item.id).where(Item.id == item.id).with_for_update())


def _wrap_for(session: Session, attachment_id: uuid.UUID, owner: str, data_key: bytes) -> AttachmentKeyWrap:
    hpke = keys.active_key(session, owner, KeyPurpose.HPKE)
    assert hpke is not None
    wrapped = wrap_data_key(hpke.public_key, data_key, attachment_info(str(attachment_id), owner))
    return AttachmentKeyWrap(owner=owner, key_version=hpke.version, wrapped_key=wrapped, created_at=utcnow())


# --- the audience changes -------------------------------------------------------------

@dataclass
class WrapChanges:
    added: list[tuple[str, str]] = field(default_factory=list)  # (attachment id, owner)
    removed: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def recover_data_key(session: Session, attachment: Attachment, prefer: str | None = None) -> bytes:
    """Open the attachment's data key through any of its wraps (the preferred owner's first)."""
    wraps = sorted(attachment.wraps, key=lambda w: w.owner != prefer)
    for wrap in wraps:
        hpke = keys.key_version(session, wrap.owner, KeyPurpose.HPKE, wrap.key_version)
        if hpke is None:
            continue
        try:
            return unwrap_data_key(keys.private_key(hpke), wrap.wrapped_key,
                                   attachment_info(str(attachment.id), wrap.owner))
        except CryptoError:
            log.warning("wrap of attachment %s for %s does not open", attachment.id, wrap.owner)
    raise DataKeyUnavailable(f"no wrap of attachment {attachment.id} opens")


def sync_wraps(session: Session, item: Item, *, actor: User | None = None) -> WrapChanges:
    """Make the wraps of every attachment of `item` match its audience, in the caller's transaction (not
    committed). Call it whenever the audience of an item may have changed; a no-op for new items."""
    changes = WrapChanges()
    state = inspect(item)
    if state.transient or state.pending:
        return changes  # a new item has no attachments yet
    # No autoflush: the caller's pending changes (and their constraint errors) stay the caller's.
    with session.no_autoflush:
        attachments = list(session.scalars(select(Attachment).where(Attachment.item_id == item.id)
                                           .order_by(Attachment.created_at)))
        if not attachments:
            return changes
        _lock_item(session, item)
        for attachment in attachments:
            wanted = attachment_reach(session, item, attachment)
            have = {w.owner: w for w in attachment.wraps}
            for owner in sorted(have.keys() - wanted):
                attachment.wraps.remove(have[owner])
                changes.removed.append((str(attachment.id), owner))
            missing = sorted(wanted - have.keys())
            if missing:
                data_key = recover_data_key(session, attachment, prefer=originator_owner(item))
                for owner in missing:
                    attachment.wraps.append(_wrap_for(session, attachment.id, owner, data_key))
                    changes.added.append((str(attachment.id), owner))
    if changes:
        audit.record(session, "attachment.audience_changed", actor=actor, actor_label=None if actor else "system",
                     target_type=item.kind.value, target_id=item.id,
                     details={"wraps_added": len(changes.added), "wraps_removed": len(changes.removed)})
    return changes


def sync_all(session: Session) -> tuple[int, int]:
    """Batch work (a command or the worker, never a request): sync_wraps for every item that has
    attachments, committing per item so a long run keeps its progress; then clears the register's
    stale marks set before it started. Returns (added, removed)."""
    started = utcnow()
    added = removed = 0
    # A consultation's files are wrapped for its two states whatever the register says: not synced.
    item_ids = list(session.scalars(select(Attachment.item_id).where(Attachment.item_id.is_not(None)).distinct()))
    for item_id in item_ids:
        item = session.get(Item, item_id)
        if item is None:
            continue
        changes = sync_wraps(session, item)
        session.commit()
        added, removed = added + len(changes.added), removed + len(changes.removed)
    session.execute(update(Country).where(Country.wraps_stale_since <= started).values(wraps_stale_since=None))
    session.commit()
    return added, removed


def sync_if_register_changed(session: Session) -> tuple[int, int] | None:
    """The worker's round: sync_all when a state's status changed since the last sync, else None."""
    if session.scalar(select(Country.code).where(Country.wraps_stale_since.is_not(None)).limit(1)) is None:
        return None
    return sync_all(session)


# --- listing --------------------------------------------------------------------------

def attachments_for(session: Session, actor: User, item: Item) -> list[Attachment]:
    """The attachments of `item` that `actor` may open, oldest first (empty when none or not allowed)."""
    rows = session.scalars(
        select(Attachment).join(Item, Item.id == Attachment.item_id)
        .where(Attachment.item_id == item.id, access.attachments_filter(actor))
        .order_by(Attachment.created_at, Attachment.filename))
    return [a for a in rows if access.can_read_attachment(actor, item, a.tlp)]


def consultation_attachments(session: Session, actor: User, consultation: Consultation) -> list[Attachment]:
    """The files of a consultation, oldest first, for its two states' SPOCs and officers (else empty)."""
    rows = session.scalars(
        select(Attachment).join(Consultation, Consultation.id == Attachment.consultation_id)
        .where(Attachment.consultation_id == consultation.id, access.consultation_attachments_filter(actor))
        .order_by(Attachment.created_at, Attachment.filename))
    return [a for a in rows if access.can_read_consultation_attachment(actor, consultation, a)]
