"""All models, imported here so that Base.metadata is complete for Alembic and the tests."""
from portal.models.api_token import ApiToken
from portal.models.audit import AuditEntry
from portal.models.base import Base
from portal.models.country import Country, CountryStatus
from portal.models.item import (
    DenialStatus, Item, ItemAudienceCountry, ItemCategory, ItemEvent, ItemEventKind, ItemKind,
    ItemStatus, ItemVersion, Tlp,
)
from portal.models.user import AccountToken, Role, TokenPurpose, User, UserSession, UserStatus

__all__ = [
    "AccountToken", "ApiToken", "AuditEntry", "Base", "Country", "CountryStatus", "DenialStatus", "Item",
    "ItemAudienceCountry", "ItemCategory", "ItemEvent", "ItemEventKind", "ItemKind", "ItemStatus",
    "ItemVersion", "Role", "Tlp", "TokenPurpose", "User", "UserSession", "UserStatus",
]
