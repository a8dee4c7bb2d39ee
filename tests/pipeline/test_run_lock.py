"""One run at a time per database, across real processes; a dead holder's lock is taken over."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.servers import PageServer, Reply

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hf-daily-2025-03-12.json"


def environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    env.update(DIGEST_DATA_DIR=str(tmp_path / "data"), DIGEST_HTTP_TIMEOUT="30")
    return env


def start_run(tmp_path: Path, url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--source", url, *extra],
        env=environment(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for_request(server: PageServer, path: str) -> None:
    deadline = time.monotonic() + 30
    while not server.requests_for(path):
        assert time.monotonic() < deadline, "the first run never fetched its source"
        time.sleep(0.05)


def test_a_second_run_refuses_while_the_first_is_running(tmp_path: Path) -> None:
    with PageServer() as server:
        slow = server.route("/api/daily_papers", Reply(EXAMPLE.read_bytes(), stall=3))
        first = start_run(tmp_path, slow + "?date=2025-03-12")
        wait_for_request(server, "/api/daily_papers?date=2025-03-12&limit=100")
        second = start_run(tmp_path, str(EXAMPLE))
        _, error = second.communicate(timeout=60)
        assert second.returncode == 1
        assert "another run is in progress" in error and f"pid {first.pid}" in error
        assert first.wait(60) == 0
        first.communicate()
    db = sqlite3.Connection(tmp_path / "data" / "digest.db")
    assert db.execute("select count(*) from runs").fetchone()[0] == 1


def test_with_wait_the_second_run_waits_then_runs(tmp_path: Path) -> None:
    with PageServer() as server:
        slow = server.route("/api/daily_papers", Reply(EXAMPLE.read_bytes(), stall=2))
        first = start_run(tmp_path, slow + "?date=2025-03-12")
        wait_for_request(server, "/api/daily_papers?date=2025-03-12&limit=100")
        second = start_run(tmp_path, str(EXAMPLE), "--wait")
        second.communicate(timeout=60)
        first.communicate(timeout=60)
    assert (first.returncode, second.returncode) == (0, 0)
    db = sqlite3.Connection(tmp_path / "data" / "digest.db")
    runs = db.execute("select started, finished from runs order by id").fetchall()
    assert len(runs) == 2 and runs[0][1] <= runs[1][0], "the runs overlapped"


def test_a_killed_runs_lock_is_taken_over_and_its_run_marked_interrupted(tmp_path: Path) -> None:
    with PageServer() as server:
        slow = server.route("/api/daily_papers", Reply(EXAMPLE.read_bytes(), stall=30))
        first = start_run(tmp_path, slow + "?date=2025-03-12")
        wait_for_request(server, "/api/daily_papers?date=2025-03-12&limit=100")
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
    again = start_run(tmp_path, str(EXAMPLE))
    _, error = again.communicate(timeout=60)
    assert again.returncode == 0, error
    assert "took over the run lock" in error
    db = sqlite3.Connection(tmp_path / "data" / "digest.db")
    statuses = [row[0] for row in db.execute("select status from runs order by id")]
    assert statuses == ["interrupted", "ok"]
