"""Builders for test records: a valid default, overridden per test by keyword."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from digest.model import Digest, StoredPaper

FIRST_SEEN = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)

ABSTRACT = (
    "We study how sparse mixtures of experts behave when the number of experts $k$ "
    "grows with the width of the network. Our analysis shows that routing collapse "
    "is avoided when the load-balancing loss is annealed, and we confirm this on "
    "language modelling benchmarks at three scales."
)


def make_stored_paper(**overrides: Any) -> StoredPaper:
    """A fully populated arXiv paper; ``id`` picks distinct defaults for uid and arxiv_id."""
    paper_id = overrides.get("id", 1)
    arxiv_id = f"2503.{paper_id:05d}"
    paper = StoredPaper(
        id=paper_id,
        uid=f"https://arxiv.org/abs/{arxiv_id}",
        title=f"Sparse Experts at Scale, Part {paper_id}",
        abstract=ABSTRACT,
        arxiv_id=arxiv_id,
        version=1,
        doi=None,
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper"),
        author_count=3,
        organization="Example Lab",
        published=FIRST_SEEN,
        upvotes=42,
        comments=3,
        categories=("cs.LG", "cs.CL"),
        url=f"https://huggingface.co/papers/{arxiv_id}",
        sources=("hf-daily",),
        first_seen=FIRST_SEEN,
        updated=FIRST_SEEN,
    )
    return replace(paper, **overrides)


def make_digest(count: int, *, digest_id: int = 7, **paper_overrides: Any) -> Digest:
    """A digest of ``count`` distinct papers (ids 1..count) with shared overrides."""
    papers = tuple(make_stored_paper(id=i, **paper_overrides) for i in range(1, count + 1))
    return Digest(id=digest_id, created=FIRST_SEEN, papers=papers)
