"""What the schedule means for the web side: how long a feed may be cached, how old a run may be.

The fire times come from :func:`digest.scheduler.jobs` (the one module that
speaks APScheduler), so the health check and ``Cache-Control`` read the same
``[schedule]`` as the scheduler does, per-source schedules included.

- ``max_age``: a feed is fresh until shortly after the next scheduled run,
  capped at three hours (docs/standards.md §5.2), and kept short while a run
  that just fired may still be writing.
- ``allowed_age``: a finished run is expected after every scheduled time; the
  longest gap between two of them plus ``misfire_grace`` is as old as the last
  finished run may get before ``/healthz`` says 503.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise

from ..config import Settings

RUN_ALLOWANCE = timedelta(minutes=10)  # a run usually finishes well within this
MAX_AGE_CAP = 3 * 3600
MAX_AGE_FLOOR = 60
_HORIZON = timedelta(days=15)  # fire times are listed this far ahead (a weekly cron fits twice)
_LOOK_BACK = timedelta(days=2)
_DAILY = timedelta(hours=24)

FireTimes = Callable[[datetime, datetime], list[datetime]]


def scheduler_fire_times(settings: Settings) -> FireTimes:
    """Every time the configured schedule fires between two moments, all jobs merged."""
    from ..pipeline.schedule import jobs  # imports APScheduler; only needed once a Cadence starts

    triggers = [job.trigger for job in jobs(settings)]

    def fire_times(start: datetime, end: datetime) -> list[datetime]:
        moments: set[datetime] = set()
        for trigger in triggers:
            moment = trigger.get_next_fire_time(None, start)
            while moment is not None and moment <= end:
                moments.add(moment)
                moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
        return sorted(moments)

    return fire_times


class Cadence:
    """Fire times around ``now``, computed once per fortnight and looked up by bisection."""

    def __init__(self, settings: Settings, fire_times: FireTimes | None = None) -> None:
        self._fire_times = fire_times or scheduler_fire_times(settings)
        self._grace = timedelta(seconds=int(settings.schedule.misfire_grace))
        self._times: list[datetime] = []
        self._valid_until: datetime | None = None

    def max_age(self, now: datetime) -> int:
        """Seconds a reader may cache a feed fetched at ``now``."""
        previous, following = self._neighbours(now)
        if previous is not None and now - previous < RUN_ALLOWANCE:
            return max(MAX_AGE_FLOOR, _seconds(previous + RUN_ALLOWANCE - now))
        if following is None:
            return MAX_AGE_CAP
        return max(MAX_AGE_FLOOR, min(MAX_AGE_CAP, _seconds(following + RUN_ALLOWANCE - now)))

    def allowed_age(self, now: datetime) -> timedelta:
        """How old the last finished run may be at ``now`` before the service is unhealthy."""
        times = self._around(now)
        gaps = [later - earlier for earlier, later in pairwise(times)]
        return max(gaps, default=_DAILY) + self._grace

    def _neighbours(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        times = self._around(now)
        index = bisect.bisect_right(times, now)
        previous = times[index - 1] if index > 0 else None
        following = times[index] if index < len(times) else None
        return previous, following

    def _around(self, now: datetime) -> list[datetime]:
        if self._valid_until is None or not (
            self._valid_until - _HORIZON < now < self._valid_until
        ):
            start = now - _LOOK_BACK
            self._times = self._fire_times(start, now + _HORIZON + _LOOK_BACK)
            self._valid_until = now + _HORIZON
        return self._times


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())
