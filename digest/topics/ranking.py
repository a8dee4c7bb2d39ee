"""Ranking: a topic's picks among candidate papers, scored and ordered; a reader's sections.

The score formula is documented in the package docstring (:mod:`digest.topics`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..config import Settings, TopicConfig
from ..errors import ConfigError, QueryError
from ..model import StoredPaper
from .filters import passes_filters
from .reasons import Sighting, reason

FRESHNESS_HALF_LIFE_DAYS = 7.0
_MAX_COUNT = 10**9  # what history stores at most; anything past it is not a count


class Evidence(Protocol):
    """What ranking needs from history (:class:`digest.history.search.SearchIndex`)."""

    def relevance(self, query: str, ids: Collection[int]) -> Mapping[int, float]:
        """Negated bm25 of the papers among ``ids`` that ``query`` matches."""
        ...

    def matched_terms(self, query: str, ids: Collection[int]) -> Mapping[int, Sequence[str]]:
        """The words of each paper's text that ``query`` matched."""
        ...

    def sightings(self, ids: Collection[int]) -> Mapping[int, Sequence[Sighting]]:
        """Where each paper was seen, first sighting first."""
        ...

    def check(self, query: str) -> None:
        """Raise QueryError unless ``query`` parses."""
        ...


@dataclass(frozen=True)
class Weights:
    """The ``[ranking]`` settings: how much each signal counts."""

    relevance: float = 1.0
    upvotes: float = 0.5
    comments: float = 0.2
    freshness: float = 0.3

    @classmethod
    def from_settings(cls, settings: Settings) -> Weights:
        ranking = settings.ranking
        return cls(ranking.relevance, ranking.upvotes, ranking.comments, ranking.freshness)


@dataclass(frozen=True)
class Pick:
    """One paper a topic (or the whole digest, ``topic=None``) picked, with its score."""

    paper: StoredPaper
    score: float
    topic: TopicConfig | None = None


@dataclass(frozen=True)
class Section:
    """One topic's part of a reader's mail (``topic=None``: everything, no heading)."""

    topic: TopicConfig | None
    picks: tuple[Pick, ...]


def select(
    papers: Sequence[StoredPaper],
    topic: TopicConfig | None,
    evidence: Evidence,
    weights: Weights,
    now: datetime,
) -> list[Pick]:
    """The papers ``topic`` picks from ``papers`` (None: all of them), best first.

    Reasons are a separate step (:func:`explain`), for the picks that are shown:
    finding the words a query matched costs more than ranking.
    """
    return [
        Pick(paper, score, topic) for score, paper in _scored(papers, topic, evidence, weights, now)
    ]


def explain(picks: Sequence[Pick], evidence: Evidence) -> dict[int, str]:
    """The reason line of each pick, by paper id (see :mod:`.reasons`)."""
    ids = [pick.paper.id for pick in picks]
    seen = evidence.sightings(ids) if ids else {}
    terms: dict[str, Mapping[int, Sequence[str]]] = {}
    for topic in {pick.topic.slug: pick.topic for pick in picks if pick.topic}.values():
        if topic.query:
            chosen = [pick.paper.id for pick in picks if pick.topic == topic]
            terms[topic.slug] = evidence.matched_terms(topic.query, chosen)
    return {
        pick.paper.id: reason(
            pick.paper,
            pick.topic,
            terms.get(pick.topic.slug, {}).get(pick.paper.id, ()) if pick.topic else (),
            seen.get(pick.paper.id, ()),
        )
        for pick in picks
    }


def for_reader(
    papers: Sequence[StoredPaper],
    topics: Sequence[TopicConfig],
    evidence: Evidence,
    weights: Weights,
    now: datetime,
) -> list[Section]:
    """A reader's sections: one per topic that picked something, each paper in one section only.

    Without topics the reader gets everything, ranked, in one untitled section.
    """
    if not topics:
        return [Section(None, tuple(select(papers, None, evidence, weights, now)))]
    per_topic = [select(papers, topic, evidence, weights, now) for topic in topics]
    home: dict[int, tuple[int, float]] = {}  # paper id -> (topic index, score)
    for index, picks in enumerate(per_topic):
        for pick in picks:
            current = home.get(pick.paper.id)
            if current is None or pick.score > current[1]:
                home[pick.paper.id] = (index, pick.score)
    sections = [
        Section(topic, tuple(p for p in picks if home[p.paper.id][0] == index))
        for index, (topic, picks) in enumerate(zip(topics, per_topic, strict=True))
    ]
    return [section for section in sections if section.picks]


def best_first(sections: Iterable[Section]) -> list[Pick]:
    """Every pick of ``sections`` in one order: score, then identity (what the mail's cap keeps)."""
    return sorted((p for s in sections for p in s.picks), key=_order)


def check_queries(topics: Iterable[TopicConfig], evidence: Evidence, *, where: str | None) -> None:
    """Fail at start, naming the topic, when a topic's query is not valid FTS5 syntax."""
    for topic in topics:
        if topic.query is None:
            continue
        try:
            evidence.check(topic.query)
        except QueryError as error:
            raise ConfigError(f"[[topics]] slug = {topic.slug!r}: {error}", where=where) from error


@dataclass(frozen=True)
class _Scale:
    """The candidate set's maxima, so that every signal lies in [0, 1]."""

    upvotes: float
    comments: float

    @classmethod
    def of(cls, papers: Iterable[StoredPaper]) -> _Scale:
        papers = list(papers)
        return cls(
            upvotes=math.log1p(max((_count(p.upvotes) for p in papers), default=0)),
            comments=math.log1p(max((_count(p.comments) for p in papers), default=0)),
        )


def _scored(
    papers: Sequence[StoredPaper],
    topic: TopicConfig | None,
    evidence: Evidence,
    weights: Weights,
    now: datetime,
) -> list[tuple[float, StoredPaper]]:
    candidates = [p for p in papers if topic is None or passes_filters(p, topic)]
    relevance: Mapping[int, float] = {}
    if topic is not None and topic.query and candidates:
        relevance = evidence.relevance(topic.query, [p.id for p in candidates])
        candidates = [p for p in candidates if p.id in relevance]
    scale = _Scale.of(papers)
    best = max(relevance.values(), default=0.0)
    scored = [
        (_score(p, relevance.get(p.id, 0.0) / best if best > 0 else 0.0, scale, weights, now), p)
        for p in candidates
    ]
    return sorted(scored, key=lambda item: (-item[0], item[1].uid))


def _score(paper: StoredPaper, rel: float, scale: _Scale, weights: Weights, now: datetime) -> float:
    up = math.log1p(_count(paper.upvotes)) / scale.upvotes if scale.upvotes else 0.0
    com = math.log1p(_count(paper.comments)) / scale.comments if scale.comments else 0.0
    age_days = _age_days(paper, now)
    fresh = math.pow(0.5, age_days / FRESHNESS_HALF_LIFE_DAYS)
    total = (
        weights.relevance * rel
        + weights.upvotes * up
        + weights.comments * com
        + weights.freshness * fresh
    )
    # Rounded so that float noise can never reorder two papers across machines.
    return round(total, 9)


def _count(value: int | None) -> int:
    """A count as a signal: unknown, negative or absurd counts weigh nothing, never raise."""
    if isinstance(value, int) and 0 < value <= _MAX_COUNT:
        return value
    return 0


def _age_days(paper: StoredPaper, now: datetime) -> float:
    try:
        age = now - (paper.published or paper.first_seen)
    except (OverflowError, TypeError):  # a naive or out-of-range date: as good as unknown
        return math.inf
    return max(age.total_seconds(), 0.0) / 86400


def _order(pick: Pick) -> tuple[float, str]:
    return (-pick.score, pick.paper.uid)
