"""Markdown to safe HTML: render with markdown-it (raw HTML off), then sanitise with bleach."""
from __future__ import annotations

from functools import lru_cache

import bleach
from markdown_it import MarkdownIt
from markupsafe import Markup

# CommonMark without raw HTML; tables and strikethrough as GFM has them.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_renderer.enable(["table", "strikethrough"])

ALLOWED_TAGS = frozenset({
    "a", "abbr", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"], "th": ["align"], "td": ["align"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


def _link_attributes(attrs: dict, new: bool = False) -> dict:  # type: ignore[type-arg]
    # Links leave the portal without telling the target where they came from.
    attrs[(None, "rel")] = "noopener noreferrer nofollow"
    return attrs


_cleaner = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                          strip=True, strip_comments=True,
                          filters=[lambda source: bleach.linkifier.LinkifyFilter(source, callbacks=[_link_attributes],
                                                                                 parse_email=False)])


# Rendering and sanitising cost about 0.4 ms for a few paragraphs, which a list of 50 items
# through the API pays for every body. The result depends only on the text and the rules
# above, so it is kept per process for bodies of ordinary length (bounded memory). It is not
# stored with the item: a tightened sanitising rule then applies to every body at the next
# start, instead of leaving HTML made under the old rule in the database.
CACHED_LENGTH, CACHED_BODIES = 20_000, 2048


def _sanitised(text: str) -> str:
    return str(_cleaner.clean(_renderer.render(text)))


_sanitised_cached = lru_cache(maxsize=CACHED_BODIES)(_sanitised)


def render(text: str) -> Markup:
    """Sanitised HTML for `text`. Sanitising runs after rendering, so nothing slips through."""
    text = text or ""
    return Markup(_sanitised_cached(text) if len(text) <= CACHED_LENGTH else _sanitised(text))
