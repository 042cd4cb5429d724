"""All models, imported here so that Base.metadata is complete for Alembic and the tests."""
from portal.models.api_token import ApiToken
from portal.models.attachment import Attachment, AttachmentKeyWrap
from portal.models.audit import AuditEntry
from portal.models.base import Base
from portal.models.consultation import (
    Consultation, ConsultationMessage, ConsultationOutcome, ConsultationPosition, ConsultationStatus, GrantNotice,
)
from portal.models.country import Country, CountryStatus
from portal.models.item import (
    DenialStatus, Item, ItemAudienceCountry, ItemCategory, ItemEvent, ItemEventKind, ItemKind,
    ItemStatus, ItemVersion, ItemVersionAudienceCountry, Tlp,
)
from portal.models.identity import IdentityBinding, StateIdentityProvider
from portal.models.keys import SECRETARIAT_OWNER, KeyPurpose, StateKey
from portal.models.meeting import (
    ActionItem, ActionKind, ActionStatus, AgendaItem, AgendaItemLink, AgendaVersion, Attendance, CalendarToken,
    Delegate, Meeting, MeetingInvitedState, MeetingKind, MeetingStatus, Minutes, MinutesComment, MinutesStatus,
    MinutesVersion,
)
from portal.models.notification import (
    AlertTopic, DeliveryMode, DigestCursor, Notification, OutboxMessage, OutboxStatus, Subscription,
)
from portal.models.public import (
    CONTACT_TRANSITIONS, ContactMail, ContactMessage, ContactStatus, ContactStep, OrganisationType, PublicConsultation,
    PublicItem,
)
from portal.models.oauth import ClientAuthMethod, OAuthAssertionJti, OAuthClient, OAuthToken
from portal.models.saved_form import SavedForm
from portal.models.screening import DenialParty, DenialPartyKey, DenialPartyName, Screening, ScreeningSource
from portal.models.user import AccountToken, Role, TokenPurpose, User, UserSession, UserStatus
from portal.models.webauthn import ChallengePurpose, WebAuthnChallenge, WebAuthnCredential

__all__ = [
    "CONTACT_TRANSITIONS", "SECRETARIAT_OWNER", "AccountToken", "ActionItem", "ActionKind", "ActionStatus",
    "AgendaItem", "AgendaItemLink", "AgendaVersion", "AlertTopic", "ApiToken", "Attachment", "AttachmentKeyWrap",
    "Attendance", "AuditEntry", "Base", "CalendarToken", "ChallengePurpose", "ClientAuthMethod", "Consultation",
    "ConsultationMessage", "ConsultationOutcome", "ConsultationPosition", "ConsultationStatus", "ContactMail",
    "ContactMessage", "ContactStatus", "ContactStep", "Country", "CountryStatus", "Delegate", "DeliveryMode",
    "DenialParty", "DenialPartyKey", "DenialPartyName", "DenialStatus", "DigestCursor", "GrantNotice",
    "IdentityBinding", "Item", "ItemAudienceCountry", "ItemCategory", "ItemEvent", "ItemEventKind", "ItemKind",
    "ItemStatus", "ItemVersion", "ItemVersionAudienceCountry", "KeyPurpose", "Meeting", "MeetingInvitedState",
    "MeetingKind", "MeetingStatus", "Minutes", "MinutesComment", "MinutesStatus", "MinutesVersion", "Notification",
    "OAuthAssertionJti", "OAuthClient", "OAuthToken", "OrganisationType", "OutboxMessage", "OutboxStatus",
    "PublicConsultation", "PublicItem", "Role", "SavedForm", "Screening", "ScreeningSource",
    "StateIdentityProvider", "StateKey", "Subscription", "Tlp", "TokenPurpose", "User", "UserSession", "UserStatus",
    "WebAuthnChallenge", "WebAuthnCredential",
]
