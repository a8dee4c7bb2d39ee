"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) beside every Atom feed.

The same papers as the Atom feed, with the same ids (``paper.uid``), so a
reader that switches format sees no entry twice. Like the Atom feed the bytes
are a pure function of the input: keys in a fixed order, no clock, so the same
papers give the same ETag. Untrusted text is escaped for ``content_html`` and
only http(s) links are emitted (:func:`.links.paper_link`).

A paper's follow-ups open its item as they open the Atom entry's summary
(``Update: …``, newest first, in ``summary`` and ``content_html``); the item
keeps its id and its ``date_modified`` is the paper's ``updated``, bumped when
the follow-up was recorded.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..model import FollowUp, StoredPaper
from .entry import entry_html, feed_extras, paper_entry
from .feed import SUMMARY_AUTHORS, FeedMeta, categories
from .follow_ups import feed_lines
from .links import config_url, paper_link
from .text import plain

VERSION = "https://jsonfeed.org/version/1.1"
MEDIA_TYPE = "application/feed+json"


def render_json_feed(
    papers: Sequence[StoredPaper],
    meta: FeedMeta,
    reasons: Mapping[int, str] | None = None,
    updates: Mapping[int, Sequence[FollowUp]] | None = None,
) -> bytes:
    """JSON Feed 1.1 for ``papers`` in the order given (newest first, as the Atom feed).

    ``updates`` are each paper's follow-ups, oldest first (as :func:`.feed.render_feed` takes them).
    """
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
    document["items"] = [
        _item(
            number,
            paper,
            (reasons or {}).get(paper.id),
            feed_lines((updates or {}).get(paper.id, ())),
        )
        for number, paper in enumerate(papers, start=1)
    ]
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def _item(
    number: int, paper: StoredPaper, reason: str | None, news: Sequence[str]
) -> dict[str, Any]:
    # The Atom summary's facts in the same order (render/entry.py).
    entry = paper_entry(number, paper, reason, authors_shown=SUMMARY_AUTHORS)
    item: dict[str, Any] = {
        # The Atom entry's id, fixed in history at first sight: never derived here.
        "id": paper.uid,
        "url": paper_link(paper),
        "title": plain(paper.title) or "(untitled)",
        # The news first, as in the Atom summary; then the entry as every feed shows it.
        "content_html": "\n".join(
            [
                *(f"<p>{html.escape(line)}</p>" for line in news),
                entry_html(entry, feed_extras(paper)),
            ]
        ),
    }
    # Plain text like the Atom summary: the update lines, a blank line, then the TL;DR.
    summary = "\n\n".join(filter(None, ["\n".join(news), entry.tldr]))
    if summary:
        item["summary"] = summary
    item["date_published"] = _stamp(paper.first_seen)
    item["date_modified"] = _stamp(paper.updated)
    # An author count ("11 authors") is a fact for the summary, never an author's name.
    authors = [{"name": name} for name in map(plain, paper.authors) if name]
    if authors:
        item["authors"] = authors
    tags = [term for term, _ in categories(paper)]  # the Atom entry's categories
    if tags:
        item["tags"] = tags
    return item


def _stamp(moment: datetime) -> str:
    # RFC 3339 with "Z", seconds precision: the same instants the Atom feed shows.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
