"""Settings sealed under the master key (identity providers' client secrets), and re-sealing
them when the master key rotates, in the rotation's transaction."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.crypto.errors import KeyUnwrapError
from portal.crypto.keyprovider import KeyProvider
from portal.crypto.sealed import open_setting, seal_setting
from portal.models.identity import StateIdentityProvider

CLIENT_SECRET = "oidc-client-secret"


def seal_client_secret(provider: StateIdentityProvider, secret: str, master: KeyProvider) -> None:
    """Store `secret` sealed on the provider row, naming the master key that sealed it (no flush)."""
    provider.secret_sealed = seal_setting(master.master_key(), secret.encode("utf-8"),
                                          owner=provider.country_code, setting=CLIENT_SECRET)
    provider.secret_master_key_id = master.key_id()
    provider.secret_env = None


def open_client_secret(provider: StateIdentityProvider, master: KeyProvider) -> str:
    """The sealed client secret in clear (for the token request only)."""
    if provider.secret_sealed is None:
        raise KeyUnwrapError(f"{provider.country_code}'s identity provider has no sealed secret")
    try:
        return open_setting(master.master_key(), provider.secret_sealed, owner=provider.country_code,
                            setting=CLIENT_SECRET).decode("utf-8")
    except KeyUnwrapError:
        if provider.secret_master_key_id != master.key_id():
            raise KeyUnwrapError(
                f"{provider.country_code}'s client secret is sealed under master key {provider.secret_master_key_id}, "
                f"but the configured master key is {master.key_id()}") from None
        raise


def reseal_all(session: Session, old: KeyProvider, new: KeyProvider) -> int:
    """Re-seal every sealed client secret from the old master key to the new one (no commit)."""
    count = 0
    query = select(StateIdentityProvider).where(StateIdentityProvider.secret_sealed.is_not(None))
    for provider in session.scalars(query.order_by(StateIdentityProvider.country_code)):
        seal_client_secret(provider, open_client_secret(provider, old), new)
        count += 1
    session.flush()
    return count
