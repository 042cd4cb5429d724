"""A screening runs over the denials the screener may see: the access filter is inside the
candidate query, so an invisible denial neither matches nor changes what visible ones score."""
from __future__ import annotations

from typing import Any

from tests.screening.conftest import party
from tests.sharing.helpers import audience

NAME = "Spetstekhnika LLC"


def test_a_denial_the_screener_may_not_see_never_matches(make_user: Any, publish_denial: Any,
                                                         screen_as: Any) -> None:
    publish_denial([party(NAME, "RU")], state="DK", tlp="RED", audience=audience(countries=["NO"]))
    outsider, insider, reader = make_user("officer", "DE"), make_user("officer", "NO"), make_user("reader", "NO")
    assert screen_as(outsider, ["Spetstekhnika"], threshold=0.0, include_inactive=True) == [[]]
    assert screen_as(reader, ["Spetstekhnika"], threshold=0.0) == [[]]  # readers never see TLP:RED
    assert [m.party_name for m in screen_as(insider, ["Spetstekhnika"])[0]] == [NAME]
    admin = make_user("admin", None)
    assert screen_as(admin, ["Spetstekhnika"], threshold=0.0, include_inactive=True) == [[]]


def test_an_invisible_denial_changes_no_score(make_user: Any, publish_denial: Any, screen_as: Any) -> None:
    outsider = make_user("officer", "DE")
    publish_denial([party(NAME, "RU"), party("Spetstekhnika Trading", "RU")])
    inputs = ["Spetstekhnika", "Spetstehnika Trading LLC", "Specztechnika"]
    before = screen_as(outsider, inputs, threshold=0.0)
    for _ in range(3):  # many near-identical names that DE may not see
        publish_denial([party(NAME, "RU"), party("Spetstekhnika", "RU"), party("Spetstekhnika Trading", "BY")],
                       state="NO", tlp="AMBER", audience=audience(countries=["FR"]))
    after = screen_as(outsider, inputs, threshold=0.0)
    assert [[(m.party_id, m.score, m.features) for m in ms] for ms in after] == \
        [[(m.party_id, m.score, m.features) for m in ms] for ms in before]
    assert any(before)
