"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) beside every Atom feed.

The same papers as the Atom feed, with the same ids (``paper.uid``), so a
reader that switches format sees no entry twice. Like the Atom feed the bytes
are a pure function of the input: keys in a fixed order, no clock, so the same
papers give the same ETag. Untrusted text is escaped for ``content_html`` and
only http(s) links are emitted (:func:`.links.paper_link`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..model import StoredPaper
from .feed import FeedMeta
from .links import config_url, paper_link
from .text import authors_line, plain, plural, tldr

VERSION = "https://jsonfeed.org/version/1.1"
MEDIA_TYPE = "application/feed+json"
_CONTENT_AUTHORS = 20


def render_json_feed(
    papers: Sequence[StoredPaper],
    meta: FeedMeta,
    reasons: Mapping[int, str] | None = None,
) -> bytes:
    """JSON Feed 1.1 for ``papers`` in the order given (newest first, as the Atom feed)."""
    if not meta.json_url:
        raise ValueError("FeedMeta.json_url is needed for a JSON Feed (its feed_url)")
    document: dict[str, Any] = {
        "version": VERSION,
        "title": plain(meta.title),
        "home_page_url": config_url(meta.site_url, "FeedMeta.site_url"),
        "feed_url": config_url(meta.json_url, "FeedMeta.json_url"),
    }
    if meta.subtitle:
        document["description"] = plain(meta.subtitle)
    document["authors"] = [{"name": plain(meta.author_name)}]
    document["language"] = meta.language
    document["items"] = [_item(paper, (reasons or {}).get(paper.id)) for paper in papers]
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def _item(paper: StoredPaper, reason: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        # The Atom entry's id, fixed in history at first sight: never derived here.
        "id": paper.uid,
        "url": paper_link(paper),
        "title": plain(paper.title) or "(untitled)",
        "content_html": _content_html(paper, reason),
    }
    summary = tldr(paper.abstract)
    if summary:
        item["summary"] = summary
    item["date_published"] = _stamp(paper.first_seen)
    item["date_modified"] = _stamp(paper.updated)
    # An author count ("11 authors") is a fact for the summary, never an author's name.
    authors = [{"name": name} for name in map(plain, paper.authors) if name]
    if authors:
        item["authors"] = authors
    tags = [term for term in map(plain, paper.categories) if term]
    if tags:
        item["tags"] = tags
    return item


def _content_html(paper: StoredPaper, reason: str | None) -> str:
    facts = [
        f"arXiv:{plain(paper.arxiv_id)}" if paper.arxiv_id else "",
        authors_line(paper.authors, paper.author_count, _CONTENT_AUTHORS),
        plain(paper.organization),
        plural(paper.upvotes, "upvote") if paper.upvotes is not None else "",
        f"Why: {plain(reason)}" if reason else "",
    ]
    parts = [f"<p>{html.escape(fact)}</p>" for fact in facts if fact]
    abstract = plain(paper.abstract)
    if abstract:
        parts.append(f"<p>{html.escape(abstract)}</p>")
    link = html.escape(paper_link(paper), quote=True)
    parts.append(f'<p><a href="{link}">{html.escape(link)}</a></p>')
    return "\n".join(parts)


def _stamp(moment: datetime) -> str:
    # RFC 3339 with "Z", seconds precision: the same instants the Atom feed shows.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
