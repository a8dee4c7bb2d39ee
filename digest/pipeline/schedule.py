"""When runs happen: ``[schedule] times`` and per-source schedules as APScheduler cron triggers.

Pure computation shared by the scheduler service (which fires the runs), the
web app (Cache-Control and the health check size themselves to the schedule)
and ``digest status``. APScheduler numbers weekdays from Monday = 0, so cron
lines use day names (README, "Running it every day").

Importing APScheduler is most of what ``digest status`` would cost (~0.15 s:
its package metadata and asyncio), so it is imported only to compute, and the
next fire time is kept in ``next-run.json`` (:func:`next_fire_time`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..config import Settings, SourceConfig
from ..deliver.files import write_atomically
from ..errors import ConfigError
from ..locations import data_files

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger


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
    name = settings.schedule.timezone
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
    from apscheduler.triggers.cron import CronTrigger

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
    default_times = tuple(settings.schedule.times)
    grouped: dict[tuple[str, ...], list[SourceConfig]] = {}
    for source in settings.sources:
        grouped.setdefault(source.schedule or default_times, []).append(source)
    return [
        Job(times, tuple(sources), make_trigger(times, zone)) for times, sources in grouped.items()
    ]


def next_fire_time(settings: Settings, now: datetime) -> datetime | None:
    """When the schedule fires next (for `digest status` and the health check).

    A schedule is a pure function of time, so the answer computed at ``t0`` holds
    for any ``now`` from ``t0`` up to that fire time: it is kept in
    ``next-run.json`` with ``t0`` and what the schedule was, and used while all
    three still hold. A missing, unreadable or unwritable file only costs the
    computation.
    """
    key = _schedule_key(settings)
    kept = _kept_next_run(settings, key, now)
    if kept is not None:
        return kept
    upcoming: list[datetime | None] = [
        job.trigger.get_next_fire_time(None, now) for job in jobs(settings)
    ]
    found = min((moment for moment in upcoming if moment is not None), default=None)
    if found is not None:
        record = {"schedule": key, "computed": now.isoformat(), "next": found.isoformat()}
        # A read-only data directory: computed again next time.
        with contextlib.suppress(OSError):
            write_atomically(data_files(settings).next_run, json.dumps(record).encode())
    return found


def _schedule_key(settings: Settings) -> str:
    times = [list(settings.schedule.times), [list(s.schedule) for s in settings.sources]]
    text = json.dumps([times, str(schedule_zone(settings))])
    return hashlib.sha256(text.encode()).hexdigest()


def _kept_next_run(settings: Settings, key: str, now: datetime) -> datetime | None:
    try:
        record = json.loads(data_files(settings).next_run.read_bytes())
        computed = datetime.fromisoformat(record["computed"])
        upcoming = datetime.fromisoformat(record["next"])
        if record["schedule"] == key and computed <= now < upcoming:
            return upcoming
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


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
