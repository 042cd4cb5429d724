"""Verified downloads and signature bundles.

Before a byte of a file leaves, the manifest signature is checked against the signing key (of
the version the manifest names) of a state that signs the owner's files: an item's originator,
either state of a consultation. The manifest is compared with the record, the data key is
opened through the reader's own owner's wrap, and the whole ciphertext is authenticated
(STREAM) and hashed. Only then is it decrypted again, chunk by
chunk, into the response: memory stays flat whatever the file size.
"""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access, audit, errors
from portal.attachments.service import (
    AttachmentOwner, attachment_reach, owner_audit, owner_of, signers, storage, sync_wraps,
)
from portal.attachments.storage import AttachmentStore, StorageError, StoredFile
from portal.crypto import keys as ck
from portal.crypto.errors import CryptoError
from portal.crypto.manifest import signature_bundle, verify_manifest
from portal.crypto.stream import decrypt_stream, verify_stream
from portal.crypto.wrap import attachment_info, unwrap_data_key
from portal.errors import NotFound
from portal.keys import service as keys
from portal.models.attachment import Attachment, AttachmentKeyWrap
from portal.models.consultation import Consultation
from portal.models.item import Item
from portal.models.keys import KeyPurpose
from portal.models.user import User

log = logging.getLogger(__name__)

# Hash the ciphertext on a second core while the first authenticates it (above this size).


class IntegrityFailure(Exception):
    """Stored data does not verify: signature, manifest, wrap, key or content (tampering or corruption)."""


class NoWrapForOwner(Exception):
    """The owner has no wrap of this attachment's data key, so it cannot be decrypted for them."""


class TamperDetected(errors.IntegrityFailure):
    """Raised after an IntegrityFailure was audited; nothing of the file was sent. The reason goes
    to the server log only: the page and the API say no more than that the check failed."""

    template = "attachments/tamper.html"

    def __init__(self, attachment_id: uuid.UUID, reason: str) -> None:
        super().__init__()
        self.attachment_id = attachment_id
        self.reason = reason


@dataclass
class VerifiedFile:
    """An authenticated attachment, ready to stream: iterate `chunks()` exactly once."""

    attachment: Attachment
    filename: str
    media_type: str
    size: int
    _file: StoredFile
    _data_key: bytes

    def chunks(self) -> Iterator[bytes]:
        try:
            # Verified already; decrypt_stream still authenticates each chunk, so a file changed
            # on disk since then stops the stream instead of sending altered bytes.
            yield from decrypt_stream(self._data_key, self._file)
        finally:
            self.close()

    def read_all(self) -> bytes:
        """The whole plaintext (tests and small files only)."""
        return b"".join(self.chunks())

    def close(self) -> None:
        self._file.close()


def get_visible_attachment(session: Session, actor: User,
                           attachment_id: uuid.UUID) -> tuple[Attachment, AttachmentOwner]:
    """The attachment and its owner (item or consultation) if `actor` may open it; NotFound
    otherwise (never Forbidden). Each owner kind has its own filter from portal.access."""
    row = session.execute(
        select(Attachment, Item).join(Item, Item.id == Attachment.item_id)
        .where(Attachment.id == attachment_id, access.attachments_filter(actor))).first()
    if row is not None:
        if not access.can_read_attachment(actor, row[1], row[0].tlp):
            raise NotFound()
        return row[0], row[1]
    found = session.execute(
        select(Attachment, Consultation).join(Consultation, Consultation.id == Attachment.consultation_id)
        .where(Attachment.id == attachment_id, access.consultation_attachments_filter(actor))).first()
    if found is None or not access.can_read_consultation_attachment(actor, found[1], found[0]):
        raise NotFound()
    return found[0], found[1]


def _expected_owner_fields(attachment: Attachment, owner: AttachmentOwner) -> dict[str, Any]:
    """What the manifest must say about the owner: an item file names its item and version (as it
    always did); a consultation file names the consultation and its denial, and no item."""
    if isinstance(owner, Consultation):
        return {"consultation_id": str(owner.id), "denial_id": str(owner.denial_id), "item_id": None,
                "item_version": None}
    return {"item_id": str(attachment.item_id), "item_version": attachment.item_version, "consultation_id": None}


def verified_manifest(session: Session, attachment: Attachment, owner: AttachmentOwner) -> dict[str, Any]:
    """Check the manifest signature and that the manifest describes this record; return its fields."""
    try:
        fields = json.loads(attachment.manifest.decode("utf-8"))
        if not isinstance(fields, dict):
            raise ValueError("not an object")
        signer_owner, version = fields["signer"], fields["signing_key_version"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise IntegrityFailure(f"manifest is not readable: {error}") from None
    if signer_owner not in signers(owner):
        raise IntegrityFailure(f"manifest names signer {signer_owner!r}, who does not sign this owner's files")
    signer = keys.key_version(session, str(signer_owner), KeyPurpose.SIGNING, int(version))
    if signer is None:
        raise IntegrityFailure(f"signing key {signer_owner} v{version} named by the manifest does not exist")
    try:
        verify_manifest(signer.public_key, attachment.manifest, attachment.signature)
    except CryptoError as error:
        raise IntegrityFailure(f"manifest signature: {error}") from None
    expected = {
        "attachment_id": str(attachment.id), **_expected_owner_fields(attachment, owner),
        "filename": attachment.filename, "media_type": attachment.media_type, "size": attachment.size,
        "plaintext_sha256": attachment.plaintext_sha256, "ciphertext_sha256": attachment.ciphertext_sha256,
        "ciphertext_size": attachment.ciphertext_size, "tlp": attachment.tlp.value,
        "signer": attachment.signer_owner, "signing_key_version": attachment.signer_key_version,
    }
    wrong = sorted(k for k, v in expected.items() if fields.get(k) != v)
    if wrong:
        raise IntegrityFailure(f"record does not match the signed manifest: {', '.join(wrong)}")
    return fields


def open_verified(session: Session, attachment: Attachment, owner: str | None, *,
                  store: AttachmentStore | None = None) -> VerifiedFile:
    """Verify everything and open the file for `owner` through that owner's own wrap.

    Raises NoWrapForOwner when the owner has no wrap (not in the audience), IntegrityFailure
    when anything does not verify.
    """
    wrap = None if owner is None else session.get(AttachmentKeyWrap, (attachment.id, owner))
    if wrap is None or owner is None:
        raise NoWrapForOwner(f"attachment {attachment.id} is not wrapped for {owner}")
    fields = verified_manifest(session, attachment, owner_of(session, attachment))
    hpke = keys.key_version(session, owner, KeyPurpose.HPKE, wrap.key_version)
    if hpke is None:
        raise IntegrityFailure(f"HPKE key {owner} v{wrap.key_version} of the wrap does not exist")
    try:
        data_key = unwrap_data_key(keys.private_key(hpke), wrap.wrapped_key, attachment_info(str(attachment.id), owner))
    except CryptoError as error:
        raise IntegrityFailure(f"data key: {error}") from None
    store = store or storage()
    try:
        handle = store.open(attachment.storage_name)
    except (OSError, StorageError) as error:
        raise IntegrityFailure(f"stored file cannot be opened: {error}") from None
    try:
        _authenticate(handle, data_key, fields)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return VerifiedFile(attachment, fields["filename"], fields["media_type"], fields["size"], handle, data_key)


def _authenticate(handle: StoredFile, data_key: bytes, fields: dict[str, Any]) -> None:
    """Authenticate every chunk and check the plaintext against the signed digest.

    The ciphertext's SHA-256 is not recomputed here: any change to the stored bytes already
    fails the STREAM tags under this attachment's own key, and the signed plaintext digest
    binds the content. (The ciphertext digest stays in the manifest for keyless storage checks.)
    """
    size = handle.size
    if size != fields["ciphertext_size"]:
        raise IntegrityFailure(f"stored file is {size} bytes, the manifest says {fields['ciphertext_size']}")
    try:
        plain = verify_stream(data_key, handle)
    except CryptoError as error:
        raise IntegrityFailure(f"content: {error}") from None
    if plain.plaintext_sha256 != fields["plaintext_sha256"] or plain.plaintext_size != fields["size"]:
        raise IntegrityFailure("SHA-256 or size of the decrypted content differs from the manifest")


def _tamper(session: Session, actor: User, attachment: Attachment, owner: AttachmentOwner, stage: str,
            error: Exception) -> TamperDetected:
    session.rollback()
    log.error("attachment %s failed verification (%s): %s", attachment.id, stage, error)
    audit.record(session, "attachment.tamper_detected", actor=actor, target_type="attachment",
                 target_id=attachment.id, details={**owner_audit(owner), "stage": stage})
    session.commit()
    return TamperDetected(attachment.id, str(error))


def open_download(session: Session, actor: User, attachment_id: uuid.UUID) -> VerifiedFile:
    """The verified file for `actor`, through its own owner's wrap; audited. NotFound / TamperDetected."""
    attachment, parent = get_visible_attachment(session, actor, attachment_id)
    owner = access.key_owner(actor)
    if owner is None:
        raise NotFound()
    if session.get(AttachmentKeyWrap, (attachment.id, owner)) is None:
        # A state that joined an audience later (e.g. a new subscribing state and an item for all):
        # add its wrap now, but only if the audience computed from the item really contains it.
        # A consultation's files are wrapped for its two states from the start, never later.
        if isinstance(parent, Consultation) or owner not in attachment_reach(session, parent, attachment):
            raise NotFound()
        sync_wraps(session, parent)
        session.commit()
    try:
        verified = open_verified(session, attachment, owner)
    except NoWrapForOwner:
        raise NotFound() from None
    except IntegrityFailure as error:
        raise _tamper(session, actor, attachment, parent, "download", error) from error
    audit.record(session, "attachment.downloaded", actor=actor, target_type="attachment", target_id=attachment.id,
                 details=owner_audit(parent))
    session.commit()
    return verified


@dataclass(frozen=True)
class Bundle:
    filename: str
    data: bytes


def signature_bundle_for(session: Session, actor: User, attachment_id: uuid.UUID) -> Bundle:
    """The offline-verifiable ZIP (manifest.json, manifest.sig, signer.pem, VERIFY.txt)."""
    attachment, parent = get_visible_attachment(session, actor, attachment_id)
    try:
        fields = verified_manifest(session, attachment, parent)
        signer = keys.key_version(session, fields["signer"], KeyPurpose.SIGNING, fields["signing_key_version"])
        assert signer is not None
        data = signature_bundle(attachment.manifest, attachment.signature, ck.ed25519_public_pem(signer.public_key))
    except (IntegrityFailure, CryptoError) as error:
        raise _tamper(session, actor, attachment, parent, "signature bundle", error) from error
    stem = attachment.filename.rsplit(".", 1)[0] or "attachment"
    return Bundle(f"{stem}.signature.zip", data)
