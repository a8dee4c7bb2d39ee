"""Named locks in the database: one run at a time, one scheduler per database.

A lock row names its holder (pid, host, token). A holder that died without
releasing it (kill -9, a power cut) is detected — its pid is gone on this host,
or its heartbeat is older than ``STALE_AFTER`` on another host — and the lock
is taken over, so a crash never wedges the schedule.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from .schema import transaction
from .times import iso_utc, parse_utc

STALE_AFTER = timedelta(hours=2)


@dataclass(frozen=True)
class LockHolder:
    name: str
    token: str
    pid: int
    host: str
    acquired: datetime
    heartbeat: datetime


def acquire_lock(
    db: sqlite3.Connection, name: str, now: datetime
) -> tuple[str | None, LockHolder | None]:
    """Take the lock: ``(token, None)`` on success, ``(None, holder)`` when someone alive holds it."""
    token = os.urandom(8).hex()  # what secrets.token_hex does; `digest status` imports less
    with transaction(db):
        holder = lock_holder(db, name)
        if holder is not None and _alive(holder, now):
            return None, holder
        db.execute(
            "INSERT OR REPLACE INTO locks (name, token, pid, host, acquired, heartbeat) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name, token, os.getpid(), _host(), iso_utc(now), iso_utc(now)),
        )
    return token, holder


def release_lock(db: sqlite3.Connection, name: str, token: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM locks WHERE name = ? AND token = ?", (name, token))


def beat(db: sqlite3.Connection, name: str, token: str, now: datetime) -> None:
    with transaction(db):
        db.execute(
            "UPDATE locks SET heartbeat = ? WHERE name = ? AND token = ?",
            (iso_utc(now), name, token),
        )


def lock_holder(db: sqlite3.Connection, name: str) -> LockHolder | None:
    row = db.execute(
        "SELECT name, token, pid, host, acquired, heartbeat FROM locks WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        return None
    return LockHolder(row[0], row[1], row[2], row[3], parse_utc(row[4]), parse_utc(row[5]))


def live_holder(db: sqlite3.Connection, name: str, now: datetime) -> LockHolder | None:
    """The holder of the lock if it is still alive; a dead one's lock is as good as free."""
    holder = lock_holder(db, name)
    return holder if holder is not None and _alive(holder, now) else None


def _host() -> str:
    # socket.gethostname() is uname's nodename on Unix, without importing socket.
    return os.uname().nodename


def _alive(holder: LockHolder, now: datetime) -> bool:
    if holder.host == _host():
        return _pid_alive(holder.pid)
    # Another machine sharing the file: trust its heartbeat for a while.
    return now - holder.heartbeat < STALE_AFTER


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
