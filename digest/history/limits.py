"""Rate limits kept in SQLite, so a restart of `digest serve` does not reset them.

Each hit is a row (scope, key, time). A key is allowed ``limit`` hits in any
``window``; the check and the hit are one transaction, so two requests at the
same moment cannot both take the last slot. Rows older than any window are
pruned as new ones arrive.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from .schema import transaction
from .times import iso_utc, parse_utc

KEEP = timedelta(days=2)  # longer than any window we use


def take_hit(
    db: sqlite3.Connection,
    scope: str,
    key: str,
    *,
    limit: int,
    window: timedelta,
    now: datetime,
) -> float:
    """Count one hit for ``key`` and return 0, or return the seconds until it may try again."""
    with transaction(db):
        db.execute("DELETE FROM rate_hits WHERE at < ?", (iso_utc(now - KEEP),))
        rows = db.execute(
            "SELECT at FROM rate_hits WHERE scope = ? AND key = ? AND at > ? ORDER BY at",
            (scope, key, iso_utc(now - window)),
        ).fetchall()
        if len(rows) >= limit:
            oldest = parse_utc(rows[0][0])
            return max(1.0, (oldest + window - now).total_seconds())
        db.execute(
            "INSERT INTO rate_hits (scope, key, at) VALUES (?, ?, ?)", (scope, key, iso_utc(now))
        )
    return 0.0
