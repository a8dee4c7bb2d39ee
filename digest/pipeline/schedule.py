"""When runs happen: ``[schedule] times`` and per-source schedules as APScheduler cron triggers.

Pure computation shared by the scheduler service (which fires the runs), the
web app (Cache-Control and the health check size themselves to the schedule)
and ``digest status``. APScheduler numbers weekdays from Monday = 0, so cron
lines use day names (README, "Running it every day").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from ..config import Settings, SourceConfig
from ..errors import ConfigError


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
