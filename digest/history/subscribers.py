"""Subscribers and their cursor: the last digest already queued for each of them.

The cursor moves in the same transaction that queues their delivery, so a
reader is queued once per digest range whatever happens after; the ledger row
then carries that mail until the relay accepts it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from .schema import transaction
from .times import iso_utc

FREQUENCIES = ("daily", "weekly", "paused")

_COLUMNS = (
    "id, email, name, topics, frequency, weekday, status, origin, created, cursor_digest_id, "
    "feed_generation, pending_since, updates"
)


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
    # Signed into the reader's private feed URL; unsubscribing bumps it, so every
    # URL handed out before stops working (and coming back gets a new one).
    feed_generation: int = 1
    pending_since: str | None = None  # when it last became pending: confirmation links name it
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
        feed_generation=int(row[10]),  # type: ignore[call-overload]
        pending_since=row[11] if row[11] is None else str(row[11]),
        updates=bool(row[12]),
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
                "created, confirmed, cursor_digest_id, pending_since) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (email, name, json.dumps(list(topics)), frequency, weekday, status, origin,
                 stamp, stamp if status == "active" else None, cursor,
                 stamp if status == "pending" else None),
            )  # fmt: skip
            fresh = True
        else:
            returning = existing.status == "unsubscribed"
            db.execute(
                "UPDATE subscribers SET name = coalesce(?, name), topics = ?, frequency = ?, "
                "weekday = ?, status = CASE WHEN status = 'active' THEN status ELSE ? END, "
                "unsubscribed = NULL, cursor_digest_id = CASE WHEN ? THEN ? ELSE cursor_digest_id END, "
                # A reader pending again after leaving gets a new pending_since, so the
                # confirmation links of before no longer match (see tokens.py).
                "pending_since = CASE WHEN status IN ('active', 'pending') OR ? != 'pending' "
                "THEN pending_since ELSE ? END "
                "WHERE id = ?",
                (name, json.dumps(list(topics)), frequency, weekday, status,
                 returning, cursor, status, stamp, existing.id),
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


def confirm_pending(
    db: sqlite3.Connection, subscriber_id: int, pending_since: str | None, now: datetime
) -> bool:
    """Activate a reader only while they are still pending since ``pending_since``.

    A confirmation link from an earlier sign-up (before an unsubscribe, say)
    names another ``pending_since`` and changes nothing.
    """
    with transaction(db):
        row = db.execute(
            "SELECT status, pending_since FROM subscribers WHERE id = ?", (subscriber_id,)
        ).fetchone()
        if row is None or row[0] != "pending" or row[1] != pending_since:
            return False
        return set_status(db, subscriber_id, "active", now, within=True)


def set_status(
    db: sqlite3.Connection, subscriber_id: int, status: str, now: datetime, *, within: bool = False
) -> bool:
    """active / unsubscribed / pending; idempotent. Returns whether anything changed."""
    stamp = iso_utc(now)
    with nullcontext(db) if within else transaction(db):
        cursor = db.execute(
            "UPDATE subscribers SET status = ?, "
            "unsubscribed = CASE WHEN ? = 'unsubscribed' THEN ? ELSE NULL END, "
            "confirmed = CASE WHEN ? = 'active' THEN coalesce(confirmed, ?) ELSE confirmed END, "
            "cursor_digest_id = CASE WHEN ? = 'active' AND status != 'active' THEN ? "
            "ELSE cursor_digest_id END, "
            "feed_generation = feed_generation + (? = 'unsubscribed') "
            "WHERE id = ? AND status != ?",
            (status, status, stamp, status, stamp, status, starting_cursor(db, stamp[:10]),
             status, subscriber_id, status),
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
