"""Which parser reads a payload: decided by the URL path, then by the content — never the host.

So a mirror, a saved copy on disk, or a recording served from 127.0.0.1 is read
exactly like the live site. A parser's module is imported when a payload of its
kind arrives: a run whose sources all answered 304 loads none of them
(docs/architecture.md, "Start-up: what a command loads").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from ..errors import ParseError
from ..model import Page

Parser = Callable[[bytes, str], Page]

KINDS = ("hf-api", "hf-page", "text", "arxiv-list", "arxiv-api", "arxiv-rss", "feed")


def parser_for(kind: str) -> Parser:
    """The parser of one of :data:`KINDS` (a ``KeyError`` for any other name)."""
    if kind in ("hf-api", "hf-page"):
        from . import hf

        return hf.parse_api if kind == "hf-api" else hf.parse_page
    if kind == "text":
        from . import text

        return text.parse
    if kind == "feed":
        from . import feed

        return feed.parse
    from . import arxiv

    arxiv_parsers: dict[str, Parser] = {
        "arxiv-list": arxiv.parse_listing,
        "arxiv-api": arxiv.parse_api,
        "arxiv-rss": arxiv.parse_rss,
    }
    return arxiv_parsers[kind]


# Path shapes of the real sites (docs/formats.md §1, §2, §4, §5).
_PATH_KINDS = (
    (re.compile(r"/api/(daily_papers|papers)(/|$)"), "hf-api"),
    (re.compile(r"^/papers(/(date|week|month)/|/trending|/?$)"), "hf-page"),
    (re.compile(r"^/list/[^/]+/(new|recent|pastweek)"), "arxiv-list"),
    # Month and year listings, /list/<archive>/<YYMM> and /list/<archive>/<YYYY>: /recent markup.
    (re.compile(r"^/list/[^/]+/\d{4}/?$"), "arxiv-list"),
    (re.compile(r"^/api/query"), "arxiv-api"),
)


def kind_from_url(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    for pattern, kind in _PATH_KINDS:
        if pattern.search(parts.path):
            return kind
    return None


def kind_from_content(payload: bytes, url: str) -> str:
    """Sniff the payload; raise ParseError naming the source when nothing recognises it."""
    from . import feed, text

    head = payload[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"[", b"{"):
        return "feed" if feed.looks_like_json_feed(payload) else "hf-api"
    if head[:1] == b"<":
        return _markup_kind(payload, url)
    if text.looks_like_text_listing(payload):
        return "text"
    raise ParseError(
        "layout not recognised: not JSON, a feed, an HTML listing, or a saved text listing",
        source=url,
    )


def _markup_kind(payload: bytes, url: str) -> str:
    from . import arxiv, feed

    checks: tuple[tuple[Callable[[bytes], bool], str], ...] = (
        (arxiv.looks_like_api, "arxiv-api"),
        (arxiv.looks_like_rss, "arxiv-rss"),
        (feed.looks_like_feed, "feed"),
        (lambda body: b"data-target=" in body and b"DailyPapers" in body, "hf-page"),
        (arxiv.looks_like_listing, "arxiv-list"),
    )
    for check, kind in checks:
        if check(payload):
            return kind
    title = re.search(rb"<title[^>]*>(.*?)</title>", payload[:20000], re.I | re.S)
    seen = (
        f" (page title: {title.group(1).decode('utf-8', 'replace').strip()[:80]!r})"
        if title
        else ""
    )
    raise ParseError(f"layout not recognised: an HTML page with no listing data{seen}", source=url)
