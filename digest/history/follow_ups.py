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
Chat channels work alike (``channel_post_papers`` of a sent post, the ledger row
(event, channel) written with the post that carries it), and so does a reader's
next mail as ``digest preview`` shows it (:func:`due_events`, read-only).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..model import FollowUp, FollowUpKind, Paper
from .schema import transaction
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
    """Which papers a mail shows (written when it is composed; it counts once the mail is sent).

    What an earlier composing of the same row recorded goes: a mail prepared or composed
    but not sent (a stop, a 4xx) may rank other papers first when it is composed again,
    and only what the mail that goes out shows may bring its reader follow-ups.
    """
    db.execute("DELETE FROM delivery_papers WHERE delivery_id = ?", (delivery_id,))
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


def _due_ids(db: sqlite3.Connection, recipient: str, since: datetime) -> list[int]:
    return [row[0] for row in db.execute(_DUE, (recipient, iso_utc(since), recipient)).fetchall()]


def due_events(db: sqlite3.Connection, recipient: str, *, since: datetime) -> list[FollowUp]:
    """The events ``recipient``'s next mail would carry, in the order they were found (read-only)."""
    return _events_by_id(db, _due_ids(db, recipient, since))


def assign_events(
    db: sqlite3.Connection, delivery_id: int, recipient: str, *, since: datetime
) -> int:
    """Give ``delivery_id`` every event due to ``recipient`` (inside the queuing transaction).

    Only mail queued at or after ``since`` (the start of the follow-up window) is
    looked at: a paper first seen earlier is not followed, so neither is its mail.
    """
    ids = _due_ids(db, recipient, since)
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


def _events_by_id(db: sqlite3.Connection, event_ids: Sequence[int]) -> list[FollowUp]:
    events: list[FollowUp] = []
    for start in range(0, len(event_ids), 500):
        chunk = list(event_ids[start : start + 500])
        rows = db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM follow_ups WHERE id IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        events.extend(_event(row) for row in rows)
    return sorted(events, key=lambda event: (event.found, event.id))


def release_events(db: sqlite3.Connection, delivery_id: int) -> None:
    """A mail that is not sent gives its events back (inside the caller's transaction)."""
    db.execute("DELETE FROM follow_up_deliveries WHERE delivery_id = ?", (delivery_id,))


# A channel is told about an event on a paper that one of its sent posts showed
# (``channel_post_papers``), queued before the event was found, once per channel.
_CHANNEL_DUE = """
    SELECT DISTINCT e.id FROM follow_ups e
    JOIN channel_post_papers cp ON cp.paper_id = e.paper_id
    JOIN channel_posts p ON p.id = cp.post_id
    WHERE p.channel = ? AND p.status = 'sent' AND p.queued >= ? AND p.queued < e.found
      AND NOT EXISTS (
          SELECT 1 FROM channel_follow_ups f WHERE f.event_id = e.id AND f.channel = ?
      )
    ORDER BY e.id
"""


def assign_channel_events(
    db: sqlite3.Connection, post_id: int, channel: str, *, since: datetime
) -> int:
    """Give the post ``post_id`` every event due to ``channel`` (inside the queuing transaction).

    As for mail, only posts queued at or after ``since`` (the follow-up window) count.
    """
    params = (channel, iso_utc(since), channel)
    ids = [row[0] for row in db.execute(_CHANNEL_DUE, params).fetchall()]
    db.executemany(
        "INSERT OR IGNORE INTO channel_follow_ups (event_id, channel, post_id) VALUES (?, ?, ?)",
        [(event_id, channel, post_id) for event_id in ids],
    )
    return len(ids)


def channel_events_due(db: sqlite3.Connection, channels: Sequence[str], *, since: datetime) -> bool:
    """Whether one of ``channels`` has an event not yet given to a post."""
    return any(
        db.execute(_CHANNEL_DUE, (channel, iso_utc(since), channel)).fetchone() is not None
        for channel in channels
    )


def post_events(db: sqlite3.Connection, post_ids: Sequence[int]) -> list[FollowUp]:
    """The events the posts ``post_ids`` (one post, or missed digests combined) carry, oldest first."""
    if not post_ids:
        return []
    placeholders = ",".join("?" * len(post_ids))
    rows = db.execute(
        f"SELECT event_id FROM channel_follow_ups WHERE post_id IN ({placeholders})",
        list(post_ids),
    ).fetchall()
    return _events_by_id(db, [row[0] for row in rows])


def record_posted(
    db: sqlite3.Connection,
    post_ids: Sequence[int],
    paper_ids: Iterable[int],
    shown_events: Iterable[int],
) -> None:
    """What a post is about to show, written before it is posted (it counts once it is sent).

    The papers go on the post's last row (the one whose digest it posts), replacing
    what an earlier attempt of these rows recorded. Events the post had no room
    for go back, to ride along with the channel's next post.
    """
    if not post_ids:
        return
    last = post_ids[-1]
    placeholders = ",".join("?" * len(post_ids))
    shown = set(shown_events)
    with transaction(db):
        db.execute(
            f"DELETE FROM channel_post_papers WHERE post_id IN ({placeholders})", list(post_ids)
        )
        db.executemany(
            "INSERT OR IGNORE INTO channel_post_papers (post_id, paper_id) VALUES (?, ?)",
            [(last, paper_id) for paper_id in paper_ids],
        )
        carried = db.execute(
            f"SELECT event_id, post_id FROM channel_follow_ups WHERE post_id IN ({placeholders})",
            list(post_ids),
        ).fetchall()
        db.executemany(
            "DELETE FROM channel_follow_ups WHERE event_id = ? AND post_id = ?",
            [(event_id, post_id) for event_id, post_id in carried if event_id not in shown],
        )


def release_channel_events(db: sqlite3.Connection, post_ids: Sequence[int]) -> None:
    """Posts that are not sent (skipped) give their events back (inside the caller's transaction)."""
    db.executemany(
        "DELETE FROM channel_follow_ups WHERE post_id = ?", [(post_id,) for post_id in post_ids]
    )


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


def hf_check_turn(
    db: sqlite3.Connection, *, since: datetime, before: datetime, limit: int
) -> list[str]:
    """The ``limit`` papers HF knows, first seen in ``[since, before)``, whose check is most overdue.

    Never-checked papers first (newest first), then the oldest checks: asked in
    this order day after day, every one of N papers is asked within
    ceil(N / limit) days.
    """
    if limit <= 0:
        return []
    rows = db.execute(
        "SELECT p.arxiv_id FROM papers p LEFT JOIN paper_checks c ON c.paper_id = p.id "
        "WHERE p.arxiv_id IS NOT NULL AND p.hf_url IS NOT NULL "
        "AND p.first_seen >= ? AND p.first_seen < ? "
        "ORDER BY c.hf_checked IS NOT NULL, c.hf_checked, p.first_seen DESC, p.id DESC LIMIT ?",
        (iso_utc(since), iso_utc(before), limit),
    ).fetchall()
    return [row[0] for row in rows]


def mark_hf_checked(db: sqlite3.Connection, arxiv_ids: Sequence[str], now: datetime) -> None:
    """Hugging Face answered about these papers (with the paper, or a 404) at ``now``."""
    stamp = iso_utc(now)
    with transaction(db):
        db.executemany(
            "INSERT INTO paper_checks (paper_id, hf_checked) "
            "SELECT id, ? FROM papers WHERE arxiv_id = ? "
            "ON CONFLICT (paper_id) DO UPDATE SET hf_checked = excluded.hf_checked",
            [(stamp, arxiv_id) for arxiv_id in arxiv_ids],
        )


def last_check(db: sqlite3.Connection, source: str) -> datetime | None:
    """When a run last completed the check ``source`` (ok or nothing to ask), or None."""
    row = db.execute(
        "SELECT max(r.started) FROM run_sources s JOIN runs r ON r.id = s.run_id "
        "WHERE s.source = ? AND s.status IN ('ok', 'empty')",
        (source,),
    ).fetchone()
    return parse_utc(row[0]) if row and row[0] else None
