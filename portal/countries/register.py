"""The founding register: the 24 states named when the Code of Conduct was published."""
from __future__ import annotations

from datetime import date

# The Code was published at the Summit for Democracy on 30 March 2023; the founding states
# endorsed it that day (the United States as its co-author and publisher).
CODE_PUBLISHED = date(2023, 3, 30)

FOUNDING_STATES: tuple[tuple[str, str], ...] = (
    ("AL", "Albania"),
    ("AU", "Australia"),
    ("BG", "Bulgaria"),
    ("CA", "Canada"),
    ("HR", "Croatia"),
    ("CZ", "Czechia"),
    ("DK", "Denmark"),
    ("EC", "Ecuador"),
    ("EE", "Estonia"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("JP", "Japan"),
    ("XK", "Kosovo"),
    ("LV", "Latvia"),
    ("NL", "Netherlands"),
    ("NZ", "New Zealand"),
    ("MK", "North Macedonia"),
    ("NO", "Norway"),
    ("KR", "Republic of Korea"),
    ("SK", "Slovakia"),
    ("ES", "Spain"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
)
