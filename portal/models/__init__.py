"""All models, imported here so that Base.metadata is complete for Alembic and the tests."""
from portal.models.audit import AuditEntry
from portal.models.base import Base
from portal.models.country import Country, CountryStatus
from portal.models.user import AccountToken, Role, TokenPurpose, User, UserSession, UserStatus

__all__ = [
    "AccountToken", "AuditEntry", "Base", "Country", "CountryStatus", "Role", "TokenPurpose",
    "User", "UserSession", "UserStatus",
]
