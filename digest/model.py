"""The records that flow between pipeline stages: plain, frozen, comparable.

Parsers produce :class:`Paper` (what one source said about one paper). History
turns sightings into :class:`StoredPaper` rows (what we know, with first-seen
time and a permanent id). The digest stage groups stored papers into a
:class:`Digest`; render and deliver only read these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Literal

from .identity import title_key

AnnounceType = Literal["new", "cross", "replace", "replace-cross"]
SourceStatus = Literal["ok", "unchanged", "empty", "stale", "failed"]
# What a follow-up says happened to a paper already announced (docs/follow-ups.md).
FollowUpKind = Literal[
    "code", "project_page", "version", "journal_ref", "doi", "withdrawn", "upvotes"
]
# The kinds of the daily follow-up checks' reports, recorded beside the sources'
# but not sources the operator configured: `digest status` lists them apart.
FOLLOW_UP_CHECKS = {"hf-check": "Hugging Face check", "arxiv-check": "arXiv check"}


@dataclass(frozen=True)
class PaperDetails:
    """What a source says about a paper beyond the basics; every field is optional.

    Text here is already readable (TeX converted, see :mod:`digest.tex`); URLs are
    absolute http/https or None. ``title_tex`` / ``abstract_tex`` keep the text as the
    source sent it, only when it held TeX. A field a source does not give is empty, so
    papers from other sources and rows stored before these fields existed render as before.
    """

    # Hugging Face Daily Papers
    ai_summary: str | None = None  # HF's one-line TL;DR (``paper.ai_summary``)
    ai_keywords: tuple[str, ...] = ()
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    thumbnail: str | None = None
    featured_at: datetime | None = None  # ``submittedOnDailyAt``: when HF featured it
    hf_url: str | None = None  # https://huggingface.co/papers/<id>, when HF lists it
    # arXiv
    primary_category: str | None = None
    arxiv_comment: str | None = None  # the authors' Comments field ("Accepted at ICML 2025")
    journal_ref: str | None = None
    pdf_url: str | None = None
    listed_in: str | None = None  # the category whose listing showed it (a cross-list's)
    # the source's own text, kept when it held TeX
    title_tex: str | None = None
    abstract_tex: str | None = None


NO_DETAILS = PaperDetails()


@dataclass(frozen=True)
class Paper:
    """One paper as one source listed it. Only ``title`` is required.

    ``arxiv_id`` is always version-less; the version, when the source shows it,
    is in ``version``. Times are timezone-aware UTC. ``url`` is the page the
    source links to (only http/https is kept by render).
    """

    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    version: int | None = None
    doi: str | None = None
    authors: tuple[str, ...] = ()
    author_count: int | None = None
    organization: str | None = None
    published: datetime | None = None
    listed_on: str | None = None  # the listing's own date as shown ("Mar 12", "2025-03-12")
    upvotes: int | None = None
    comments: int | None = None
    categories: tuple[str, ...] = ()
    announce_type: AnnounceType | None = None
    url: str | None = None
    details: PaperDetails = field(default=NO_DETAILS)

    @cached_property
    def title_key(self) -> str:
        # Computed once per paper (the diff asks for it up to four times); not a field,
        # so equality and hashing are unchanged.
        return title_key(self.title)


@dataclass(frozen=True)
class Page:
    """What a parser found in one payload: the papers, or an explicit 'nothing today'.

    ``empty_reason`` is set when the page says plainly that there is nothing
    (``[]``, "No updates today.", a weekend feed) — a quiet day, not a failure.
    """

    papers: tuple[Paper, ...]
    empty_reason: str | None = None


@dataclass(frozen=True)
class StoredPaper:
    """A paper as history knows it, merged over every sighting."""

    id: int
    uid: str  # permanent: fixed at first sight, never recomputed (Atom entry ids use it)
    title: str
    abstract: str
    arxiv_id: str | None
    version: int | None
    doi: str | None
    authors: tuple[str, ...]
    author_count: int | None
    organization: str | None
    published: datetime | None
    upvotes: int | None
    comments: int | None
    categories: tuple[str, ...]
    url: str | None
    sources: tuple[str, ...]
    first_seen: datetime
    updated: datetime
    details: PaperDetails = field(default=NO_DETAILS)


@dataclass(frozen=True)
class FollowUp:
    """One thing that happened to a known paper after it was announced, recorded once.

    ``(paper_id, kind, value)`` is unique: the repo URL, the version number, the
    journal reference, the DOI, the upvote mark crossed. ``detail`` is what goes
    with it (the stars of a repo, arXiv's comment for a version), ``source`` the
    listing or check that showed it, ``found`` when.
    """

    id: int
    paper_id: int
    kind: FollowUpKind
    value: str
    detail: str | None
    source: str
    found: datetime


@dataclass(frozen=True)
class SourceReport:
    """How one source fared in one run (one item of ``digest run --json``)."""

    source: str
    kind: str
    status: SourceStatus
    found: int = 0
    novel: int = 0
    error: str | None = None
    reason: str | None = None
    batch: str | None = None  # what the page held (a date or an id hash), for staleness
    name: str | None = None  # the operator's own name for the source ([[sources]] name)
    unreachable: bool = False  # failed without any connection (DNS, refused)


@dataclass(frozen=True)
class Digest:
    """The papers one newsletter announces, in display order."""

    id: int
    created: datetime
    papers: tuple[StoredPaper, ...] = field(default=())


@dataclass(frozen=True)
class HttpValidators:
    """What a server told us last time, sent back as If-None-Match / If-Modified-Since.

    ``body_sha256`` is the hash of the last body recorded from the URL: when a
    200 brings the same bytes again, there is nothing to parse.
    """

    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None


@dataclass(frozen=True)
class SourceHealth:
    """How one source has been doing across runs (for `digest status` and alerts)."""

    source: str
    kind: str
    last_status: str
    last_run: datetime
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
