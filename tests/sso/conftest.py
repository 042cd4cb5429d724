"""Real OpenID provider processes for the single sign-on tests (started once per session)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oidc_provider import OidcProvider


def _run(provider: OidcProvider) -> Iterator[OidcProvider]:
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def idp() -> Iterator[OidcProvider]:
    """A well-behaved provider."""
    yield from _run(OidcProvider())


@pytest.fixture(scope="session")
def expired_idp() -> Iterator[OidcProvider]:
    """A provider whose ID tokens expired ten minutes before they were issued."""
    yield from _run(OidcProvider(token_max_age=-600))


@pytest.fixture(scope="session")
def other_issuer_idp() -> Iterator[OidcProvider]:
    """A provider whose ID tokens name another issuer than its discovery document."""
    yield from _run(OidcProvider(token_issuer="http://idp.elsewhere.example"))
