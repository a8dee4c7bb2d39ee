"""The outbox ledger: one row per (digest, recipient), committed one recipient at a time.

pending → sent (after the relay's 250, or the Maildir file is in place)
        → retry (4xx, connection lost: drained again next time)
        → failed (5xx: kept with the relay's answer, never retried)
        → skipped (fewer papers for this reader than ``mail.min_papers``: not
          sent, the reason kept; the reader's cursor goes back, so these
          digests ride along with their next mail instead of being lost)
A row covers the digests after ``from_digest_id`` up to ``digest_id``: one
digest for daily readers, a week of them for weekly readers. The Message-ID is
deterministic per row, so a retry is recognisable downstream.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from .digests import latest_digest_id
from .follow_ups import assign_events, release_events
from .schema import transaction
from .times import iso_utc


@dataclass(frozen=True)
class Delivery:
    id: int
    digest_id: int
    from_digest_id: int
    subscriber_id: int | None
    recipient: str
    message_id: str
    status: str
    attempts: int
    last_error: str | None


_COLUMNS = (
    "id, digest_id, from_digest_id, subscriber_id, recipient, message_id, status, attempts, "
    "last_error"
)

MessageIdFor = Callable[[int, str], str]  # (digest_id, address) -> Message-ID


def queue_for_subscribers(
    db: sqlite3.Connection,
    *,
    today: date,
    now: datetime,
    message_id_for: MessageIdFor,
    page: int = 1_000,
    follow_since: datetime | None = None,
) -> int:
    """Queue one delivery for each active reader who is due and has unsent digests.

    Linear in readers, memory flat: the readers whose mail of the newest
    digest was skipped are read once (one query, not one per reader), and the
    due readers are read and queued ``page`` at a time (keyset paging on id,
    so moving a cursor never shifts the next page). With ``follow_since``, each
    mail also takes the reader's follow-ups on papers they received in mail
    queued since then (:mod:`.follow_ups`).
    """
    queued = 0
    with transaction(db):
        latest = latest_digest_id(db)
        skipped = _skipped_readers(db, latest)
        after = 0
        while True:
            due = _due_readers(db, latest, today, after, page)
            if not due:
                break
            after = due[-1][0]
            fresh = [reader for reader in due if reader[0] not in skipped]
            stamp = iso_utc(now)
            queued += _executemany(
                db,
                "INSERT OR IGNORE INTO deliveries (digest_id, from_digest_id, subscriber_id, "
                "recipient, message_id, queued, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (latest, cursor, rid, address, message_id_for(latest, address), stamp, stamp)
                    for rid, address, cursor in fresh
                ],
            )
            _executemany(
                db,
                "UPDATE subscribers SET cursor_digest_id = ? WHERE id = ?",
                [(latest, rid) for rid, _, _ in fresh],
            )
            if follow_since is not None:
                _assign_follow_ups(db, latest, [rid for rid, _, _ in fresh], follow_since)
            if len(due) < page:
                break
    return queued


def _assign_follow_ups(
    db: sqlite3.Connection, digest_id: int, reader_ids: list[int], since: datetime
) -> None:
    """Give each new mail of ``digest_id`` its reader's due follow-ups (same transaction)."""
    for start in range(0, len(reader_ids), 500):
        chunk = reader_ids[start : start + 500]
        rows = db.execute(
            "SELECT d.id, d.recipient FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
            f"WHERE d.digest_id = ? AND s.updates = 1 AND s.id IN ({','.join('?' * len(chunk))})",
            (digest_id, *chunk),
        ).fetchall()
        for delivery_id, recipient in rows:
            assign_events(db, delivery_id, recipient, since=since)


def _due_readers(
    db: sqlite3.Connection, latest: int, today: date, after: int, page: int
) -> list[tuple[int, str, int]]:
    """Active readers due ``today`` with digests after their cursor: (id, address, cursor)."""
    rows = db.execute(
        "SELECT id, email, cursor_digest_id FROM subscribers WHERE id > ? AND status = 'active' "
        "AND cursor_digest_id < ? "
        "AND (frequency = 'daily' OR (frequency = 'weekly' AND weekday = ?)) "
        "ORDER BY id LIMIT ?",
        (after, latest, today.weekday(), page),
    ).fetchall()
    return [(int(row[0]), str(row[1]), int(row[2])) for row in rows]


def _skipped_readers(db: sqlite3.Connection, digest_id: int) -> set[int]:
    """Readers whose mail of ``digest_id`` was skipped: they wait for a newer digest."""
    rows = db.execute(
        "SELECT subscriber_id FROM deliveries WHERE digest_id = ? AND status = 'skipped' "
        "AND subscriber_id IS NOT NULL",
        (digest_id,),
    ).fetchall()
    return {int(row[0]) for row in rows}


def _executemany(db: sqlite3.Connection, sql: str, rows: Sequence[Sequence[object]]) -> int:
    """Run ``sql`` for each row; the number of rows it changed (ignored inserts count 0)."""
    return int(db.executemany(sql, rows).rowcount)


def skip_delivery(db: sqlite3.Connection, delivery_id: int, reason: str, now: datetime) -> None:
    """Mark a delivery ``skipped`` and hand its digests back to the reader's next mail.

    The cursor goes back only while it still points at this delivery's digest,
    so a newer delivery already queued for the reader is never doubled.
    """
    with transaction(db):
        row = db.execute(
            "SELECT digest_id, from_digest_id, subscriber_id FROM deliveries WHERE id = ?",
            (delivery_id,),
        ).fetchone()
        db.execute(
            "UPDATE deliveries SET status = 'skipped', last_error = ?, updated = ? WHERE id = ?",
            (reason, iso_utc(now), delivery_id),
        )
        release_events(db, delivery_id)  # they ride along with the next mail
        if row is not None and row[2] is not None:
            db.execute(
                "UPDATE subscribers SET cursor_digest_id = ? WHERE id = ? AND cursor_digest_id = ?",
                (row[1], row[2], row[0]),
            )


def queue_operator_copy(
    db: sqlite3.Connection,
    digest_id: int,
    address: str,
    message_id: str,
    now: datetime,
    follow_since: datetime | None = None,
) -> int:
    """With no readers yet, the operator gets each digest, so a fresh install shows the mail."""
    with transaction(db):
        delivery_id = _insert(db, digest_id, digest_id - 1, None, address, message_id, now)
        if delivery_id is None:
            return 0
        if follow_since is not None:
            assign_events(db, delivery_id, address, since=follow_since)
        return 1


def _insert(
    db: sqlite3.Connection,
    digest_id: int,
    from_digest_id: int,
    subscriber_id: int | None,
    address: str,
    message_id: str,
    now: datetime,
) -> int | None:
    """Insert one ledger row; its id, or None when it was already there."""
    stamp = iso_utc(now)
    cursor = db.execute(
        "INSERT OR IGNORE INTO deliveries (digest_id, from_digest_id, subscriber_id, recipient, "
        "message_id, queued, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (digest_id, from_digest_id, subscriber_id, address, message_id, stamp, stamp),
    )
    return cursor.lastrowid if cursor.rowcount else None


def open_deliveries(db: sqlite3.Connection, *, page: int = 500) -> Iterator[Delivery]:
    """Deliveries still to send, oldest digest first, then in queue order, ``page`` at a time.

    A list of ten thousand readers is never loaded whole: each page is read
    after the previous one was sent and recorded (keyset paging, so rows that
    changed status meanwhile neither repeat nor shift the next page).
    """
    after = (-1, -1)
    while True:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM deliveries WHERE status IN ('pending', 'retry') "
            "AND (digest_id, id) > (?, ?) ORDER BY digest_id, id LIMIT ?",
            (*after, page),
        ).fetchall()
        for row in rows:
            yield Delivery(*row)
        if len(rows) < page:
            return
        after = (rows[-1][1], rows[-1][0])


def mark_delivery(
    db: sqlite3.Connection,
    delivery_id: int,
    status: str,
    now: datetime,
    error: str | None = None,
) -> None:
    """Record one outcome in its own transaction: a crash after this line loses nothing.

    A mail refused for good (``failed``: a spam filter's 554) gives its follow-ups
    back, as a skipped one does: the reader's next mail that gets through tells them.
    """
    with transaction(db):
        db.execute(
            "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, "
            "updated = ? WHERE id = ?",
            (status, error, iso_utc(now), delivery_id),
        )
        if status == "failed":
            release_events(db, delivery_id)


def queue_failed_again(db: sqlite3.Connection, now: datetime) -> int:
    """Give every ``failed`` delivery of a reader still subscribed another try; how many.

    A 5xx means the relay did not take the message, so sending it again never
    doubles it. For the operator who fixed what the relay refused (a sender it
    did not allow, a relay that wanted a login at RCPT): ``digest send --retry-failed``.
    The relay's earlier answer stays in ``last_error`` until the next outcome.
    """
    with transaction(db):
        cursor = db.execute(
            "UPDATE deliveries SET status = 'retry', updated = ? WHERE status = 'failed' "
            "AND (subscriber_id IS NULL OR subscriber_id IN "
            "(SELECT id FROM subscribers WHERE status = 'active'))",
            (iso_utc(now),),
        )
    return cursor.rowcount


def delivery_counts(db: sqlite3.Connection) -> dict[str, int]:
    rows = db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
    return {status: count for status, count in rows}


def deliveries_with_status(db: sqlite3.Connection, status: str) -> list[Delivery]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM deliveries WHERE status = ? ORDER BY id", (status,)
    ).fetchall()
    return [Delivery(*row) for row in rows]


def has_subscribers(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM subscribers LIMIT 1").fetchone() is not None


@dataclass(frozen=True)
class DeliveryProblem:
    """Deliveries in one unfinished state for one reason (``retry`` or ``failed``)."""

    status: str
    reason: str
    count: int
    example: str  # one recipient, to look at


def delivery_problems(db: sqlite3.Connection) -> list[DeliveryProblem]:
    """Retrying and failed deliveries grouped by the relay's answer, the most common first."""
    rows = db.execute(
        "SELECT status, coalesce(last_error, ''), count(*), min(recipient) FROM deliveries "
        "WHERE status IN ('retry', 'failed') GROUP BY status, last_error "
        "ORDER BY count(*) DESC, status"
    ).fetchall()
    return [DeliveryProblem(*row) for row in rows]
