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
from contextlib import contextmanager
from datetime import datetime

from ..errors import RunLockedError
from ..history.locks import LockHolder, acquire_lock, release_lock
from ..history.runs import mark_interrupted_runs

log = logging.getLogger(__name__)


@contextmanager
def exclusive(
    db: sqlite3.Connection,
    name: str,
    clock: Callable[[], datetime],
    *,
    wait: bool = False,
    poll: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    """Hold the named lock for the block; raise RunLockedError (or wait) when it is taken."""
    token, holder = acquire_lock(db, name, clock())
    while token is None:
        assert holder is not None
        if not wait:
            raise RunLockedError(describe_holder(name, holder))
        log.info("waiting: %s", describe_holder(name, holder))
        sleep(poll)
        token, holder = acquire_lock(db, name, clock())
    if holder is not None:
        log.warning("took over the %s lock of a process that died (pid %d)", name, holder.pid)
        if name == "run":
            mark_interrupted_runs(db, holder.pid, clock())
    try:
        yield token
    finally:
        release_lock(db, name, token)


def describe_holder(name: str, holder: LockHolder) -> str:
    what = "another run is in progress" if name == "run" else f"another {name} is running"
    since = holder.acquired.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{what} on this database since {since} (pid {holder.pid} on {holder.host}); " + (
        "use --wait to wait for it" if name == "run" else "stop it first"
    )
