"""Topics applied to history: the feed window's picks, the per-topic feeds, the feed's reasons.

:mod:`.topics` decides from plain data; this module fetches that data from
history (the papers of a window, the search index as evidence) for the three
places that need it outside the newsletter: ``publish_feed`` (reasons in
``feed.atom``, one ``topics/<slug>.atom`` per topic), ``digest topics test``
and ``digest search``. A topic feed holds every paper the topic picks among
those first seen in the feed's window, newest first like the main feed, so a
topic reader misses nothing the mail's cap left out.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from ..config import Settings, TopicConfig
from ..deliver.files import write_atomically
from ..deliver.websub import ping_hub
from ..history.follow_ups import paper_events
from ..history.papers import load_papers, paper_by_arxiv_id
from ..history.search import SearchIndex, ids_since, search
from ..identity import parse_arxiv_id
from ..locations import data_files, urls
from ..model import StoredPaper
from ..render.feed import FeedMeta, render_feed
from ..render.jsonfeed import render_json_feed
from ..topics import Pick, Weights, check_queries, explain, select
from .site import feed_meta

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicFeed:
    topic: TopicConfig
    path: Path
    url: str
    entries: int
    changed: bool


def check_topics(settings: Settings, db: sqlite3.Connection) -> None:
    """ConfigError naming the topic when a topic's query is not valid FTS5 syntax."""
    where = str(settings.config_path) if settings.config_path else None
    check_queries(settings.topics, SearchIndex(db), where=where)


def feed_reasons(db: sqlite3.Connection, papers: Sequence[StoredPaper]) -> dict[int, str]:
    """The main feed's reason per paper: its signals and where it was seen (no topic)."""
    return explain([Pick(paper, 0.0) for paper in papers], SearchIndex(db))


def window_papers(db: sqlite3.Connection, since: datetime) -> list[StoredPaper]:
    """Every paper first seen since ``since``, newest first: the candidates of a window."""
    return load_papers(db, ids_since(db, since))


def window_picks(
    db: sqlite3.Connection,
    topic: TopicConfig,
    *,
    since: datetime,
    now: datetime,
    weights: Weights,
) -> list[Pick]:
    """What ``topic`` picks among the papers first seen since ``since``, best first.

    The candidate set is the whole window, as a digest's is all its papers, so
    the order is the one a mail covering that window would show.
    """
    return select(window_papers(db, since), topic, SearchIndex(db), weights, now)


def explain_picks(db: sqlite3.Connection, picks: Sequence[Pick]) -> dict[int, str]:
    """The reason line of each pick, by paper id."""
    return explain(picks, SearchIndex(db))


def search_history(
    db: sqlite3.Connection,
    query: str,
    *,
    since: datetime | None,
    limit: int,
) -> list[tuple[Pick, str]]:
    """``digest search``: the most relevant papers (bm25 alone, as ``score``), with reasons.

    A query that is an arXiv id (or abs/pdf URL) finds that paper itself.
    """
    parsed = parse_arxiv_id(query.strip()) if " " not in query.strip() else None
    if parsed is not None:
        paper = paper_by_arxiv_id(db, parsed[0])
        if paper is None:
            return []
        return [(Pick(paper, 1.0, TopicConfig("search", "search", query)), f"arXiv:{parsed[0]}")]
    matches = search(db, query, since=since, limit=limit)
    papers = load_papers(db, [match.paper_id for match in matches])
    ad_hoc = TopicConfig(slug="search", title="search", query=query)
    picks = [Pick(p, m.relevance, ad_hoc) for p, m in zip(papers, matches, strict=True)]
    reasons = explain(picks, SearchIndex(db))
    return [(pick, reasons[pick.paper.id]) for pick in picks]


def publish_topic_feeds(
    settings: Settings,
    db: sqlite3.Connection,
    now: datetime,
    *,
    client: httpx.Client | None = None,
) -> list[TopicFeed]:
    """Write ``<data-dir>/topics/<slug>.atom`` for every topic (atomically; same bytes: untouched)."""
    if not settings.topics:
        return []
    # One window for every topic: loading the papers costs more than ranking them.
    papers = window_papers(db, now - timedelta(days=settings.feed.window_days))
    weights = Weights.from_settings(settings)
    feeds = [_publish_one(settings, db, topic, papers, now, weights) for topic in settings.topics]
    hub = settings.site.websub_hub
    changed = [feed.url for feed in feeds if feed.changed]
    if hub and changed and client is not None:
        ping_hub(client, hub, changed)
    return feeds


def topic_feed_path(settings: Settings, topic: TopicConfig) -> Path:
    return data_files(settings).topic_feed(topic.slug)


def topic_feed_url(settings: Settings, topic: TopicConfig) -> str:
    return urls(settings).topic_feed(topic.slug)


def _publish_one(
    settings: Settings,
    db: sqlite3.Connection,
    topic: TopicConfig,
    papers: Sequence[StoredPaper],
    now: datetime,
    weights: Weights,
) -> TopicFeed:
    index = SearchIndex(db)
    picks = select(papers, topic, index, weights, now)
    # Newest first, like feed.atom: readers sort by date, and entries do not
    # shuffle each day as upvotes (and so scores) move.
    picks.sort(key=lambda pick: (pick.paper.first_seen, pick.paper.id), reverse=True)
    picks = picks[: settings.feed.max_entries]
    path, url = topic_feed_path(settings, topic), topic_feed_url(settings, topic)
    meta, reasons = _meta(settings, topic, url), explain(picks, index)
    papers_shown = [pick.paper for pick in picks]
    updates = paper_events(db, [paper.id for paper in papers_shown])
    changed = write_atomically(path, render_feed(papers_shown, meta, reasons, updates))
    write_atomically(
        data_files(settings).topic_json_feed(topic.slug),
        render_json_feed(papers_shown, meta, reasons, updates),
    )
    log.info(
        "feed topics/%s.atom: %d entries, %s",
        topic.slug, len(picks), "written" if changed else "unchanged",
    )  # fmt: skip
    return TopicFeed(topic, path, url, len(picks), changed)


def _meta(settings: Settings, topic: TopicConfig, url: str) -> FeedMeta:
    main = feed_meta(settings)
    return replace(
        main,
        title=f"{main.title} \u2014 {topic.title}",
        feed_id=url,
        self_url=url,
        json_url=urls(settings).topic_json_feed(topic.slug),
        subtitle=f"Papers for the topic \u201c{topic.title}\u201d, each announced once.",
    )
