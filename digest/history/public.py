"""Read-only queries behind the public web pages and feeds of ``digest serve``.

The archive pages list digests by day; the RFC 5005 archive documents hold the
papers first seen on one UTC day; the health check asks when a run last
finished; :class:`DataWatch` tells the page cache whether anything changed.
Nothing here writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import StoreError
from ..model import StoredPaper
from .digests import digest_papers
from .papers import _COLUMNS, stored_papers
from .schema import refuse_foreign_file
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


class DataWatch:
    """Tells, cheaply, whether anyone committed to the database since the last look.

    ``PRAGMA data_version`` changes when another connection — another process (a
    run), or another connection of this one — commits; on a WAL database it reads
    the shared index in memory, a few microseconds. The number means something only
    to the connection that asked, so one connection is kept open and never writes.
    It waits for no lock (a caller on the event loop must not block): when it cannot
    tell, :meth:`version` answers None and the caller does the full work.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._opened = 0  # connections opened so far: a new one's numbers start afresh
        self._inode = 0  # of the file the connection has open
        self._lock = threading.Lock()

    def version(self) -> tuple[int, int] | None:
        """(connection, data_version): equal to an earlier answer when nothing was committed."""
        with self._lock:
            try:
                inode = os.stat(self._path).st_ino
            except OSError:
                self.close_locked()
                return None  # no history yet: the full path creates it
            if inode != self._inode:
                self.close_locked()  # a restored backup is another file: ask it afresh
            try:
                if self._db is None:
                    refuse_foreign_file(self._path)  # before connecting, never after
                    self._inode = inode
                    # check_same_thread=False: the lock above serialises every use.
                    self._db = sqlite3.connect(
                        self._path, isolation_level=None, timeout=0, check_same_thread=False
                    )
                    self._opened += 1
                # fetchall: the statement runs to its end, so no read transaction stays open
                # (which would hold back checkpoints).
                ((number,),) = self._db.execute("PRAGMA data_version").fetchall()
            except (sqlite3.Error, StoreError):
                self.close_locked()
                return None  # the full path opens the history and says what is wrong
            return self._opened, int(number)

    def close(self) -> None:
        with self._lock:
            self.close_locked()

    def close_locked(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
