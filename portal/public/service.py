"""Guidance on the public side: publishing it publicly (an explicit act), and what the public may read.

Every read here goes through access.public_items_filter / public_attachments_filter; nothing of
an item beyond its current version and its files ever leaves: no audience, no history, no read
receipts, no names of officials.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from portal import access, audit
from portal.attachments.download import (
    Bundle, IntegrityFailure, NoWrapForOwner, TamperDetected, VerifiedFile, open_verified, verified_manifest,
)
from portal.attachments.service import originator_owner, owner_audit
from portal.crypto import keys as ck
from portal.crypto.errors import CryptoError
from portal.crypto.manifest import canonical_manifest, sign_manifest, signature_bundle
from portal.errors import Forbidden, NotFound
from portal.keys import service as keys
from portal.models.attachment import Attachment
from portal.models.base import utcnow
from portal.models.item import Item
from portal.models.keys import KeyPurpose
from portal.models.public import PublicItem
from portal.models.user import User

log = logging.getLogger(__name__)

PUBLIC_ACTOR = "public"  # the audit's actor label for what a visitor without an account sets off
PAGE_SIZE = 20
MAX_QUERY = 200


# --- publishing (signed-in, the originating state) ----------------------------------------

def is_public(session: Session, item: Item) -> bool:
    """Whether the item has a public publication (shown only while access.may_be_public holds)."""
    return session.get(PublicItem, item.id) is not None


def publish_publicly(session: Session, actor: User, item: Item) -> None:
    """Publish a published TLP:CLEAR notice or document on the public side; audited."""
    if not access.can_publish_publicly(actor, item, is_public(session, item)):
        raise Forbidden("Only the originating state's point of contact publishes a published TLP:CLEAR "
                        "threat notice or best-practice document publicly.")
    session.add(PublicItem(item_id=item.id, published_at=utcnow(), published_by_id=actor.id))
    audit.record(session, "item.published_publicly", actor=actor, target_type=item.kind.value, target_id=item.id,
                 details={"version": item.version, "tlp": item.tlp.value})
    session.commit()


def unpublish_publicly(session: Session, actor: User, item: Item) -> None:
    """Take the item off the public side at once; audited."""
    if not access.can_unpublish_publicly(actor, item, is_public(session, item)):
        raise Forbidden("Only the originating state's point of contact takes an item off the public side.")
    publication = session.get(PublicItem, item.id)
    session.delete(publication)
    audit.record(session, "item.unpublished_publicly", actor=actor, target_type=item.kind.value, target_id=item.id,
                 details={"version": item.version, "tlp": item.tlp.value})
    session.commit()


def end_if_ineligible(session: Session, item: Item, actor: User) -> None:
    """After a lifecycle change (amended to another marking, withdrawn): end a public publication
    that no longer qualifies, in the caller's transaction. It never comes back by itself: lowering
    the item to CLEAR again needs a new, explicit publication."""
    if access.may_be_public(item):
        return
    publication = session.get(PublicItem, item.id)
    if publication is None:
        return
    session.delete(publication)
    audit.record(session, "item.public_publication_ended", actor=actor, target_type=item.kind.value,
                 target_id=item.id, details={"version": item.version, "tlp": item.tlp.value})


# --- reading (anyone) -----------------------------------------------------------------------

@dataclass(frozen=True)
class PublicEntry:
    """What the public side shows of one item: the current version's content, nothing else."""

    item: Item
    public_since: datetime


def _public_query() -> Select[Item, datetime]:
    return (select(Item, PublicItem.published_at).join(PublicItem, PublicItem.item_id == Item.id)
            .where(access.public_items_filter()))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_public(session: Session, query: str = "", page: int = 1, limit: int = PAGE_SIZE) -> list[PublicEntry]:
    """Public guidance, newest publication first; `query`: every word must appear in the title,
    summary or body (a plain, case-insensitive search over the public items only)."""
    statement = _public_query()
    for word in query.split()[:10]:
        pattern = f"%{_escape_like(word.lower())}%"
        statement = statement.where(or_(func.lower(Item.title).like(pattern, escape="\\"),
                                        func.lower(Item.summary).like(pattern, escape="\\"),
                                        func.lower(Item.body).like(pattern, escape="\\")))
    statement = statement.order_by(PublicItem.published_at.desc(), Item.id).limit(limit).offset(
        max(page - 1, 0) * limit)
    return [PublicEntry(item, since) for item, since in session.execute(statement).all()]


def get_public(session: Session, item_id: uuid.UUID) -> PublicEntry:
    """One public item; NotFound for anything else (unknown, not public, no longer CLEAR …)."""
    row = session.execute(_public_query().where(Item.id == item_id)).first()
    if row is None:
        raise NotFound()
    return PublicEntry(row[0], row[1])


def public_files(session: Session, item: Item) -> list[Attachment]:
    """The item's files the public may download (access.public_attachments_filter)."""
    return list(session.scalars(select(Attachment).join(Item, Item.id == Attachment.item_id).where(
        Attachment.item_id == item.id, access.public_attachments_filter()).order_by(Attachment.created_at)))


def files_to_publish(session: Session, item: Item) -> int:
    """How many of the item's files publishing it publicly would put on the public side."""
    return session.scalar(select(func.count()).select_from(Attachment).join(Item, Item.id == Attachment.item_id)
                          .where(Attachment.item_id == item.id, access.public_file_rule())) or 0


def _public_file(session: Session, item_id: uuid.UUID, attachment_id: uuid.UUID) -> tuple[Attachment, Item]:
    row = session.execute(select(Attachment, Item).join(Item, Item.id == Attachment.item_id).where(
        Attachment.id == attachment_id, Attachment.item_id == item_id, access.public_attachments_filter())).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def _tamper(session: Session, attachment: Attachment, item: Item, stage: str, error: Exception) -> TamperDetected:
    session.rollback()
    log.error("public attachment %s failed verification (%s): %s", attachment.id, stage, error)
    audit.record(session, "attachment.tamper_detected", actor_label=PUBLIC_ACTOR, target_type="attachment",
                 target_id=attachment.id, details={**owner_audit(item), "stage": stage})
    session.commit()
    return TamperDetected(attachment.id, str(error))


def open_public_file(session: Session, item_id: uuid.UUID, attachment_id: uuid.UUID) -> VerifiedFile:
    """The verified, decrypted file for the public: opened through the originating state's own wrap
    (the state released it publicly), after the signature, manifest and content all verify."""
    attachment, item = _public_file(session, item_id, attachment_id)
    try:
        return open_verified(session, attachment, originator_owner(item))
    except NoWrapForOwner:
        raise NotFound() from None
    except IntegrityFailure as error:
        raise _tamper(session, attachment, item, "download", error) from error


PUBLIC_MANIFEST_FORMAT = "echri-public-attachment-manifest/1"


def public_manifest(fields: dict[str, object], item: Item) -> dict[str, object]:
    """What the public bundle states about a file: the signed manifest's facts about the file and
    its signer, without who uploaded it or when, nor which version it came with (the public side
    shows no names of officials and no history)."""
    kept = ("attachment_id", "filename", "media_type", "size", "plaintext_sha256", "tlp", "signer",
            "signing_key_version", "signing_key_fingerprint")
    return {"format": PUBLIC_MANIFEST_FORMAT, "item_id": str(item.id), **{k: fields[k] for k in kept}}


def public_signature(session: Session, item_id: uuid.UUID, attachment_id: uuid.UUID) -> Bundle:
    """The offline-verifiable signature bundle (manifest.json, manifest.sig, signer.pem, VERIFY.txt).

    The stored manifest names the official who uploaded the file, so it is not handed out. Once it
    verifies, the originating state's same signing key signs the public subset of it (Ed25519 is
    deterministic: every visitor gets byte-identical bundles), checkable with stock OpenSSL."""
    attachment, item = _public_file(session, item_id, attachment_id)
    try:
        fields = verified_manifest(session, attachment, item)
        signer = keys.key_version(session, fields["signer"], KeyPurpose.SIGNING, fields["signing_key_version"])
        assert signer is not None
        manifest = canonical_manifest(public_manifest(fields, item))
        signature = sign_manifest(keys.private_key(signer), manifest)
        data = signature_bundle(manifest, signature, ck.ed25519_public_pem(signer.public_key))
    except (IntegrityFailure, CryptoError) as error:
        raise _tamper(session, attachment, item, "signature bundle", error) from error
    stem = attachment.filename.rsplit(".", 1)[0] or "attachment"
    return Bundle(f"{stem}.signature.zip", data)
