"""The process's clock: aware UTC datetimes, the one place digest asks what time it is.

``DIGEST_CLOCK=2026-11-30T07:00:00Z`` starts the clock at that instant and lets
it run on from there in real time. That is how the end-to-end tests run the
real ``digest`` command "on a Monday" whatever the machine's date, and how an
operator replays a day (e.g. a weekly reader's mail) without touching the
system clock. Unset, it is the machine's clock.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from .errors import ConfigError

CLOCK_VARIABLE = "DIGEST_CLOCK"

_ORIGIN = time.monotonic()


def utc_now() -> datetime:
    """Now, in UTC: the machine's clock, or ``DIGEST_CLOCK``'s instant plus the time since start."""
    start = os.environ.get(CLOCK_VARIABLE)
    if not start:
        return datetime.now(UTC)
    return _parse_start(start) + timedelta(seconds=time.monotonic() - _ORIGIN)


@lru_cache(maxsize=4)
def _parse_start(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{CLOCK_VARIABLE}={value!r} is not an ISO 8601 instant (e.g. 2026-11-30T07:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise ConfigError(
            f"{CLOCK_VARIABLE}={value!r} needs a UTC offset (e.g. 2026-11-30T07:00:00Z)"
        )
    return moment.astimezone(UTC)
