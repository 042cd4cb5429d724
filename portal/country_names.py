"""Country names for codes: every page and export shows a name, the API keeps ISO 3166-1 codes.

Below the domains (sharing, screening, consultations all use it), so imports only point down.
"""
from __future__ import annotations

from functools import lru_cache

import pycountry

# Codes in use that ISO 3166-1 has not assigned (Kosovo is one of the founding states).
EXTRA_COUNTRIES = {"XK": "Kosovo"}


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → common name, sorted by name, for pickers and the code check."""
    names = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names.update(EXTRA_COUNTRIES)
    return dict(sorted(names.items(), key=lambda kv: kv[1]))


def country_name(code: str | None) -> str:
    """The name for `code` ("" for none; an unknown code is shown as it is)."""
    if not code:
        return ""
    return country_names().get(code.upper(), code)
