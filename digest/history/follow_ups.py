"""Follow-ups: what happened to a paper after it was announced, and which readers were told.

An *event* is recorded when a later sighting of a known paper (a listing, a feed,
the daily check) shows a fact history lacked: code, a project page, a new arXiv
version, a journal reference or DOI, a withdrawal, upvotes past a mark. Each
(paper, kind, value) is recorded once. Detection runs inside the transaction of
:func:`digest.history.papers.record_sightings`, on the row as it was before the
merge; it never touches the paper's novelty.

An event reaches a reader who received the paper (``delivery_papers`` of a sent
mail queued before the event was found), once: the ledger row (event, recipient)
is written with the delivery that carries it, and dropped again only when that
delivery is skipped, so the event rides along with the next mail instead.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..model import FollowUp, FollowUpKind, Paper
from .times import iso_utc, parse_utc

# arXiv replaces a withdrawn paper by a new version whose comment says so.
_WITHDRAWN = re.compile(r"\bwithdrawn\b", re.IGNORECASE)
_EVENT_COLUMNS = "id, paper_id, kind, value, detail, source, found"


@dataclass(frozen=True)
class Watch:
    """Which known papers are followed up (first seen at or after ``since``) and the upvote marks."""

    since: datetime
    upvote_marks: tuple[int, ...] = (50, 100)


@dataclass(frozen=True)
class NewEvent:
    """An event a sighting shows, before it has an id."""

    kind: FollowUpKind
    value: str
    detail: str | None = None


def detect(row: Mapping[str, Any], paper: Paper, watch: Watch) -> list[NewEvent]:
    """The events ``paper`` (a new sighting) shows about ``row`` (history before the merge)."""
    if row["first_seen"] < iso_utc(watch.since):
        return []
    details = paper.details
    events: list[NewEvent] = []
    if details.github_repo and not row["github_repo"]:
        stars = details.github_stars
        events.append(NewEvent("code", details.github_repo, str(stars) if stars else None))
    if details.project_page and not row["project_page"]:
        events.append(NewEvent("project_page", details.project_page))
    if paper.version is not None and paper.version > (row["version"] or 1):
        comment = details.arxiv_comment
        withdrawn = bool(comment and _WITHDRAWN.search(comment))
        kind: FollowUpKind = "withdrawn" if withdrawn else "version"
        events.append(NewEvent(kind, str(paper.version), comment))
    if details.journal_ref and not row["journal_ref"]:
        events.append(NewEvent("journal_ref", details.journal_ref))
    if paper.doi and not row["doi"] and not (row["journal_ref"] or details.journal_ref):
        # One piece of news per publication: the reference says where, the DOI only that it was.
        events.append(NewEvent("doi", paper.doi))
    if paper.upvotes is not None:
        before = row["upvotes"] or 0
        crossed = [mark for mark in watch.upvote_marks if before < mark <= paper.upvotes]
        if crossed:
            # From 10 to 120 in a day is one piece of news: the highest mark.
            events.append(NewEvent("upvotes", str(max(crossed)), str(paper.upvotes)))
    return events


def record_events(
    db: sqlite3.Connection,
    paper_id: int,
    events: Iterable[NewEvent],
    *,
    source: str,
    run_id: int | None,
    now: str,
) -> int:
    """Insert the events not recorded before (inside the caller's transaction); return how many.

    A recorded event bumps the paper's ``updated``, so its feed entry shows the change.
    """
    added = 0
    for event in events:
        cursor = db.execute(
            "INSERT OR IGNORE INTO follow_ups (paper_id, kind, value, detail, source, run_id, found) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (paper_id, event.kind, event.value, event.detail, source, run_id, now),
        )
        added += cursor.rowcount
    if added:
        db.execute("UPDATE papers SET updated = ? WHERE id = ?", (now, paper_id))
    return added


def _event(row: Sequence[Any]) -> FollowUp:
    return FollowUp(
        id=row[0],
        paper_id=row[1],
        kind=row[2],
        value=row[3],
        detail=row[4],
        source=row[5],
        found=parse_utc(row[6]),
    )


def paper_events(db: sqlite3.Connection, paper_ids: Sequence[int]) -> dict[int, list[FollowUp]]:
    """Every event of these papers, oldest first, by paper id (papers without any are absent)."""
    found: dict[int, list[FollowUp]] = {}
    for start in range(0, len(paper_ids), 500):
        chunk = list(paper_ids[start : start + 500])
        rows = db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM follow_ups WHERE paper_id IN ({','.join('?' * len(chunk))}) "
            "ORDER BY found, id",
            chunk,
        ).fetchall()
        for row in rows:
            found.setdefault(row[1], []).append(_event(row))
    return found


def record_received(db: sqlite3.Connection, delivery_id: int, paper_ids: Iterable[int]) -> None:
    """Which papers a mail shows (written when it is composed; it counts once the mail is sent)."""
    db.executemany(
        "INSERT OR IGNORE INTO delivery_papers (delivery_id, paper_id) VALUES (?, ?)",
        [(delivery_id, paper_id) for paper_id in paper_ids],
    )


_DUE = """
    SELECT DISTINCT e.id FROM follow_ups e
    JOIN delivery_papers dp ON dp.paper_id = e.paper_id
    JOIN deliveries d ON d.id = dp.delivery_id
    WHERE d.recipient = ? AND d.status = 'sent' AND d.queued >= ? AND d.queued < e.found
      AND NOT EXISTS (
          SELECT 1 FROM follow_up_deliveries f WHERE f.event_id = e.id AND f.recipient = ?
      )
    ORDER BY e.id
"""


def assign_events(
    db: sqlite3.Connection, delivery_id: int, recipient: str, *, since: datetime
) -> int:
    """Give ``delivery_id`` every event due to ``recipient`` (inside the queuing transaction).

    Only mail queued at or after ``since`` (the start of the follow-up window) is
    looked at: a paper first seen earlier is not followed, so neither is its mail.
    """
    params = (recipient, iso_utc(since), recipient)
    ids = [row[0] for row in db.execute(_DUE, params).fetchall()]
    db.executemany(
        "INSERT OR IGNORE INTO follow_up_deliveries (event_id, recipient, delivery_id) "
        "VALUES (?, ?, ?)",
        [(event_id, recipient, delivery_id) for event_id in ids],
    )
    return len(ids)


def any_due(db: sqlite3.Connection) -> bool:
    """Whether some reader who wants updates has an event not yet given to a mail."""
    row = db.execute(
        """
        SELECT 1 FROM follow_ups e
        JOIN delivery_papers dp ON dp.paper_id = e.paper_id
        JOIN deliveries d ON d.id = dp.delivery_id
        LEFT JOIN subscribers s ON s.id = d.subscriber_id
        WHERE d.status = 'sent' AND d.queued < e.found
          AND (d.subscriber_id IS NULL OR (s.status = 'active' AND s.updates = 1))
          AND NOT EXISTS (
              SELECT 1 FROM follow_up_deliveries f
              WHERE f.event_id = e.id AND f.recipient = d.recipient
          )
        LIMIT 1
        """
    ).fetchone()
    return row is not None


def delivery_events(db: sqlite3.Connection, delivery_id: int) -> list[FollowUp]:
    """The events one mail carries, in the order they were found."""
    rows = db.execute(
        f"SELECT {', '.join('e.' + c for c in _EVENT_COLUMNS.split(', '))} FROM follow_ups e "
        "JOIN follow_up_deliveries f ON f.event_id = e.id WHERE f.delivery_id = ? "
        "ORDER BY e.found, e.id",
        (delivery_id,),
    ).fetchall()
    return [_event(row) for row in rows]


def release_events(db: sqlite3.Connection, delivery_id: int) -> None:
    """A mail that is not sent gives its events back (inside the caller's transaction)."""
    db.execute("DELETE FROM follow_up_deliveries WHERE delivery_id = ?", (delivery_id,))


def found_in_run(db: sqlite3.Connection, run_id: int) -> int:
    """How many events ``run_id`` recorded."""
    row = db.execute("SELECT count(*) FROM follow_ups WHERE run_id = ?", (run_id,)).fetchone()
    return int(row[0])


def delivered_with(db: sqlite3.Connection, delivery_ids: Sequence[int]) -> int:
    """How many events went out in those of ``delivery_ids`` that were sent."""
    total = 0
    for start in range(0, len(delivery_ids), 500):
        chunk = list(delivery_ids[start : start + 500])
        row = db.execute(
            "SELECT count(*) FROM follow_up_deliveries f JOIN deliveries d ON d.id = f.delivery_id "
            f"WHERE d.status = 'sent' AND d.id IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchone()
        total += int(row[0])
    return total


def watched_papers(
    db: sqlite3.Connection, *, since: datetime, before: datetime
) -> list[tuple[str, bool]]:
    """arXiv ids of papers first seen in ``[since, before)``, newest first, and whether HF knows them."""
    rows = db.execute(
        "SELECT arxiv_id, hf_url IS NOT NULL FROM papers WHERE arxiv_id IS NOT NULL "
        "AND first_seen >= ? AND first_seen < ? ORDER BY first_seen DESC, id DESC",
        (iso_utc(since), iso_utc(before)),
    ).fetchall()
    return [(row[0], bool(row[1])) for row in rows]


def last_check(db: sqlite3.Connection, source: str) -> datetime | None:
    """When a run last completed the check ``source`` (ok or nothing to ask), or None."""
    row = db.execute(
        "SELECT max(r.started) FROM run_sources s JOIN runs r ON r.id = s.run_id "
        "WHERE s.source = ? AND s.status IN ('ok', 'empty')",
        (source,),
    ).fetchone()
    return parse_utc(row[0]) if row and row[0] else None
