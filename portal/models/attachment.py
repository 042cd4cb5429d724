"""Encrypted, signed files attached to shared items or to consultations, and the per-state wraps of their data keys."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, new_uuid, str_enum, utcnow
from portal.models.item import Tlp
from portal.models.user import User


class Attachment(Base):
    """One file. Its content lives encrypted in storage; `manifest` holds the exact signed bytes.

    It belongs to exactly one owner: a shared item (with the item's version it was attached
    under) or a consultation between two states (wrapped for those two states only).
    """

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("(item_id IS NOT NULL AND item_version IS NOT NULL AND consultation_id IS NULL)"
                        " OR (item_id IS NULL AND item_version IS NULL AND consultation_id IS NOT NULL)",
                        name="one_owner"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    item_version: Mapped[int | None]  # the item's version when the file was attached
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))  # sanitised
    media_type: Mapped[str] = mapped_column(String(120))  # detected from the content
    size: Mapped[int] = mapped_column(BigInteger)
    plaintext_sha256: Mapped[str] = mapped_column(String(64))
    ciphertext_sha256: Mapped[str] = mapped_column(String(64))
    ciphertext_size: Mapped[int] = mapped_column(BigInteger)
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)  # server-generated
    manifest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    signer_owner: Mapped[str] = mapped_column(String(16))
    signer_key_version: Mapped[int]
    tlp: Mapped[Tlp] = mapped_column(str_enum(Tlp, "tlp"))
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by: Mapped[User | None] = relationship(lazy="joined")
    wraps: Mapped[list[AttachmentKeyWrap]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AttachmentKeyWrap.owner")


class AttachmentKeyWrap(Base):
    """The attachment's data key sealed with HPKE to one audience owner's X25519 key."""

    __tablename__ = "attachment_key_wraps"

    attachment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
    key_version: Mapped[int]  # the owner's HPKE key version the wrap was made for
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(96))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
