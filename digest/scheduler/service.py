"""The schedule: runs on time in the configured zone, catches up once after downtime.

The only module that runs APScheduler (3.x); the triggers come from
:mod:`digest.pipeline.schedule`. Each distinct schedule is one
cron job: the global ``[schedule] times`` run every source without a schedule
of its own; a source with ``schedule = [...]`` (arXiv after its 20:00 New York
announcement, say) gets its own job. Jobs coalesce and never overlap, and a
scheduled run waits for a manual one (they share the run lock).

Catch-up: APScheduler forgets what it missed while the process was down, so
at start we compare the newest slot that should have fired with the newest
run in history; when a slot was missed (and is within ``misfire_grace``),
exactly one run happens at once, however many slots were missed. History,
not dates, decides what is new, so that one run delivers all that was missed.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .. import history
from ..clock import utc_now
from ..config import Settings, SourceConfig
from ..errors import RunLockedError
from ..history.locks import acquire_lock, beat, release_lock
from ..history.runs import last_run_started
from ..locations import data_files
from ..pipeline.locks import describe_holder, exclusive
from ..pipeline.run import run
from ..pipeline.runtime import open_runtime
from ..pipeline.schedule import Job, jobs, missed_slot
from ..pipeline.stopping import Interrupted, Stop

log = logging.getLogger(__name__)


def scheduled_run(
    settings: Settings, sources: tuple[SourceConfig, ...], stop: Stop | None = None
) -> None:
    """One scheduled run: waits for a manual run in progress, never overlaps another.

    ``stop`` is the scheduler's: when the process is told to stop, the run
    finishes the message in flight, records itself ``interrupted`` and returns.
    """
    job_settings = replace(settings, sources=sources)
    stop = stop or Stop()
    try:
        with (
            open_runtime(job_settings, stop=stop) as runtime,
            exclusive(runtime.db, "run", runtime.clock, wait=True, sleep=stop.nap),
        ):
            result = run(job_settings, runtime)
    except Interrupted as interrupted:
        log.warning("scheduled run %s; the next run picks up from here", interrupted)
        return
    log.info("scheduled run %d: %s", result.run_id, "ok" if result.ok else "with failures")


class Scheduler:
    """The scheduler of one database: refuses to start when another one holds it."""

    def __init__(
        self,
        settings: Settings,
        scheduler: BaseScheduler | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        job: Callable[[Settings, tuple[SourceConfig, ...]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.scheduler = scheduler or BlockingScheduler()
        self.clock = clock
        self.halt = Stop()  # asked by stop(): a run in progress ends after its message in flight
        self.job = job or partial(scheduled_run, stop=self.halt)
        self._token: str | None = None

    @classmethod
    def in_background(cls, settings: Settings) -> Scheduler:
        """A scheduler whose jobs run in threads beside another main loop (`digest serve`)."""
        from apscheduler.schedulers.background import BackgroundScheduler

        return cls(settings, BackgroundScheduler())

    def start(self) -> None:
        """Take the scheduler lock, add the jobs, catch up once, then start APScheduler."""
        self._claim()
        grace = int(self.settings.schedule.misfire_grace)
        for job in jobs(self.settings):
            self.scheduler.add_job(
                self.job,
                job.trigger,
                args=(self.settings, job.sources),
                id=job.name,
                name=f"digest run ({job.name})",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=grace,
            )
        self.scheduler.add_job(self._heartbeat, IntervalTrigger(minutes=10), id="heartbeat")
        for job in self.missed_jobs():
            # Run once, now, in the scheduler's own thread (not once per missed slot).
            self.scheduler.add_job(
                self.job, DateTrigger(), args=(self.settings, job.sources),  # APScheduler's now
                id=f"catch-up {job.name}", name=f"catch-up run ({job.name})",
            )  # fmt: skip
        self.scheduler.start()

    def missed_jobs(self) -> list[Job]:
        """The jobs that missed a slot while nothing was running (each once)."""
        grace = timedelta(seconds=int(self.settings.schedule.misfire_grace))
        db = history.open_history(data_files(self.settings).database)
        try:
            last = last_run_started(db)
        finally:
            db.close()
        missed = []
        for job in jobs(self.settings):
            slot = missed_slot(job.trigger, last, self.clock(), grace)
            if slot is not None:
                log.info("missed the %s run while down; running once now", slot.isoformat())
                missed.append(job)
        return missed

    def stop(self) -> None:
        """Stop the schedule; a run in progress finishes its message in flight and is recorded."""
        self.halt.request(signal.SIGTERM)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self._token is not None:
            db = history.open_history(data_files(self.settings).database)
            try:
                release_lock(db, "scheduler", self._token)
            finally:
                db.close()
            self._token = None

    def _claim(self) -> None:
        db = history.open_history(data_files(self.settings).database)
        try:
            token, holder = acquire_lock(db, "scheduler", self.clock())
        finally:
            db.close()
        if token is None:
            assert holder is not None
            raise RunLockedError(describe_holder("scheduler", holder))
        self._token = token

    def _heartbeat(self) -> None:
        if self._token is None:
            return
        db = history.open_history(data_files(self.settings).database)
        try:
            beat(db, "scheduler", self._token, self.clock())
        finally:
            db.close()
