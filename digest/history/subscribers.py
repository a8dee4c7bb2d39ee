"""Subscribers and their cursor: the last digest already queued for each of them.

The cursor moves in the same transaction that queues their delivery, so a
reader is queued once per digest range whatever happens after; the ledger row
then carries that mail until the relay accepts it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .schema import transaction
from .times import iso_utc

FREQUENCIES = ("daily", "weekly", "paused")

_COLUMNS = "id, email, name, topics, frequency, weekday, status, origin, created, cursor_digest_id, updates"


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str | None
    topics: tuple[str, ...]
    frequency: str
    weekday: int
    status: str
    origin: str
    created: str
    cursor_digest_id: int
    updates: bool = True  # follow-ups on papers they received (docs/follow-ups.md)


def _subscriber(row: Sequence[object]) -> Subscriber:
    return Subscriber(
        id=int(row[0]),  # type: ignore[call-overload]
        email=str(row[1]),
        name=row[2] if row[2] is None else str(row[2]),
        topics=tuple(json.loads(str(row[3]))),
        frequency=str(row[4]),
        weekday=int(row[5]),  # type: ignore[call-overload]
        status=str(row[6]),
        origin=str(row[7]),
        created=str(row[8]),
        cursor_digest_id=int(row[9]),  # type: ignore[call-overload]
        updates=bool(row[10]),
    )


def starting_cursor(db: sqlite3.Connection, today: str) -> int:
    """A new reader starts with today's digest: the cursor is the last digest of an earlier day."""
    row = db.execute("SELECT max(id) FROM digests WHERE day < ?", (today,)).fetchone()
    return int(row[0] or 0)


def add_subscriber(
    db: sqlite3.Connection,
    email: str,
    *,
    now: datetime,
    name: str | None = None,
    topics: Sequence[str] = (),
    frequency: str = "daily",
    weekday: int = 0,
    status: str = "active",
    origin: str = "cli",
    updates: bool | None = None,
) -> tuple[Subscriber, bool]:
    """Insert or update a subscriber; returns it and whether it was new (or came back)."""
    stamp = iso_utc(now)
    with transaction(db):
        existing = find_subscriber(db, email)
        cursor = starting_cursor(db, stamp[:10])
        if existing is None:
            db.execute(
                "INSERT INTO subscribers (email, name, topics, frequency, weekday, status, origin, "
                "created, confirmed, cursor_digest_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (email, name, json.dumps(list(topics)), frequency, weekday, status, origin,
                 stamp, stamp if status == "active" else None, cursor),
            )  # fmt: skip
            fresh = True
        else:
            returning = existing.status == "unsubscribed"
            db.execute(
                "UPDATE subscribers SET name = coalesce(?, name), topics = ?, frequency = ?, "
                "weekday = ?, status = CASE WHEN status = 'active' THEN status ELSE ? END, "
                "unsubscribed = NULL, cursor_digest_id = CASE WHEN ? THEN ? ELSE cursor_digest_id END "
                "WHERE id = ?",
                (name, json.dumps(list(topics)), frequency, weekday, status,
                 returning, cursor, existing.id),
            )  # fmt: skip
            fresh = returning
        if updates is not None:
            db.execute("UPDATE subscribers SET updates = ? WHERE email = ?", (int(updates), email))
    found = find_subscriber(db, email)
    assert found is not None
    return found, fresh


def find_subscriber(db: sqlite3.Connection, email: str) -> Subscriber | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE email = ?", (email,)).fetchone()
    return _subscriber(row) if row else None


def get_subscriber(db: sqlite3.Connection, subscriber_id: int) -> Subscriber | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM subscribers WHERE id = ?", (subscriber_id,)
    ).fetchone()
    return _subscriber(row) if row else None


def list_subscribers(
    db: sqlite3.Connection, *, include_gone: bool = False, origin: str | None = None
) -> list[Subscriber]:
    """Readers by address (not unsubscribed ones unless ``include_gone``), of one ``origin``."""
    where = ["1"] if include_gone else ["status != 'unsubscribed'"]
    if origin is not None:
        where.append("origin = ?")
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM subscribers WHERE {' AND '.join(where)} ORDER BY email",
        () if origin is None else (origin,),
    ).fetchall()
    return [_subscriber(row) for row in rows]


def set_status(db: sqlite3.Connection, subscriber_id: int, status: str, now: datetime) -> bool:
    """active / unsubscribed / pending; idempotent. Returns whether anything changed."""
    stamp = iso_utc(now)
    with transaction(db):
        cursor = db.execute(
            "UPDATE subscribers SET status = ?, "
            "unsubscribed = CASE WHEN ? = 'unsubscribed' THEN ? ELSE NULL END, "
            "confirmed = CASE WHEN ? = 'active' THEN coalesce(confirmed, ?) ELSE confirmed END, "
            "cursor_digest_id = CASE WHEN ? = 'active' AND status != 'active' THEN ? "
            "ELSE cursor_digest_id END "
            "WHERE id = ? AND status != ?",
            (status, status, stamp, status, stamp, status, starting_cursor(db, stamp[:10]),
             subscriber_id, status),
        )  # fmt: skip
    return bool(cursor.rowcount)


def update_preferences(
    db: sqlite3.Connection,
    subscriber_id: int,
    *,
    topics: Sequence[str],
    frequency: str,
    weekday: int,
    updates: bool | None = None,
) -> None:
    with transaction(db):
        db.execute(
            "UPDATE subscribers SET topics = ?, frequency = ?, weekday = ?, "
            "updates = coalesce(?, updates) WHERE id = ?",
            (json.dumps(list(topics)), frequency, weekday,
             None if updates is None else int(updates), subscriber_id),
        )  # fmt: skip


def remove_subscriber(db: sqlite3.Connection, email: str, now: datetime) -> bool:
    """Unsubscribe (the row stays: its ledger history explains what was sent)."""
    found = find_subscriber(db, email)
    return found is not None and set_status(db, found.id, "unsubscribed", now)
