"""One run at a time per database: scheduled runs, `digest run` and `digest send` share one lock.

The lock lives in SQLite (see :mod:`digest.history.locks`), so it works across
processes and survives crashes: a lock left by a dead process is taken over,
and the run it guarded is marked ``interrupted`` in the history of runs.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime

from ..errors import BusyError, RunLockedError
from ..history.locks import LockHolder, acquire_lock, release_lock
from ..history.runs import mark_interrupted_runs
from ..history.schema import busy_timeout, database_path

log = logging.getLogger(__name__)


@contextmanager
def exclusive(
    db: sqlite3.Connection,
    name: str,
    clock: Callable[[], datetime],
    *,
    wait: bool = False,
    wait_seconds: float | None = None,
    poll: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """Hold the named lock for the block; raise RunLockedError when it is taken.

    With ``wait``, wait for the holder to finish — without limit, or for at most
    ``wait_seconds`` — and also for a database that another process keeps
    write-locked (a long ``sqlite3`` session, a backup): past the deadline,
    :class:`~digest.errors.BusyError` or RunLockedError says who holds what.
    """
    deadline = None if wait_seconds is None else monotonic() + wait_seconds
    token, holder = _try(db, name, clock(), wait, _left(deadline, monotonic))
    while token is None:
        what = describe_holder(name, holder) if holder else _busy(db)
        if not wait:
            raise RunLockedError(what)
        if deadline is not None and monotonic() >= deadline:
            gave_up = f"gave up waiting after {wait_seconds:g} s: {what}"
            raise RunLockedError(gave_up) if holder else BusyError(gave_up)
        log.info("waiting: %s", what)
        sleep(poll if deadline is None else max(0.0, min(poll, deadline - monotonic())))
        token, holder = _try(db, name, clock(), wait, _left(deadline, monotonic))
    if holder is not None:
        log.warning("took over the %s lock of a process that died (pid %d)", name, holder.pid)
        if name == "run":
            mark_interrupted_runs(db, holder.pid, clock())
    try:
        yield token
    except BaseException:
        # The block's error is the one to report: a lock we cannot release (on a
        # full disk, say) is taken over from our dead pid by the next run.
        with suppress(sqlite3.Error):
            release_lock(db, name, token)
        raise
    release_lock(db, name, token)


def _left(deadline: float | None, monotonic: Callable[[], float]) -> float | None:
    return None if deadline is None else deadline - monotonic()


def _try(
    db: sqlite3.Connection, name: str, now: datetime, wait: bool, left: float | None
) -> tuple[str | None, LockHolder | None]:
    """One attempt; a database locked past SQLite's busy timeout counts as "not yet" when waiting.

    With a deadline, SQLite's own busy wait is cut to the time left, so that
    ``--wait-seconds 5`` never waits the default 30 s.
    """
    try:
        with busy_timeout(db, left):
            return acquire_lock(db, name, now)
    except sqlite3.OperationalError as error:
        if not wait or "locked" not in str(error):
            raise
        return None, None


def _busy(db: sqlite3.Connection) -> str:
    return (
        f"{database_path(db)} is locked by another process (find it with `fuser`); "
        "digest waits for it with --wait"
    )


def describe_holder(name: str, holder: LockHolder) -> str:
    what = "another run is in progress" if name == "run" else f"another {name} is running"
    since = holder.acquired.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{what} on this database since {since} (pid {holder.pid} on {holder.host}); " + (
        "use --wait to wait for it" if name == "run" else "stop it first"
    )
