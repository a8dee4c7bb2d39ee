"""The Atom feed: one entry per paper, byte-identical for the same input.

This module and :mod:`.atom_generator` are the only ones that import feedgen,
so its quirks are handled in one place (docs/standards.md §3). They are
imported when a feed is rendered, not with this module: a run in which no
feed changed renders none and loads neither feedgen nor lxml. feedgen stamps ``datetime.now()`` into
every feed and entry ``updated`` and its own version into ``generator``; all
of them are overwritten here, because a rebuild of the same papers must give
the same bytes and so the same ETag (docs/standards.md §3.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..model import FollowUp, StoredPaper
from .entry import entry_text, feed_extras, paper_entry
from .follow_ups import feed_lines
from .links import config_url, paper_link, safe_http_url
from .templates import shipped_folder
from .text import plain

if TYPE_CHECKING:
    from feedgen.entry import FeedEntry
    from feedgen.feed import FeedGenerator

# An empty feed still needs an <updated> (RFC 4287 §4.1.1); a fixed epoch keeps
# it deterministic instead of "now".
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GENERATOR_URI = "https://github.com/digest-papers/digest"
# Author elements carry every name; the summary's authors line stops here, then
# "et al." (collaborations list thousands of authors).
SUMMARY_AUTHORS = 20
# Category schemes: arXiv's own (as its API writes it) and one for Hugging Face's keywords.
ARXIV_SCHEME = "http://arxiv.org/schemas/atom"
HF_KEYWORDS_SCHEME = "https://huggingface.co/papers#ai_keywords"


@dataclass(frozen=True)
class FeedMeta:
    """Feed-level settings; ``feed_id`` is a permanent URI the operator chose once."""

    title: str
    feed_id: str
    self_url: str
    site_url: str
    author_name: str
    subtitle: str = ""
    # RFC 5005 archived feeds: the live feed links rel="prev-archive" to the newest
    # archive document; an archive document (``archive=True``) links rel="current"
    # to the live feed and to its neighbours.
    prev_archive_url: str | None = None
    next_archive_url: str | None = None
    current_url: str | None = None
    archive: bool = False
    hub_url: str | None = None  # WebSub hub, advertised as rel="hub"
    language: str = "en"  # xml:lang of the feed, the JSON Feed's "language"
    json_url: str | None = None  # the JSON Feed twin, linked rel="alternate"
    # An XSLT a browser applies (``<?xml-stylesheet?>``) so the feed reads as a page.
    stylesheet_url: str | None = None


def render_feed(
    papers: Sequence[StoredPaper],
    meta: FeedMeta,
    reasons: Mapping[int, str] | None = None,
    updates: Mapping[int, Sequence[FollowUp]] | None = None,
) -> bytes:
    """Atom 1.0 (RFC 4287) for ``papers`` in the order given (the caller sorts newest first).

    A paper's follow-ups (``updates``) open its summary; its entry keeps its id, and
    its ``updated`` (bumped when the follow-up was recorded) tells readers it changed.
    """
    generator = _feed_generator(papers, meta)
    for number, paper in enumerate(papers, start=1):
        reason = (reasons or {}).get(paper.id)
        news = (updates or {}).get(paper.id, ())
        generator.add_entry(_entry(number, paper, reason, news), order="append")
        generator.related[paper.uid] = related_links(paper)
    feed: bytes = generator.atom_str(pretty=True)
    if meta.stylesheet_url:
        feed = _with_stylesheet(feed, config_url(meta.stylesheet_url, "FeedMeta.stylesheet_url"))
    return feed


def feed_stylesheet() -> bytes:
    """The XSLT (templates/web/feed.xsl) that makes an Atom feed read as a page in a browser."""
    return (shipped_folder() / "web" / "feed.xsl").read_bytes()


def feed_as_page(feed: bytes) -> bytes:
    """The Atom feed as the HTML page its stylesheet makes of it, transformed here.

    Chromium dropped XSLT (version 155), so ``digest serve`` applies the same
    stylesheet itself for a browser opening a feed; browsers that still run
    XSLT get the same page from the ``<?xml-stylesheet?>`` instruction when a
    static server serves the files. The transform may read nothing else.
    """
    from lxml import etree

    deny = etree.XSLTAccessControl.DENY_ALL
    transform = etree.XSLT(etree.fromstring(feed_stylesheet()), access_control=deny)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return bytes(transform(etree.fromstring(feed, parser)))


def _with_stylesheet(feed: bytes, href: str) -> bytes:
    """The processing instruction goes right after the XML declaration, before the root."""
    declaration, newline, rest = feed.partition(b"\n")
    instruction = f'<?xml-stylesheet type="text/xsl" href="{escape(href, quote=True)}"?>'
    return declaration + newline + instruction.encode() + b"\n" + rest


def _feed_generator(papers: Sequence[StoredPaper], meta: FeedMeta) -> FeedGenerator:
    from .atom_generator import AtomGenerator

    generator = AtomGenerator()
    generator.archive_document = meta.archive
    generator.id(meta.feed_id)
    generator.title(plain(meta.title))
    generator.language(meta.language)  # feedgen writes it as xml:lang on <feed>
    if meta.subtitle:
        generator.subtitle(plain(meta.subtitle))
    # A feed-level author satisfies RFC 4287 §4.1.1 for entries that have none.
    generator.author({"name": plain(meta.author_name)})
    generator.link(
        href=config_url(meta.self_url, "FeedMeta.self_url"),
        rel="self",
        type="application/atom+xml",
    )
    generator.link(
        href=config_url(meta.site_url, "FeedMeta.site_url"), rel="alternate", type="text/html"
    )
    if meta.json_url:
        generator.link(
            href=config_url(meta.json_url, "FeedMeta.json_url"),
            rel="alternate",
            type="application/feed+json",
        )
    for rel, url in (
        ("hub", meta.hub_url),
        ("current", meta.current_url),
        ("prev-archive", meta.prev_archive_url),
        ("next-archive", meta.next_archive_url),
    ):
        if url:
            kind = {} if rel == "hub" else {"type": "application/atom+xml"}
            generator.link(href=config_url(url, f"FeedMeta.{rel}"), rel=rel, **kind)
    generator.generator("digest", uri=_GENERATOR_URI)  # no version: upgrades keep the ETag
    generator.updated(max((_utc(p.updated) for p in papers), default=_EPOCH))
    return generator


def _entry(
    number: int, paper: StoredPaper, reason: str | None, news: Sequence[FollowUp] = ()
) -> FeedEntry:
    from feedgen.entry import FeedEntry

    entry = FeedEntry()
    # uid is the permanent id history fixed at first sight; never derive it here.
    entry.id(paper.uid)
    entry.title(plain(paper.title) or "(untitled)")
    entry.link(href=paper_link(paper), rel="alternate", type="text/html")
    entry.published(_utc(paper.first_seen))
    entry.updated(_utc(paper.updated))
    for name in _author_names(paper):
        entry.author({"name": name})
    for term, scheme in categories(paper):
        entry.category({"term": term, "scheme": scheme})
    summary = _summary(number, paper, reason)
    if news:
        summary = "\n".join([*feed_lines(news), "", summary])
    entry.summary(summary, type="text")
    return entry


@dataclass(frozen=True)
class RelatedLink:
    """One of an entry's ``link rel="related"``: a titled way in besides the abstract page."""

    title: str
    href: str
    type: str | None = None


def related_links(paper: StoredPaper) -> list[RelatedLink]:
    """PDF, Hugging Face page, code, project page and DOI, each only when known and http(s)."""
    details = paper.details
    pdf = details.pdf_url or (
        f"https://arxiv.org/pdf/{quote(paper.arxiv_id)}" if paper.arxiv_id else None
    )
    candidates = (
        ("PDF", pdf, "application/pdf"),
        ("Hugging Face", details.hf_url, "text/html"),
        ("Code", details.github_repo, "text/html"),
        ("Project page", details.project_page, "text/html"),
        ("DOI", f"https://doi.org/{quote(paper.doi)}" if paper.doi else None, None),
    )
    alternate = paper_link(paper)
    links: list[RelatedLink] = []
    for title, url, kind in candidates:
        href = safe_http_url(url)
        if href and href != alternate and all(link.href != href for link in links):
            links.append(RelatedLink(title, href, kind))
    return links


def categories(paper: StoredPaper) -> list[tuple[str, str]]:
    """(term, scheme): arXiv's categories, the primary first (a listing may not give it
    first), then Hugging Face's keywords in their own scheme so readers can tell them apart."""
    primary = paper.details.primary_category
    terms = [primary, *paper.categories] if primary else list(paper.categories)
    arxiv = dict.fromkeys(term for term in map(plain, terms) if term)
    keywords = dict.fromkeys(filter(None, map(plain, paper.details.ai_keywords)))
    return [(term, ARXIV_SCHEME) for term in arxiv] + [
        (term, HF_KEYWORDS_SCHEME) for term in keywords
    ]


def _author_names(paper: StoredPaper) -> list[str]:
    # Only names: a source that gave a count ("11 authors") gave no author to name,
    # and the feed-level author covers RFC 4287's rule; the count is in the summary.
    return [name for name in map(plain, paper.authors) if name]


def _summary(number: int, paper: StoredPaper, reason: str | None) -> str:
    """Plain text in the mail's order of facts (render/entry.py), with the full abstract."""
    entry = paper_entry(number, paper, reason, authors_shown=SUMMARY_AUTHORS)
    return entry_text(entry, feed_extras(paper))


def _utc(moment: datetime) -> datetime:
    # Model times are aware UTC; a naive one is read as UTC, never as the
    # machine's local time, so the bytes do not depend on where we run.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Seconds are precise enough for readers and keep the text short and stable.
    return moment.astimezone(UTC).replace(microsecond=0)
