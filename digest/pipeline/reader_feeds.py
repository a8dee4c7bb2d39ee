"""Private per-reader feeds: the papers a reader's newsletter holds, at a signed URL of their own.

``/readers/<token>/feed.atom`` (and ``feed.json``) holds the papers of the
feed window that the reader's topics pick, exactly as their newsletter picks
them (:func:`.topics.for_reader`), newest first like every feed. A reader
without topics gets every paper. The token signs the reader's id and their
feed generation: a forged token, or one from before they unsubscribed (which
bumps the generation), finds no feed, and the web answers 404.

A paper's follow-ups open its entry as in the public feed (docs/follow-ups.md
§4), unless the reader turned updates off: then their feed shows no
``Update: …`` lines, as their mail shows no Updates section.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ..config import Settings
from ..history.follow_ups import paper_events
from ..history.search import SearchIndex
from ..history.subscribers import Subscriber, get_subscriber
from ..locations import urls
from ..model import StoredPaper
from ..render.feed import render_feed
from ..render.jsonfeed import render_json_feed
from ..tokens import TokenError, Tokens
from ..topics import Weights, explain, for_reader
from .selection import window_papers
from .site import feed_meta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReaderFeed:
    body: bytes
    last_modified: datetime


def feed_urls(settings: Settings, tokens: Tokens, reader: Subscriber) -> tuple[str, str]:
    """The reader's (Atom, JSON Feed) URLs."""
    token = tokens.for_feed(reader.id, reader.feed_generation)
    return urls(settings).reader_feed(token, "atom"), urls(settings).reader_feed(token, "json")


def reader_of(db: sqlite3.Connection, tokens: Tokens, token: str) -> Subscriber | None:
    """The active reader a feed token belongs to, or None (forged, revoked, unsubscribed)."""
    try:
        reader_id, generation = tokens.feed_owner(token)
    except TokenError:
        return None
    reader = get_subscriber(db, reader_id)
    if reader is None or reader.status != "active" or reader.feed_generation != generation:
        return None
    return reader


def render_reader_feed(
    settings: Settings,
    db: sqlite3.Connection,
    tokens: Tokens,
    token: str,
    *,
    kind: str,
    now: datetime,
) -> ReaderFeed | None:
    """The reader's feed as ``kind`` ("atom" or "json"), or None when the token finds no reader."""
    reader = reader_of(db, tokens, token)
    if reader is None:
        return None
    papers, reasons = reader_papers(settings, db, reader, now)
    atom_url, json_url = feed_urls(settings, tokens, reader)
    meta = replace(
        feed_meta(settings),
        title=f"{settings.site.title} \u2014 for {reader.name or reader.email}",
        feed_id=atom_url,
        self_url=atom_url,
        json_url=json_url,
        subtitle="The papers of your newsletter (your topics). This address is yours: keep it private.",
        hub_url=None,  # a private feed is never announced to a hub
    )
    updates = paper_events(db, [paper.id for paper in papers]) if reader.updates else {}
    body = (
        render_feed(papers, meta, reasons, updates)
        if kind == "atom"
        else render_json_feed(papers, meta, reasons, updates)
    )
    modified = max((paper.updated for paper in papers), default=_EPOCH)
    return ReaderFeed(body, modified)


def reader_papers(
    settings: Settings, db: sqlite3.Connection, reader: Subscriber, now: datetime
) -> tuple[list[StoredPaper], dict[int, str]]:
    """What the reader's topics pick in the feed window, newest first, with each pick's reason."""
    index = SearchIndex(db)
    topics = tuple(topic for topic in settings.topics if topic.slug in reader.topics)
    window = window_papers(db, now - timedelta(days=settings.feed.window_days))
    sections = for_reader(window, topics, index, Weights.from_settings(settings), now)
    picks = [pick for section in sections for pick in section.picks]
    picks.sort(key=lambda pick: (pick.paper.first_seen, pick.paper.id), reverse=True)
    picks = picks[: settings.feed.max_entries]
    return [pick.paper for pick in picks], explain(picks, index)
