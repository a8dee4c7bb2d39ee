"""The schedule fires at the right instants in the operator's zone and catches up once after downtime."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from digest import history
from digest.config import Settings, SourceConfig, load_settings
from digest.errors import RunLockedError
from digest.pipeline.schedule import jobs, make_trigger, missed_slot, next_fire_time
from digest.scheduler import Scheduler

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def settings(tmp_path: Path, **environ: str) -> Settings:
    return load_settings(None, environ={"DIGEST_DATA_DIR": str(tmp_path), **environ})


def fire_times(times: list[str], zone: ZoneInfo, start: datetime, count: int) -> list[datetime]:
    trigger = make_trigger(times, zone)
    moments, previous, now = [], None, start
    for _ in range(count):
        moment = trigger.get_next_fire_time(previous, now)
        moments.append(moment)
        previous, now = moment, moment + timedelta(seconds=1)
    return moments


def test_seven_oclock_in_berlin_stays_seven_oclock_across_the_spring_dst_change() -> None:
    # Clocks went forward in Berlin on 2025-03-30: 07:00 is 06:00 UTC before, 05:00 UTC after.
    moments = fire_times(["07:00"], BERLIN, datetime(2025, 3, 29, 0, 0, tzinfo=UTC), 3)
    assert [m.astimezone(UTC).hour for m in moments] == [6, 5, 5]
    assert all(m.astimezone(BERLIN).hour == 7 for m in moments)


def test_arxiv_announcements_at_2000_new_york_sunday_to_thursday_across_the_autumn_change() -> None:
    # New York fell back on 2025-11-02 (a Sunday): 20:00 EDT = 00:00 UTC, 20:00 EST = 01:00 UTC.
    moments = fire_times(
        ["0 20 * * sun,mon-thu"], NEW_YORK, datetime(2025, 10, 30, 12, 0, tzinfo=UTC), 4
    )
    local = [m.astimezone(NEW_YORK) for m in moments]
    assert [m.strftime("%a %H:%M") for m in local] == [
        "Thu 20:00",
        "Sun 20:00",
        "Mon 20:00",
        "Tue 20:00",
    ]
    assert [m.astimezone(UTC).hour for m in moments] == [0, 1, 1, 1]


def test_several_times_a_day(tmp_path: Path) -> None:
    moments = fire_times(["07:00", "19:30"], BERLIN, datetime(2025, 6, 2, 6, 0, tzinfo=UTC), 3)
    assert [m.astimezone(BERLIN).strftime("%d %H:%M") for m in moments] == [
        "02 19:30",
        "03 07:00",
        "03 19:30",
    ]


def test_a_process_down_over_two_slots_runs_once_for_the_newest() -> None:
    trigger = make_trigger(["07:00"], UTC)
    last_run = datetime(2025, 3, 10, 7, 0, 5, tzinfo=UTC)
    now = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)  # missed the 11th and the 12th
    assert missed_slot(trigger, last_run, now, timedelta(hours=6)) == datetime(
        2025, 3, 12, 7, 0, tzinfo=UTC
    )


def test_a_slot_missed_longer_ago_than_the_grace_is_left_to_the_next_one() -> None:
    trigger = make_trigger(["07:00"], UTC)
    last_run = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
    assert (
        missed_slot(trigger, last_run, datetime(2025, 3, 11, 20, 0, tzinfo=UTC), timedelta(hours=6))
        is None
    )


def test_nothing_is_missed_when_the_last_run_came_after_the_last_slot() -> None:
    trigger = make_trigger(["07:00"], UTC)
    last_run = datetime(2025, 3, 12, 7, 0, 3, tzinfo=UTC)
    assert (
        missed_slot(trigger, last_run, datetime(2025, 3, 12, 9, 0, tzinfo=UTC), timedelta(hours=6))
        is None
    )


def test_sources_with_their_own_schedule_get_their_own_job(tmp_path: Path) -> None:
    base = settings(tmp_path, DIGEST_SCHEDULE_TIMES="07:00", DIGEST_SCHEDULE_TIMEZONE="UTC")
    arxiv = SourceConfig("https://rss.arxiv.org/rss/cs.LG", schedule=("0 1 * * mon-fri",))
    hf = SourceConfig("https://huggingface.co/api/daily_papers")
    found = jobs(replace(base, sources=(hf, arxiv)))
    assert [(job.times, [s.url for s in job.sources]) for job in found] == [
        (("07:00",), [hf.url]),
        (("0 1 * * mon-fri",), [arxiv.url]),
    ]
    assert next_fire_time(
        replace(base, sources=(hf, arxiv)), datetime(2025, 3, 11, 2, 0, tzinfo=UTC)
    ) == (datetime(2025, 3, 11, 7, 0, tzinfo=UTC))


def test_the_next_fire_time_is_kept_until_it_passes_or_the_schedule_changes(
    tmp_path: Path,
) -> None:
    daily = settings(tmp_path, DIGEST_SCHEDULE_TIMES="07:00", DIGEST_SCHEDULE_TIMEZONE="UTC")
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    kept = tmp_path / "next-run.json"

    assert next_fire_time(daily, monday) == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert kept.exists()
    # Within the hour the answer holds, whatever the file says it was computed from:
    kept.write_text(kept.read_text().replace("2026-12-01T07:00", "2026-12-01T06:59"))
    assert next_fire_time(daily, monday + timedelta(hours=1)) == datetime(
        2026, 12, 1, 6, 59, tzinfo=UTC
    ), "read back, not computed"
    # Past that fire time, before its computation, or on another schedule: computed again.
    assert next_fire_time(daily, monday + timedelta(days=1)) == datetime(
        2026, 12, 2, 7, 0, tzinfo=UTC
    )
    assert next_fire_time(daily, monday - timedelta(days=3)) == datetime(
        2026, 11, 28, 7, 0, tzinfo=UTC
    )
    evening = replace(daily, schedule=replace(daily.schedule, times=("20:00",)))
    assert next_fire_time(evening, monday) == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    kept.write_text("{not json")
    assert next_fire_time(daily, monday) == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


class RecordingScheduler:
    """Stands in for APScheduler's scheduler object: records jobs instead of running threads."""

    def __init__(self) -> None:
        self.jobs: list[tuple[object, dict[str, object]]] = []
        self.running = False

    def add_job(self, func: object, trigger: object, **options: object) -> None:
        self.jobs.append((trigger, options))

    def start(self) -> None:
        self.running = True

    def shutdown(self, wait: bool = True) -> None:
        self.running = False


def test_on_start_a_missed_run_is_queued_once_and_a_second_scheduler_refuses(
    tmp_path: Path,
) -> None:
    config = settings(tmp_path, DIGEST_SCHEDULE_TIMES="07:00", DIGEST_SCHEDULE_TIMEZONE="UTC")
    db = history.open_history(tmp_path / "digest.db")
    history.start_run(db, datetime(2025, 3, 10, 7, 0, tzinfo=UTC))
    db.close()
    now = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
    fake = RecordingScheduler()
    first = Scheduler(config, fake, clock=lambda: now)  # type: ignore[arg-type]
    first.start()
    catch_ups = [options for _, options in fake.jobs if str(options["id"]).startswith("catch-up")]
    assert len(catch_ups) == 1
    with pytest.raises(RunLockedError, match="another scheduler is running"):
        Scheduler(config, RecordingScheduler(), clock=lambda: now).start()  # type: ignore[arg-type]
    first.stop()
    second = Scheduler(config, RecordingScheduler(), clock=lambda: now)  # type: ignore[arg-type]
    second.start()
    second.stop()


def test_digest_serve_runs_the_scheduler_so_a_second_one_refuses(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    env["DIGEST_DATA_DIR"] = str(tmp_path)
    digest = [sys.executable, "-m", "digest"]
    server = subprocess.Popen(
        [*digest, "serve", "--port", str(port)], env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code in (200, 503):
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "digest serve did not come up"
                time.sleep(0.2)
        second = subprocess.run(
            [*digest, "schedule"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 1
        assert "another scheduler is running on this database" in second.stderr
        assert f"pid {server.pid}" in second.stderr
    finally:
        server.terminate()
        server.wait(30)
