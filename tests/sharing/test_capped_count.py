"""Counts stop at COUNT_CAP: "more than N" on pages and in the API, pages up to the cap, the
access filter inside the counted query. SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

from flask import Flask

from tests.sharing import helpers
from tests.sharing.helpers import api_url, audience, bearer
from tests.sharing.test_queries import counting


def _items(app: Flask, author: Any, word: str, n: int, **kwargs: Any) -> list[Any]:
    return [helpers.make_item(app, author, "denial", title=f"Capped {word} {i}", **kwargs) for i in range(n)]


def test_search_and_lists_count_up_to_the_cap(app: Flask, make_user: Any, login_as: Any) -> None:
    app.config["COUNT_CAP"] = 5
    word = helpers.unique_word()
    spoc, viewer = make_user("spoc", "NO"), make_user("officer", "DK")
    made = _items(app, spoc, word, 8, audience=audience(all_subscribing=True))
    client = login_as(app.test_client(), viewer)

    html = client.get("/search", query_string={"q": word, "per_page": 2}).get_data(as_text=True)
    assert f"More than 5 results for “{word}”" in html
    assert "Page 1 of 3 (more than 5 in all)" in html
    html = client.get("/denials/", query_string={"per_page": 2, "page": 3}).get_data(as_text=True)
    assert "Page 3 of 3 (more than 5 in all)" in html

    token = helpers.api_token(app, viewer)
    seen: list[str] = []
    for number in (1, 2, 3):
        body = client.get(api_url("denial"), query_string={"q": word, "per_page": 2, "page": number},
                          headers=bearer(token)).get_json()
        assert (body["total"], body["total_is_lower_bound"], body["pages"], body["page"]) == (5, True, 3, number)
        seen += [i["id"] for i in body["items"]]
    assert len(seen) == len(set(seen)) == 6 and set(seen) <= {str(i) for i in made}  # pages reach the cap
    body = client.get(api_url("denial"), query_string={"q": word, "per_page": 2, "page": 99}, headers=bearer(token)).get_json()
    assert body["page"] == 3  # beyond the cap: the last page within it

    app.config["COUNT_CAP"] = 8  # at the cap exactly: still exact
    body = client.get(api_url("denial"), query_string={"q": word}, headers=bearer(token)).get_json()
    assert (body["total"], body["total_is_lower_bound"]) == (8, False)
    html = client.get("/search", query_string={"q": word}).get_data(as_text=True)
    assert f"8 results for “{word}”" in html and "More than" not in html


def test_the_capped_count_keeps_the_access_filter_inside(app: Flask, make_user: Any, login_as: Any) -> None:
    app.config["COUNT_CAP"] = 5
    word = helpers.unique_word()
    spoc, viewer = make_user("spoc", "NO"), make_user("reader", "DK")
    _items(app, spoc, word, 6, audience=audience(countries=["FR"]))  # not shared with DK
    visible = _items(app, spoc, word, 3, audience=audience(countries=["DK"]))
    client = login_as(app.test_client(), viewer)
    body = client.get(api_url("denial"), query_string={"q": word}, headers=bearer(helpers.api_token(app, viewer))).get_json()
    assert (body["total"], body["total_is_lower_bound"]) == (3, False)
    assert {i["id"] for i in body["items"]} == {str(i) for i in visible}
    html = client.get("/search", query_string={"q": word}).get_data(as_text=True)
    assert f"3 results for “{word}”" in html


def test_the_count_query_is_limited(app: Flask, make_user: Any, login_as: Any) -> None:
    """The database is asked to count at most cap + 1 rows, so the count stops early."""
    app.config["COUNT_CAP"] = 1000
    spoc, viewer = make_user("spoc", "NO"), make_user("officer", "DK")
    word = helpers.unique_word()
    _items(app, spoc, word, 2, audience=audience(all_subscribing=True))
    client = login_as(app.test_client(), viewer)
    client.get("/search", query_string={"q": word})
    with counting(app) as statements:
        assert client.get("/search", query_string={"q": word}).status_code == 200
    counts = [s for s in statements if "count(" in s.lower() and "items" in s.lower() and "notifications" not in s.lower()]
    assert counts and all("LIMIT" in s.upper() for s in counts), counts
