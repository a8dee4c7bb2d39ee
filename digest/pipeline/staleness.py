"""Telling a stale page from a quiet day.

arXiv announces at 20:00 America/New_York, Sunday to Thursday (docs/formats.md §9).
If an arXiv source shows the same batch as its last good fetch although an
announcement has happened since, the page is stale (a lagging mirror or
cache), not quiet: the run says so instead of reporting "nothing new".
Holidays skip announcements, so the reason says that this may be one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..model import Paper

ARXIV_ZONE = ZoneInfo("America/New_York")
ANNOUNCE_HOUR = 20
ANNOUNCE_DAYS = {6, 0, 1, 2, 3}  # Sunday … Thursday (Monday = 0)
PROPAGATION = timedelta(hours=2)  # listings and feeds follow the announcement within ~2 h
ARXIV_KINDS = {"arxiv-list", "arxiv-rss", "arxiv-api"}


def batch_key(papers: Sequence[Paper]) -> str | None:
    """What a page held: its newest listing date, else a hash of its paper identities."""
    dates = [paper.listed_on for paper in papers if paper.listed_on]
    if dates:
        return max(dates)
    keys = sorted(paper.arxiv_id or paper.doi or paper.title_key for paper in papers)
    if not keys:
        return None
    return "ids:" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def last_announcement(now: datetime) -> datetime:
    """The newest arXiv announcement at or before ``now`` minus the propagation delay."""
    local = (now - PROPAGATION).astimezone(ARXIV_ZONE)
    candidate = local.replace(hour=ANNOUNCE_HOUR, minute=0, second=0, microsecond=0)
    if candidate > local:
        candidate -= timedelta(days=1)
    while candidate.weekday() not in ANNOUNCE_DAYS:
        candidate -= timedelta(days=1)
    return candidate


def stale_reason(
    kind: str,
    batch: str | None,
    previous: tuple[str | None, datetime] | None,
    now: datetime,
) -> str | None:
    """Why this fetch looks stale, or None. ``previous`` is (batch, when) of the last good fetch."""
    if kind not in ARXIV_KINDS or previous is None:
        return None
    previous_batch, previous_at = previous
    if batch is not None and batch != previous_batch:
        return None
    announced = last_announcement(now)
    if announced <= previous_at:
        return None
    shown = (
        previous_batch if previous_batch and not previous_batch.startswith("ids:") else "unchanged"
    )
    return (
        f"still the batch of {shown} although arXiv announced at "
        f"{announced.strftime('%a %Y-%m-%d %H:%M %Z')} (a lagging mirror or cache — "
        "or an arXiv holiday); the next run will pick up the new batch"
    )
