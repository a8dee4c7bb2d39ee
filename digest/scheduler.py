"""The schedule: runs on time in the configured zone, catches up once after downtime.

The only module that imports APScheduler (3.x). Each distinct schedule is one
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from . import history
from .clock import utc_now
from .config import Settings, SourceConfig
from .errors import ConfigError, RunLockedError
from .history.locks import acquire_lock, beat, release_lock
from .history.runs import last_run_started
from .pipeline import run
from .runlock import describe_holder, exclusive
from .runtime import open_runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One schedule and the sources it runs (empty: every source without its own schedule)."""

    times: tuple[str, ...]
    sources: tuple[SourceConfig, ...]
    trigger: CronTrigger

    @property
    def name(self) -> str:
        return " | ".join(self.times)


def schedule_zone(settings: Settings) -> tzinfo:
    name = settings.get("schedule", "timezone")
    if name:
        return ZoneInfo(name)
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local


def make_trigger(times: Sequence[str], zone: tzinfo) -> CronTrigger:
    """HH:MM entries and cron lines → one trigger firing at the earliest of them."""
    from apscheduler.triggers.combining import OrTrigger

    triggers = [_one_trigger(item, zone) for item in times]
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


def _one_trigger(item: str, zone: tzinfo) -> CronTrigger:
    try:
        if ":" in item and len(item.split()) == 1:
            hour, minute = item.split(":")
            return CronTrigger(hour=int(hour), minute=int(minute), timezone=zone)
        # APScheduler numbers weekdays from Monday = 0 (cron: Sunday = 0): use names.
        return CronTrigger.from_crontab(item, timezone=zone)
    except ValueError as error:
        raise ConfigError(
            f"schedule {item!r}: {error} (write HH:MM or a cron line such as "
            "'0 20 * * sun,mon-thu'; a weekday range cannot wrap past Sunday)"
        ) from error


def jobs(settings: Settings) -> list[Job]:
    zone = schedule_zone(settings)
    default_times = tuple(settings.get("schedule", "times"))
    grouped: dict[tuple[str, ...], list[SourceConfig]] = {}
    for source in settings.sources:
        grouped.setdefault(source.schedule or default_times, []).append(source)
    return [
        Job(times, tuple(sources), make_trigger(times, zone)) for times, sources in grouped.items()
    ]


def next_fire_time(settings: Settings, now: datetime) -> datetime | None:
    """When the schedule fires next (for `digest status` and the health check)."""
    upcoming: list[datetime | None] = [
        job.trigger.get_next_fire_time(None, now) for job in jobs(settings)
    ]
    return min((moment for moment in upcoming if moment is not None), default=None)


def missed_slot(
    trigger: CronTrigger, last_run: datetime | None, now: datetime, grace: timedelta
) -> datetime | None:
    """The newest slot after ``last_run`` and not after ``now``, if it is within ``grace``."""
    if last_run is None:
        return None
    newest: datetime | None = None
    moment: datetime | None = trigger.get_next_fire_time(None, last_run + timedelta(seconds=1))
    while moment is not None and moment <= now:
        newest = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    if newest is not None and now - newest <= grace:
        return newest
    return None


def scheduled_run(settings: Settings, sources: tuple[SourceConfig, ...]) -> None:
    """One scheduled run: waits for a manual run in progress, never overlaps another."""
    job_settings = replace(settings, sources=sources)
    with (
        open_runtime(job_settings) as runtime,
        exclusive(runtime.db, "run", runtime.clock, wait=True),
    ):
        result = run(job_settings, runtime)
    log.info("scheduled run %d: %s", result.run_id, "ok" if result.ok else "with failures")


class Scheduler:
    """The scheduler of one database: refuses to start when another one holds it."""

    def __init__(
        self,
        settings: Settings,
        scheduler: BaseScheduler | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        job: Callable[[Settings, tuple[SourceConfig, ...]], None] = scheduled_run,
    ) -> None:
        self.settings = settings
        self.scheduler = scheduler or BlockingScheduler()
        self.clock = clock
        self.job = job
        self._token: str | None = None

    @classmethod
    def in_background(cls, settings: Settings) -> Scheduler:
        """A scheduler whose jobs run in threads beside another main loop (`digest serve`)."""
        from apscheduler.schedulers.background import BackgroundScheduler

        return cls(settings, BackgroundScheduler())

    def start(self) -> None:
        """Take the scheduler lock, add the jobs, catch up once, then start APScheduler."""
        self._claim()
        grace = int(self.settings.get("schedule", "misfire_grace"))
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
                self.job, DateTrigger(self.clock()), args=(self.settings, job.sources),
                id=f"catch-up {job.name}", name=f"catch-up run ({job.name})",
            )  # fmt: skip
        self.scheduler.start()

    def missed_jobs(self) -> list[Job]:
        """The jobs that missed a slot while nothing was running (each once)."""
        grace = timedelta(seconds=int(self.settings.get("schedule", "misfire_grace")))
        db = history.open_history(self.settings.data_dir / "digest.db")
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
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._token is not None:
            db = history.open_history(self.settings.data_dir / "digest.db")
            try:
                release_lock(db, "scheduler", self._token)
            finally:
                db.close()
            self._token = None

    def _claim(self) -> None:
        db = history.open_history(self.settings.data_dir / "digest.db")
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
        db = history.open_history(self.settings.data_dir / "digest.db")
        try:
            beat(db, "scheduler", self._token, self.clock())
        finally:
            db.close()
