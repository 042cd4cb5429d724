"""Meetings of the Initiative: plenaries, working groups and expert meetings.

A meeting has an agenda (published versions kept as snapshots), the delegations its invited
states register, minutes (circulated for comment, adopted and then locked, every circulated
or adopted text kept as a version), and the actions and decisions it recorded.
Times are stored in UTC; `timezone` is the IANA zone the meeting happens in.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, VersionRow, new_uuid, str_enum, utcnow
from portal.models.country import Country
from portal.models.user import User


class MeetingKind(enum.StrEnum):
    PLENARY = "plenary"
    WORKING_GROUP = "working_group"
    EXPERT_MEETING = "expert_meeting"

    @property
    def label(self) -> str:
        return {"plenary": "Plenary", "working_group": "Working group", "expert_meeting": "Expert meeting"}[self.value]


class MeetingStatus(enum.StrEnum):
    DRAFT = "draft"
    ANNOUNCED = "announced"
    REGISTRATION_CLOSED = "registration_closed"
    HELD = "held"
    MINUTES_ADOPTED = "minutes_adopted"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class MeetingStep(enum.StrEnum):
    """What the secretariat does to move a meeting along its lifecycle."""

    ANNOUNCE = "announce"
    CLOSE_REGISTRATION = "close_registration"
    REOPEN_REGISTRATION = "reopen_registration"
    MARK_HELD = "mark_held"
    ADOPT_MINUTES = "adopt_minutes"
    CANCEL = "cancel"

    @property
    def label(self) -> str:
        return {"announce": "Announce", "close_registration": "Close registration",
                "reopen_registration": "Reopen registration", "mark_held": "Mark as held",
                "adopt_minutes": "Adopt the minutes", "cancel": "Cancel the meeting"}[self.value]

    @property
    def asks_for_reason(self) -> bool:
        """Taken on a page of its own that asks why (everyone invited is told)."""
        return self is MeetingStep.CANCEL

    @property
    def confirmation(self) -> str | None:
        """The question asked before a step that e-mails the invited states."""
        if self is MeetingStep.ANNOUNCE:
            return "Announce the meeting and e-mail the invited points of contact?"
        return None


# The lifecycle, one table read by the service (to move), access.py (to allow) and the pages
# (to offer): each step, the statuses it may be taken from, and the status it leads to.
MEETING_TRANSITIONS: dict[MeetingStep, tuple[frozenset[MeetingStatus], MeetingStatus]] = {
    MeetingStep.ANNOUNCE: (frozenset({MeetingStatus.DRAFT}), MeetingStatus.ANNOUNCED),
    MeetingStep.CLOSE_REGISTRATION: (frozenset({MeetingStatus.ANNOUNCED}), MeetingStatus.REGISTRATION_CLOSED),
    MeetingStep.REOPEN_REGISTRATION: (frozenset({MeetingStatus.REGISTRATION_CLOSED}), MeetingStatus.ANNOUNCED),
    MeetingStep.MARK_HELD: (frozenset({MeetingStatus.ANNOUNCED, MeetingStatus.REGISTRATION_CLOSED}),
                            MeetingStatus.HELD),
    MeetingStep.ADOPT_MINUTES: (frozenset({MeetingStatus.HELD}), MeetingStatus.MINUTES_ADOPTED),
    MeetingStep.CANCEL: (frozenset({MeetingStatus.DRAFT, MeetingStatus.ANNOUNCED, MeetingStatus.REGISTRATION_CLOSED}),
                         MeetingStatus.CANCELLED),
}
# Details, agenda and invitations change until the meeting is held or cancelled.
OPEN_FOR_CHANGES = MEETING_TRANSITIONS[MeetingStep.CANCEL][0]


class Attendance(enum.StrEnum):
    IN_PERSON = "in_person"
    REMOTE = "remote"

    @property
    def label(self) -> str:
        return "In person" if self is Attendance.IN_PERSON else "Remote"


class MinutesStatus(enum.StrEnum):
    DRAFT = "draft"
    CIRCULATED = "circulated"
    ADOPTED = "adopted"


class ActionKind(enum.StrEnum):
    ACTION = "action"
    DECISION = "decision"


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("registration_deadline <= starts_at", name="deadline_before_start"),
        CheckConstraint("online_url IS NULL OR online_url LIKE 'https://%'", name="online_url_https"),
        Index("ix_meetings_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind, "meeting_kind"))
    status: Mapped[MeetingStatus] = mapped_column(str_enum(MeetingStatus, "meeting_status"),
                                                  default=MeetingStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. Europe/Copenhagen
    venue: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str | None] = mapped_column(String(500))
    registration_deadline: Mapped[datetime]
    invite_all_subscribing: Mapped[bool] = mapped_column(default=True)
    invite_observers: Mapped[bool] = mapped_column(default=False)
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE: bumped when an announced meeting changes
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    announced_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    # Invited states without a point of contact whose active users the secretariat chose to reach
    # instead (at announcement); later invitation notices reach them too while they still have no SPOC.
    fallback_states: Mapped[list[str]] = mapped_column(JSON, default=list)

    invited_states: Mapped[list[MeetingInvitedState]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MeetingInvitedState.country_code")

    @property
    def named_states(self) -> list[str]:
        return [s.country_code for s in self.invited_states]

    @property
    def is_open_for_changes(self) -> bool:
        """Details and agenda change until the meeting is held (or cancelled)."""
        return self.status in OPEN_FOR_CHANGES

    @property
    def is_announced(self) -> bool:
        """Invited states see it (announced at some point, whatever happened since)."""
        return self.status is not MeetingStatus.DRAFT


class MeetingInvitedState(Base):
    """A subscribing state invited by name (besides, or instead of, all subscribing states)."""

    __tablename__ = "meeting_invited_states"

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), primary_key=True, index=True)


class AgendaItem(Base):
    __tablename__ = "meeting_agenda_items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    lead_state_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead_state: Mapped[Country | None] = relationship(lazy="joined")
    links: Mapped[list[AgendaItemLink]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AgendaItemLink.position")

    @property
    def linked_item_ids(self) -> list[uuid.UUID]:
        return [link.item_id for link in self.links]


class AgendaItemLink(Base):
    """A shared item (e.g. a best-practice document) linked from an agenda item."""

    __tablename__ = "meeting_agenda_links"

    agenda_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meeting_agenda_items.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)


class AgendaVersion(Base, VersionRow):
    """The agenda as published to the invited states at one moment (kept for ever)."""

    __tablename__ = "meeting_agenda_versions"
    __table_args__ = (UniqueConstraint("meeting_id", "version", name="uq_meeting_agenda_versions_meeting_version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    snapshot: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Whom the meeting invited when this version was published (see access.can_view_agenda_version).
    invite_all_subscribing: Mapped[bool] = mapped_column(default=False)
    invite_observers: Mapped[bool] = mapped_column(default=False)
    invited_states: Mapped[list[str]] = mapped_column(JSON, default=list)

    @property
    def named_states(self) -> list[str]:
        return list(self.invited_states or [])


class Delegate(Base):
    """One member of a state's delegation to a meeting."""

    __tablename__ = "meeting_delegates"
    __table_args__ = (
        # One head of delegation per state and meeting.
        Index("uq_meeting_delegates_head", "meeting_id", "country_code", unique=True,
              sqlite_where=text("is_head"), postgresql_where=text("is_head")),
        # One address once per state's delegation: per state, so that a duplicate in another
        # state's delegation (which this state may not see) is never confirmed to it.
        UniqueConstraint("meeting_id", "country_code", "email", name="uq_meeting_delegates_meeting_country_email"),
        Index("ix_meeting_delegates_meeting_country", "meeting_id", "country_code"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254))  # lower-cased
    attendance: Mapped[Attendance] = mapped_column(str_enum(Attendance, "attendance"))
    is_head: Mapped[bool] = mapped_column(default=False)
    registered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    country: Mapped[Country] = relationship(lazy="joined")


class Minutes(Base):
    """The minutes of one meeting; `body` is the secretariat's working Markdown text."""

    __tablename__ = "meeting_minutes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), unique=True)
    status: Mapped[MinutesStatus] = mapped_column(str_enum(MinutesStatus, "minutes_status"),
                                                  default=MinutesStatus.DRAFT)
    body: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=0)  # the last circulated or adopted version
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    adopted_at: Mapped[datetime | None]
    adopted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def is_locked(self) -> bool:
        return self.status is MinutesStatus.ADOPTED


class MinutesVersion(Base, VersionRow):
    """A text of the minutes as circulated or adopted."""

    __tablename__ = "meeting_minutes_versions"
    __table_args__ = (UniqueConstraint("minutes_id", "version", name="uq_meeting_minutes_versions_minutes_version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    minutes_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting_minutes.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    status: Mapped[MinutesStatus] = mapped_column(str_enum(MinutesStatus, "minutes_status"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def is_adopted(self) -> bool:
        return self.status is MinutesStatus.ADOPTED


class MinutesComment(Base):
    """A state's comment on circulated minutes: seen by the secretariat and that state only."""

    __tablename__ = "meeting_minutes_comments"
    __table_args__ = (Index("ix_meeting_minutes_comments_minutes_country", "minutes_id", "country_code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    minutes_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting_minutes.id", ondelete="CASCADE"))
    minutes_version: Mapped[int]
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")
    country: Mapped[Country] = relationship(lazy="joined")


class ActionItem(Base):
    """An action (with an owner state, due date and status) or a decision recorded at a meeting."""

    __tablename__ = "meeting_actions"
    __table_args__ = (Index("ix_meeting_actions_owner_status", "owner_state_code", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ActionKind] = mapped_column(str_enum(ActionKind, "action_kind"), default=ActionKind.ACTION)
    text: Mapped[str] = mapped_column(Text)
    owner_state_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))  # NULL: the secretariat
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus, "action_status"), default=ActionStatus.OPEN)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting] = relationship(lazy="joined")
    owner_state: Mapped[Country | None] = relationship(lazy="joined")

    def is_overdue(self, today: date) -> bool:
        return (self.kind is ActionKind.ACTION and self.status is ActionStatus.OPEN
                and self.due_date is not None and self.due_date < today)


class CalendarToken(Base):
    """A user's private calendar-feed address. Only the SHA-256 of the token is stored."""

    __tablename__ = "calendar_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
