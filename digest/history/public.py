"""Read-only queries behind the public web pages and feeds of ``digest serve``.

The archive pages list digests by day; the RFC 5005 archive documents hold the
papers first seen on one UTC day; the health check asks when a run last
finished. Nothing here writes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from ..model import StoredPaper
from .digests import digest_papers
from .papers import _COLUMNS, stored_papers
from .times import parse_utc


@dataclass(frozen=True)
class DigestDay:
    """One day of the archive: how many digests went out that day and how many papers."""

    day: str  # YYYY-MM-DD (UTC)
    digests: int
    papers: int


@dataclass(frozen=True)
class FinishedRun:
    id: int
    started: datetime
    finished: datetime
    status: str  # ok | failed


def digest_days(db: sqlite3.Connection, *, limit: int = 400) -> list[DigestDay]:
    """Days with at least one digest, newest first."""
    rows = db.execute(
        "SELECT day, count(*), sum(paper_count) FROM digests GROUP BY day ORDER BY day DESC "
        "LIMIT ?",
        (limit,),
    ).fetchall()
    return [DigestDay(row[0], int(row[1]), int(row[2] or 0)) for row in rows]


def papers_digested_on(db: sqlite3.Connection, day: str) -> list[StoredPaper] | None:
    """Every paper announced by the digests of ``day``, each once, in announcement order.

    None when no digest went out that day (a 404, not an empty page).
    """
    ids = [
        row[0]
        for row in db.execute("SELECT id FROM digests WHERE day = ? ORDER BY id", (day,)).fetchall()
    ]
    if not ids:
        return None
    papers: dict[int, StoredPaper] = {}
    for digest_id in ids:
        for paper in digest_papers(db, digest_id):
            papers.setdefault(paper.id, paper)
    return list(papers.values())


def last_digest_on(db: sqlite3.Connection, day: str) -> int | None:
    """The id of the last digest of ``day`` (None: no digest that day)."""
    row = db.execute("SELECT max(id) FROM digests WHERE day = ?", (day,)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def papers_first_seen_on(db: sqlite3.Connection, day: str) -> list[StoredPaper]:
    """Papers history first saw on the UTC day ``day``, newest first (an archive document)."""
    cursor = db.execute(
        f"SELECT {_COLUMNS} FROM papers WHERE first_seen >= ? AND first_seen < ? "
        "ORDER BY first_seen DESC, id DESC",
        (f"{day}T00:00:00Z", f"{day}T99"),
    )
    return stored_papers(db, cursor.fetchall())


def newest_paper_day(db: sqlite3.Connection, *, before: str) -> str | None:
    """The newest UTC day before ``before`` (YYYY-MM-DD) on which a paper was first seen."""
    row = db.execute(
        "SELECT substr(max(first_seen), 1, 10) FROM papers WHERE first_seen < ?",
        (f"{before}T00:00:00Z",),
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def oldest_paper_day(db: sqlite3.Connection, *, after: str) -> str | None:
    """The oldest UTC day after ``after`` (YYYY-MM-DD) on which a paper was first seen."""
    row = db.execute(
        "SELECT substr(min(first_seen), 1, 10) FROM papers WHERE first_seen > ?",
        (f"{after}T99",),
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def last_finished_run(db: sqlite3.Connection) -> FinishedRun | None:
    """The run that last went to its end, with or without failed sources (the heartbeat).

    An ``interrupted`` run (its process died) does not count: nothing finished.
    """
    row = db.execute(
        "SELECT id, started, finished, status FROM runs WHERE status IN ('ok', 'failed') "
        "ORDER BY finished DESC, id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return FinishedRun(int(row[0]), parse_utc(row[1]), parse_utc(row[2]), str(row[3]))
