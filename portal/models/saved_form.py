"""A form posted after its sender's session had ended, kept briefly so nothing typed is lost."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class SavedForm(Base):
    """What someone typed into a form their session had already ended for: kept under their
    account, encrypted, for a short while, and given back to that form when they sign in again."""

    __tablename__ = "saved_forms"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))  # the form's own page (same site, never a full URL)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # the fields, encrypted (portal.recovery)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
