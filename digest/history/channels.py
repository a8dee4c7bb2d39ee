"""The channel ledger: one row per (digest, channel), like the mail outbox's per (digest, reader).

pending → sent (the service accepted the post)
        → retry (it failed, timed out or answered 5xx/429: posted again next drain)
        → failed (it answered 4xx: kept with its answer, never retried)
        → skipped (the channel's topics picked nothing in that digest: nothing to post)
Each channel has a cursor, the newest digest already queued for it, moved in
the same transaction that inserts its rows, so a digest is queued once per
channel whatever happens after. A channel seen for the first time starts at
the newest digest: adding a channel to a years-old install posts today, not
its whole archive.

Follow-ups ride along (:mod:`.follow_ups`): each row queued takes the channel's
due events in that same transaction, and a skipped row gives them back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .digests import latest_digest_id
from .follow_ups import assign_channel_events, release_channel_events
from .schema import transaction
from .times import iso_utc, parse_utc


@dataclass(frozen=True)
class ChannelPost:
    """One ledger row: the post of digest ``digest_id`` (papers after ``from_digest_id``) to ``channel``."""

    id: int
    channel: str
    digest_id: int
    from_digest_id: int
    status: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class ChannelState:
    """What ``digest status`` shows per channel."""

    channel: str
    counts: dict[str, int]
    last_sent: datetime | None
    last_error: str | None


CHANNEL_STATUSES = ("pending", "sent", "retry", "failed", "skipped")
_COLUMNS = "id, channel, digest_id, from_digest_id, status, attempts, last_error"


def queue_channel_posts(
    db: sqlite3.Connection,
    channels: Sequence[str],
    now: datetime,
    follow_since: datetime | None = None,
) -> int:
    """Queue one row per channel for every digest after its cursor, in digest order.

    With ``follow_since``, each new row also takes the channel's follow-ups on
    papers its sent posts (queued since then) showed.
    """
    queued = 0
    stamp = iso_utc(now)
    with transaction(db):
        latest = latest_digest_id(db)
        for channel in channels:
            row = db.execute(
                "SELECT digest_id FROM channel_cursors WHERE channel = ?", (channel,)
            ).fetchone()
            if row is None:
                # New channel: the newest digest is the first it gets.
                after = int(
                    db.execute(
                        "SELECT coalesce(max(id), 0) FROM digests WHERE id < ?", (latest,)
                    ).fetchone()[0]
                )
            else:
                after = int(row[0])
            previous = after
            for (digest_id,) in db.execute(
                "SELECT id FROM digests WHERE id > ? AND id <= ? ORDER BY id", (after, latest)
            ).fetchall():
                cursor = db.execute(
                    "INSERT OR IGNORE INTO channel_posts (channel, digest_id, from_digest_id, "
                    "queued, updated) VALUES (?, ?, ?, ?, ?)",
                    (channel, digest_id, previous, stamp, stamp),
                )
                queued += cursor.rowcount
                if cursor.rowcount and follow_since is not None and cursor.lastrowid:
                    assign_channel_events(db, cursor.lastrowid, channel, since=follow_since)
                previous = digest_id
            db.execute(
                "INSERT INTO channel_cursors (channel, digest_id) VALUES (?, ?) "
                "ON CONFLICT (channel) DO UPDATE SET digest_id = excluded.digest_id",
                (channel, max(latest, after)),
            )
    return queued


def open_channel_posts(db: sqlite3.Connection, channel: str) -> list[ChannelPost]:
    """The channel's posts still to send, oldest digest first (the order they are posted in)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM channel_posts WHERE channel = ? "
        "AND status IN ('pending', 'retry') ORDER BY digest_id",
        (channel,),
    ).fetchall()
    return [ChannelPost(*row) for row in rows]


def mark_channel_posts(
    db: sqlite3.Connection,
    post_ids: Sequence[int],
    status: str,
    now: datetime,
    error: str | None = None,
) -> None:
    """Record one outcome for the rows one post covered, in one transaction."""
    with transaction(db):
        db.executemany(
            "UPDATE channel_posts SET status = ?, attempts = attempts + 1, last_error = ?, "
            "updated = ? WHERE id = ?",
            [(status, error, iso_utc(now), post_id) for post_id in post_ids],
        )
        if status == "skipped":
            release_channel_events(db, post_ids)  # they ride along with the next post


def channel_posts(db: sqlite3.Connection, channel: str | None = None) -> list[ChannelPost]:
    """Every row (of one channel), in order: for tests and ``digest status --json``."""
    where, args = ("WHERE channel = ?", (channel,)) if channel else ("", ())
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM channel_posts {where} ORDER BY channel, digest_id", args
    ).fetchall()
    return [ChannelPost(*row) for row in rows]


def channel_states(db: sqlite3.Connection) -> list[ChannelState]:
    """Per channel in the ledger: counts by status, when it last got a post, its last error."""
    states: list[ChannelState] = []
    names = [
        row[0] for row in db.execute("SELECT DISTINCT channel FROM channel_posts ORDER BY channel")
    ]
    for name in names:
        counts = {
            status: count
            for status, count in db.execute(
                "SELECT status, count(*) FROM channel_posts WHERE channel = ? GROUP BY status",
                (name,),
            ).fetchall()
        }
        sent = db.execute(
            "SELECT max(updated) FROM channel_posts WHERE channel = ? AND status = 'sent'", (name,)
        ).fetchone()[0]
        error = db.execute(
            "SELECT last_error FROM channel_posts WHERE channel = ? AND last_error IS NOT NULL "
            "AND status != 'skipped' ORDER BY updated DESC, id DESC LIMIT 1",
            (name,),
        ).fetchone()
        states.append(
            ChannelState(
                name, counts, parse_utc(sent) if sent else None, error[0] if error else None
            )
        )
    return states
