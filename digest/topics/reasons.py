"""The one-line reason every shown paper carries: what matched, its signals, where it was seen.

"matches “pretraining”, 41 upvotes on HF, new on arXiv cs.LG": the words of
the paper that the topic's query matched (the author's own spelling, found by
FTS5's highlight), the filters it passed ("from NVIDIA"), its Hugging Face
upvotes and comments when known, and the first source that announced it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..config import TopicConfig
from ..model import StoredPaper
from .filters import first_category, first_named

Sighting = tuple[str, str | None]  # (source label, arXiv announce type)

_TERMS_SHOWN = 3
_ANNOUNCED = {
    "new": "new on",
    "cross": "cross-listed on",
    "replace": "updated on",
    "replace-cross": "updated on",
}


def reason(
    paper: StoredPaper,
    topic: TopicConfig | None,
    terms: Sequence[str] = (),
    seen: Sequence[Sighting] = (),
) -> str:
    """The reason line for ``paper`` as ``topic`` picked it (None: no topic, e.g. the main feed).

    ``terms`` are the words its query matched; ``seen`` its sightings, first first.
    """
    parts = _topic_evidence(paper, topic, terms) if topic else []
    signals = _signals(paper)
    where = _where(paper, seen)
    if signals:
        parts.append(signals)
    if where and not (signals and _is_hugging_face(where)):
        parts.append(where)
    return ", ".join(parts) or f"first seen {paper.first_seen:%Y-%m-%d}"


def _topic_evidence(paper: StoredPaper, topic: TopicConfig, terms: Sequence[str]) -> list[str]:
    parts: list[str] = []
    if topic.query:
        shown = ", ".join(f"\u201c{term}\u201d" for term in terms[:_TERMS_SHOWN])
        parts.append(f"matches {shown}" if shown else f"matches {topic.query}")
    organization = first_named((paper.organization or "",), topic.organizations)
    author = first_named(paper.authors, topic.authors)
    category = first_category(paper.categories, topic.categories)
    parts += [
        f"{label} {value}"
        for label, value in (("from", organization), ("by", author), ("in", category))
        if value
    ]
    return parts


def _signals(paper: StoredPaper) -> str:
    counts = [
        _count(paper.upvotes, "upvote"),
        _count(paper.comments, "comment"),
    ]
    shown = [count for count in counts if count]
    return f"{' and '.join(shown)} on HF" if shown else ""


def _count(value: int | None, noun: str) -> str:
    if not value:
        return ""
    return f"{value} {noun}" if value == 1 else f"{value} {noun}s"


def _where(paper: StoredPaper, seen: Sequence[Sighting]) -> str:
    if not seen:
        return ""
    source, announce = next(((s, a) for s, a in seen if a), seen[0])
    if announce in _ANNOUNCED:
        # Only arXiv listings announce papers, whatever the source is called here.
        listing = _arxiv_listing(source, announce, paper.categories, paper.details.listed_in)
        return f"{_ANNOUNCED[announce]} {listing}"
    name = source_name(source, paper.categories)
    return f"seen in {name}" if _is_file(source) else f"seen on {name}"


SAVED_PAGE = "a saved page"  # the name of a local file or folder source that has no ``name``
_FILE_SUFFIXES = (".txt", ".html", ".htm", ".json", ".xml", ".rss", ".atom")
_CATEGORY = re.compile(r"\b[a-z]+(?:-[a-z]+)?\.[A-Z]{2}\b")  # cs.LG, q-bio.NC, astro-ph.GA


def _arxiv_listing(
    label: str, announce: str, categories: Sequence[str], listed_in: str | None = None
) -> str:
    """The listing ("arXiv cs.LG"): the category the source listed the paper in, else the
    one its label names, else the paper's own."""
    if listed_in:
        # A multi-category feed (cs.CL+cs.LG) names several; the listing said which one.
        return f"arXiv {listed_in}"
    named = _CATEGORY.search(label)
    if named:
        return f"arXiv {named.group()}"
    # A cross-list appears in another category's listing than the paper's primary one.
    return f"arXiv {categories[0]}" if announce == "new" and categories else "arXiv"


def _is_file(label: str) -> bool:
    if "://" in label:
        parts = urlsplit(label)
        return parts.scheme == "file" or PurePosixPath(parts.path).suffix in _FILE_SUFFIXES
    return "/" in label or "\\" in label


def source_name(label: str, categories: Sequence[str] = ()) -> str:
    """A short name for a source label: its configured name, or one made from its URL or path.

    >>> source_name("https://huggingface.co/api/daily_papers")
    'HF Daily Papers'
    >>> source_name("https://rss.arxiv.org/rss/cs.LG", ("cs.LG", "stat.ML"))
    'arXiv cs.LG'
    >>> source_name("https://lab.example.org/feeds/papers.xml?key=1")
    'lab.example.org/feeds/papers.xml'
    >>> source_name("/srv/pages/001_listing.txt")
    'a saved page'

    A file's path or name says something to the operator only, so readers see
    "a saved page" (docs/sources.md: give the source a ``name`` to say more).
    """
    if "://" not in label:
        return SAVED_PAGE if "/" in label or "\\" in label else label
    parts = urlsplit(label)
    host = (parts.hostname or "").lower()
    if host == "huggingface.co" or host.endswith(".huggingface.co"):
        daily = "daily_papers" in parts.path or parts.path.rstrip("/") in ("/papers", "")
        daily = daily or parts.path.startswith("/papers/date")
        return "HF Daily Papers" if daily else "Hugging Face"
    if host == "arxiv.org" or host.endswith(".arxiv.org"):
        return f"arXiv {categories[0]}" if categories else "arXiv"
    if parts.scheme == "file":
        return SAVED_PAGE
    # host + path names one feed of a site that has several; never the query string.
    path = parts.path.rstrip("/")
    return f"{host}{path}" if host else label


def _is_hugging_face(where: str) -> bool:
    return where.endswith(("HF Daily Papers", "Hugging Face"))


def describe(topic: TopicConfig) -> str:
    """The topic's query and filters on one line, for ``digest topics list``."""
    fields: list[tuple[str, Any]] = [
        ("query", topic.query or "(everything)"),
        ("categories", ", ".join(topic.categories)),
        ("authors", ", ".join(topic.authors)),
        ("organizations", ", ".join(topic.organizations)),
        ("sources", ", ".join(topic.sources)),
        ("min_upvotes", topic.min_upvotes),
    ]
    return "; ".join(f"{name}: {value}" for name, value in fields if value not in ("", None))
