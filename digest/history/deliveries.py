"""The outbox ledger: one row per (digest, recipient), committed one recipient at a time.

pending → sent (after the relay's 250, or the Maildir file is in place)
        → retry (4xx, connection lost: drained again next time)
        → failed (5xx: kept with the relay's answer, never retried)
The Message-ID is deterministic per row, so a retry is recognisable downstream.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from .papers import _iso
from .schema import transaction

OPEN_STATUSES = ("pending", "retry")


@dataclass(frozen=True)
class Delivery:
    id: int
    digest_id: int
    recipient: str
    message_id: str
    status: str
    attempts: int
    last_error: str | None


def queue_deliveries(
    db: sqlite_utils.Database,
    digest_id: int,
    recipients: Iterable[tuple[str, str]],
    now: datetime,
) -> int:
    """Queue ``(address, message_id)`` pairs for a digest; re-queuing is a no-op. Returns new rows."""
    stamp = _iso(now)
    with transaction(db):
        before = db.execute("SELECT total_changes()").fetchone()[0]
        db.conn.executemany(
            "INSERT OR IGNORE INTO deliveries (digest_id, recipient, message_id, queued, updated) "
            "VALUES (?, ?, ?, ?, ?)",
            [(digest_id, address, message_id, stamp, stamp) for address, message_id in recipients],
        )
        after = db.execute("SELECT total_changes()").fetchone()[0]
    return int(after - before)


def open_deliveries(db: sqlite_utils.Database, limit: int | None = None) -> list[Delivery]:
    """Deliveries still to send, oldest digest first, then in queue order."""
    rows = db.execute(
        "SELECT id, digest_id, recipient, message_id, status, attempts, last_error "
        "FROM deliveries WHERE status IN ('pending', 'retry') ORDER BY digest_id, id LIMIT ?",
        (limit if limit is not None else -1,),
    ).fetchall()
    return [Delivery(*row) for row in rows]


def mark_delivery(
    db: sqlite_utils.Database,
    delivery_id: int,
    status: str,
    now: datetime,
    error: str | None = None,
) -> None:
    """Record one outcome in its own transaction: a crash after this line loses nothing."""
    with transaction(db):
        db.execute(
            "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, "
            "updated = ? WHERE id = ?",
            (status, error, _iso(now), delivery_id),
        )


def delivery_counts(db: sqlite_utils.Database) -> dict[str, int]:
    rows = db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
    return {status: count for status, count in rows}
