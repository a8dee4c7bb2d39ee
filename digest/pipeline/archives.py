"""RFC 5005 archived feeds: the live feed holds the window, each older UTC day is a document.

The live ``feed.atom`` links ``rel="prev-archive"`` to the newest archive
document it does not fully contain; every archive document holds the papers
first seen on one closed UTC day and links ``rel="current"`` (the live feed),
``prev-archive`` and ``next-archive`` (the neighbouring days that have papers).
A reader that was offline for a month walks the chain back until it meets
entries it knows. Only closed days (before today, UTC) are archives, so the set
of entries in a document never changes once it can be fetched (RFC 5005 §4);
an entry's text may still be revised, as in any Atom feed.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from datetime import date, datetime, timedelta

from ..config import Settings
from ..history.public import newest_paper_day, oldest_paper_day, papers_first_seen_on
from ..locations import urls
from ..model import StoredPaper
from ..render.feed import render_feed
from .selection import feed_reasons
from .site import feed_meta

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def archive_url(settings: Settings, day: str) -> str:
    return urls(settings).archive_feed(day)


def live_prev_archive(
    db: sqlite3.Connection,
    papers: list[StoredPaper],
    *,
    since: datetime,
    limit: int,
    today: date,
) -> str | None:
    """The day the live feed's ``prev-archive`` points at, or None when the feed is complete.

    The window starts at ``since`` (mid-day), so that day is only partly in the
    feed; when ``max_entries`` cut the feed, the day of its oldest entry is.
    Either way that day's archive is the newest one with papers the feed lacks.
    """
    boundary = since.date()
    if papers and len(papers) >= limit:
        boundary = papers[-1].first_seen.date()
    bound = min(boundary + timedelta(days=1), today)
    return newest_paper_day(db, before=bound.isoformat())


def render_archive(
    settings: Settings, db: sqlite3.Connection, day: str, *, today: date
) -> bytes | None:
    """The archive document of ``day`` (YYYY-MM-DD), or None when there is none to serve."""
    if not DAY.fullmatch(day) or not _is_date(day) or day >= today.isoformat():
        return None
    papers = papers_first_seen_on(db, day)
    if not papers:
        return None
    following = oldest_paper_day(db, after=day)
    previous = newest_paper_day(db, before=day)
    live = feed_meta(settings)
    meta = replace(
        live,
        self_url=archive_url(settings, day),
        current_url=live.self_url,
        prev_archive_url=archive_url(settings, previous) if previous else None,
        next_archive_url=(
            archive_url(settings, following)
            if following and following < today.isoformat()
            else None
        ),
        archive=True,
        hub_url=None,  # archives never change, so there is nothing to push
        json_url=None,  # no JSON Feed twin of a day's archive
    )
    return render_feed(papers, meta, feed_reasons(db, papers))


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
