"""Every text field of shared items against a corpus of known XSS payloads.

Each payload goes into every free-text field (through the API and the forms), the item is
published, amended (change note) and, for threat notices, withdrawn (reason); then every
page that shows it is parsed with the standard library's HTML parser and must be inert:
no script but the site's own, no event-handler attribute, no javascript:/data:/vbscript:
URL, no style, no embedding or scriptable element. body_html in the API is checked too.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from tests.conftest import csrf_token
from tests.sharing import helpers
from tests.sharing.helpers import api_url, bearer, item_url, to_form
from tests.sharing.xss_corpus import PAYLOADS

MARK = "xsscorpus"
FORBIDDEN_ELEMENTS = {"iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "style", "base",
                      "img", "video", "audio", "source", "marquee", "template", "noscript", "xmp", "details"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset",
                  "dynsrc", "lowsrc", "codebase", "cite", "longdesc", "usemap", "manifest", "ping"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")


class InertnessChecker(HTMLParser):
    """Collects everything in a document that could run script or restyle the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script":
            if not values.get("src", "").startswith("/static/") or len(attrs) > 2 or set(values) - {"src", "defer"}:
                self.problems.append(f"script element {attrs!r}")
        elif tag in FORBIDDEN_ELEMENTS:
            self.problems.append(f"<{tag}> element {attrs!r}")
        elif tag == "meta" and "http-equiv" in values:
            self.problems.append(f"meta http-equiv {attrs!r}")
        elif tag == "link" and not values.get("href", "").startswith("/static/"):
            self.problems.append(f"link {attrs!r}")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r} on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>: {value!r}")
            if name in URL_ATTRIBUTES or name.endswith(":href"):
                normalised = INVISIBLE.sub("", value).lower()
                if normalised.startswith(BAD_SCHEMES):
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def inert_problems(html: str) -> list[str]:
    checker = InertnessChecker()
    checker.feed(html)
    checker.close()
    return checker.problems


def test_the_checker_catches_what_it_should() -> None:
    """The checker itself, so a silent parser cannot make the corpus test pass."""
    assert inert_problems('<script src="/static/portal.js" defer></script><p>ok</p>') == []
    for bad in ("<script>alert(1)</script>", '<img src=x onerror="alert(1)">', '<a href=" JaVa\tScRiPt:x">a</a>',
                '<a href="&#106;avascript:alert(1)">a</a>', '<p style="color:red">x</p>', "<svg></svg>",
                '<iframe src="https://example.org"></iframe>', '<a href="data:text/html,x">x</a>', "<math></math>",
                '<script src="https://evil.example/x.js"></script>', '<div onmouseover="x()">x</div>'):
        assert inert_problems(bad), bad


CHUNK = 8
CHUNKS = [PAYLOADS[i:i + CHUNK] for i in range(0, len(PAYLOADS), CHUNK)]


def test_corpus_is_big_enough() -> None:
    assert len(set(PAYLOADS)) >= 50


def _denial(i: int, p: str) -> dict[str, Any]:
    # One-line fields refuse line breaks (portal.validation): they get the payload on one line.
    line = " ".join(p.splitlines())
    return helpers.denial_payload(
        title=f"{MARK} {i} {line}"[:300], summary=p, body=p, national_ref=f"{line[:60]} #{i}",
        item_description=p, rationale=p, end_use=p,
        control_entries=[{"regime": line[:60], "code": "5A001"}],
        parties=[{"role": "end_user", "name": line, "aliases": [line, "MoHA"], "address": line, "country": "MM"},
                 {"role": "broker", "name": f"Broker {line}", "aliases": [], "address": "", "country": ""}],
        tlp="GREEN", audience=helpers.audience(all_subscribing=True))


@pytest.mark.parametrize("chunk", range(len(CHUNKS)), ids=lambda n: f"payloads-{n * CHUNK}-{n * CHUNK + CHUNK - 1}")
def test_payloads_render_inert(app: Flask, make_user: Any, login_as: Any, chunk: int) -> None:
    spoc, officer = make_user("spoc", "DK"), make_user("officer", "NO")
    spoc_token, officer_token = helpers.api_token(app, spoc), helpers.api_token(app, officer)
    author = login_as(app.test_client(), spoc)
    reader = login_as(app.test_client(), officer)
    csrf = csrf_token(author)
    pages: dict[str, str] = {}  # label -> HTML, all checked at the end
    problems: list[str] = []
    denials, notices = [], []

    def get(client: Any, label: str, url: str, **kwargs: Any) -> None:
        response = client.get(url, **kwargs)
        if response.status_code != 200:
            problems.append(f"{label}: {url} answered {response.status_code}")
        pages[label] = response.get_data(as_text=True)

    for n, p in enumerate(CHUNKS[chunk]):
        i = chunk * CHUNK + n
        # A denial through the API with the payload in every text field ...
        response = app.test_client().post(api_url("denial"), json=_denial(i, p), headers=bearer(spoc_token))
        assert response.status_code == 201, (p, response.get_json())
        denial_id = response.get_json()["id"]
        denials.append((i, p, denial_id))
        assert app.test_client().post(api_url("denial", denial_id, "/publish"),
                                      headers=bearer(spoc_token)).status_code == 200
        # ... amended through the form, the payload as the change note and in the new body;
        amended = _denial(i, p)
        amended["body"] = f"{p}\n\nversion two {p}"
        # The form keeps one party or control entry a line, its cells split by "|".
        line = p.replace("\n", " ").replace("|", "/")
        amended["parties"] = [{**party, "name": line, "address": line,
                               "aliases": [line] if party["aliases"] else []} for party in amended["parties"]]
        amended["control_entries"] = [{"regime": line[:60], "code": "5A001"}]
        response = author.post(item_url("denial", denial_id, "/amend"),
                               data=to_form("denial", amended, csrf_token=csrf, change_note=p))
        assert response.status_code == 302, (p, response.get_data(as_text=True)[:500])
        # a threat notice through the form, the payload in its texts and entities, then withdrawn with it.
        one_line = " ".join(p.splitlines())  # the title is one line (portal.validation)
        notice = helpers.threat_payload(title=f"{MARK} notice {i} {one_line}"[:300], summary=p, body=p,
                                        entities=[p, f"Entity {p}"])
        response = author.post("/threat-notices/new", data=to_form("threat_notice", notice, csrf_token=csrf))
        assert response.status_code == 302, (p, response.get_data(as_text=True)[:500])
        notice_id = response.headers["Location"].rsplit("/", 1)[1]
        notices.append((i, p, notice_id))
        assert author.post(item_url("threat_notice", notice_id, "/publish"),
                           data={"csrf_token": csrf}).status_code == 302
        get(author, f"notice {i} published, author", item_url("threat_notice", notice_id))
        get(reader, f"notice {i} published, reader", item_url("threat_notice", notice_id))
        assert author.post(item_url("threat_notice", notice_id, "/withdraw"),
                           data={"csrf_token": csrf, "reason": p}).status_code == 302

    for i, p, denial_id in denials:
        get(reader, f"denial {i} detail", item_url("denial", denial_id))
        get(reader, f"denial {i} version 1", item_url("denial", denial_id, "/versions/1"))
        get(reader, f"denial {i} version 2", item_url("denial", denial_id, "/versions/2"))
        get(author, f"denial {i} detail, originator", item_url("denial", denial_id))
        get(author, f"denial {i} amend form", item_url("denial", denial_id, "/amend"))
        get(author, f"denial {i} withdraw form", item_url("denial", denial_id, "/withdraw"))
        get(author, f"denial {i} revoke form", f"/denials/{denial_id}/revoke")
        record = reader.get(api_url("denial", denial_id), headers=bearer(officer_token)).get_json()
        assert record["body"] == f"{p}\n\nversion two {p}".strip()
        pages[f"denial {i} API body_html"] = record["body_html"]
        get(reader, f"search for payload {i}", "/search", query_string={"q": p})
        get(reader, f"list filtered by payload {i}", "/denials/", query_string={"q": p, "state": p, "tlp": p})
    for i, p, notice_id in notices:
        get(reader, f"notice {i} withdrawn, reader", item_url("threat_notice", notice_id))
        get(author, f"notice {i} withdrawn, author", item_url("threat_notice", notice_id))
    draft = helpers.make_item(app, spoc, "denial", "draft", **_denial(999, CHUNKS[chunk][0]))
    get(author, "draft edit form", item_url("denial", draft, "/edit"))
    get(author, "draft detail", item_url("denial", draft))
    get(reader, "denial list", "/denials/", query_string={"per_page": 100})
    get(reader, "notice list", "/threat-notices/", query_string={"per_page": 100})
    get(reader, "search results", "/search", query_string={"q": MARK, "per_page": 100})
    get(reader, "home", "/")
    get(author, "author's home", "/")
    get(reader, "notifications", "/notifications/")

    # The pages did show the items (an error page would be trivially inert).
    assert all(f"/denials/{d}" in pages["denial list"] for _, _, d in denials)
    assert all(f"/denials/{d}" in pages["search results"] for _, _, d in denials)
    assert all(f"/threat-notices/{n}" in pages["notice list"] for _, _, n in notices)
    assert all(f"{MARK} {i} " in pages[f"denial {i} detail"] for i, _, _ in denials)
    for label, html in pages.items():
        problems.extend(f"{label}: {problem}" for problem in inert_problems(html))
    assert not problems, "\n".join(problems[:60])


def test_markdown_keeps_its_safe_vocabulary() -> None:
    """The allow-list is not so strict that ordinary Markdown stops working."""
    from portal.sharing.markdown import render

    html = str(render("# Title\n\n**bold** and [a link](https://example.org/x?a=1&b=2)\n\n- one\n- two\n\n"
                      "| a | b |\n|---|---|\n| 1 | 2 |\n\n`code` ~~gone~~ <b>raw</b> [mail](mailto:a@example.org)"))
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<li>one</li>" in html
    assert '<a href="https://example.org/x?a=1&amp;b=2" rel="noopener noreferrer nofollow">a link</a>' in html
    assert "<table>" in html and "<code>code</code>" in html and "<s>gone</s>" in html
    assert "&lt;b&gt;raw&lt;/b&gt;" in html and 'href="mailto:a@example.org"' in html
    assert inert_problems(html) == []
    for payload in PAYLOADS:
        assert inert_problems(str(render(payload))) == [], payload


def test_payloads_render_inert_again_and_in_long_bodies() -> None:
    """A body rendered a second time (kept per process) and a body too long to keep are as inert
    as the first rendering: the same rules, whichever way the HTML is produced."""
    from portal.sharing.markdown import CACHED_LENGTH, render

    padding = "Lorem ipsum dolor sit amet.\n\n" * (CACHED_LENGTH // 28 + 1)
    for payload in PAYLOADS:
        first, again = str(render(payload)), str(render(payload))
        assert first == again and inert_problems(again) == [], payload
        long_html = str(render(padding + payload))
        assert inert_problems(long_html) == [] and long_html.endswith(first), payload
