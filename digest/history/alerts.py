"""Per-source alert state, so an operator gets one mail per change, not one per run."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from .schema import transaction
from .times import iso_utc


def alert_state(db: sqlite3.Connection, source: str) -> str | None:
    row = db.execute("SELECT state FROM source_alerts WHERE source = ?", (source,)).fetchone()
    return str(row[0]) if row else None


def set_alert_state(db: sqlite3.Connection, source: str, state: str, now: datetime) -> None:
    with transaction(db):
        db.execute(
            "INSERT OR REPLACE INTO source_alerts (source, state, changed) VALUES (?, ?, ?)",
            (source, state, iso_utc(now)),
        )
