"""Honest runs under faults, on real processes: signals, kill -9, a full disk, a hung relay, a lock.

Every test runs the real ``digest`` command in a subprocess against a real
SMTP relay (aiosmtpd) and a real SQLite file on 127.0.0.1, then reads the
ledger and counts copies per reader: at most the one message in flight may
arrive twice, and the next ``digest send`` finishes the rest.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from digest import history
from digest.clock import CLOCK_VARIABLE
from digest.pipeline.readers import Preferences, add
from tests.servers import PageServer, Reply, SilentRelay, SmtpSink
from tests.web_server import EXAMPLES, MONDAY

READERS = [f"reader{number}@example.org" for number in range(1, 7)]
HF_DAY = EXAMPLES / "hf-daily-2025-03-12.json"


def environment(data: Path, relay_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    env.update(
        {
            "DIGEST_DATA_DIR": str(data),
            "DIGEST_MAIL_SMTP_URL": relay_url,
            "DIGEST_SITE_BASE_URL": "https://digest.example.org",
            CLOCK_VARIABLE: MONDAY.isoformat(),
            **extra,
        }
    )
    return env


def digest(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        env=env, cwd=env["DIGEST_DATA_DIR"], capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "digest", *args],
        env=env, cwd=env["DIGEST_DATA_DIR"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def add_readers(data: Path, *addresses: str) -> None:
    db = history.open_history(data / "digest.db")
    for address in addresses:
        add(db, address, Preferences(), now=MONDAY)
    db.close()


def ledger(data: Path) -> Counter[str]:
    db = sqlite3.connect(data / "digest.db")
    try:
        return Counter(status for (status,) in db.execute("SELECT status FROM deliveries"))
    finally:
        db.close()


def runs(data: Path) -> list[tuple[str, int, str | None]]:
    db = sqlite3.connect(data / "digest.db")
    try:
        return db.execute("SELECT status, novel, reason FROM runs ORDER BY id").fetchall()
    finally:
        db.close()


def duplicates(relay: SmtpSink) -> int:
    return sum(count - 1 for count in Counter(relay.recipients()).values())


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as relay:
        yield relay


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_send_finishes_the_message_in_flight_and_records_an_interrupted_run(
    tmp_path: Path, sink: SmtpSink, signum: int, code: int
) -> None:
    add_readers(tmp_path, *READERS)
    sink.hold_at, sink.accept_held = 3, True
    env = environment(tmp_path, sink.url)
    process = start(env, "run", "--source", str(HF_DAY))
    try:
        assert sink.held.wait(60), "the run never reached the 3rd message"
        process.send_signal(signum)
        time.sleep(0.5)  # the signal arrives while the relay still holds message 3
        sink.release.set()
        _, error = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code, error
    assert f"stopped by {signal.Signals(signum).name}" in error
    assert "Traceback" not in error
    assert len(sink.messages) == 3, "the message in flight is finished, nothing after it"
    assert ledger(tmp_path) == Counter(sent=3, pending=3)
    ((status, novel, reason),) = runs(tmp_path)
    assert (status, reason) == ("interrupted", f"stopped by {signal.Signals(signum).name}")
    assert novel == 8, "an interrupted run reports what it ingested"

    shown = digest(env, "status")
    assert "interrupted" in shown.stdout and "8 new" in shown.stdout
    assert "no run in progress" in shown.stdout

    resumed = digest(env, "send")
    assert resumed.returncode == 0, resumed.stderr
    assert Counter(sink.recipients()) == Counter(READERS)


def test_after_kill_9_status_shows_no_run_in_progress_and_the_run_as_interrupted(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path, "maildir:outbox")
    with PageServer() as server:
        # The first source is read, the second hangs: the run is killed in between.
        first = server.route("/day.json", Reply(HF_DAY.read_bytes()))
        slow = server.route("/slow.json", Reply(HF_DAY.read_bytes(), stall=30))
        process = start(env, "run", "--source", first, "--source", slow)
        deadline = time.monotonic() + 30
        while not server.requests_for("/slow.json"):
            assert time.monotonic() < deadline, "the run never reached its second source"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
    shown = digest(env, "status")
    assert shown.returncode == 0, shown.stderr
    assert "no run in progress" in shown.stdout
    assert f"pid {process.pid}" in shown.stdout and "ended without finishing" in shown.stdout
    report = json.loads(digest(env, "status", "--json").stdout)
    assert report["running"] is None
    newest = report["runs"][0]
    assert newest["status"] == "interrupted" and newest["novel"] == 8


def test_status_exits_1_when_the_newest_run_failed(tmp_path: Path) -> None:
    env = environment(tmp_path, "maildir:outbox")
    failed = digest(env, "run", "--source", str(tmp_path / "missing.json"))
    assert failed.returncode == 1
    assert digest(env, "status").returncode == 1
    assert digest(env, "run", "--source", str(HF_DAY)).returncode == 0
    assert digest(env, "status").returncode == 0


def fill(folder: Path) -> Path:
    """Write until the file system is full (a real ENOSPC for whoever writes next)."""
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs: a disk that really fills up. Needs root (CI and this machine are).

    (An empty history in 32 KiB pages is ~1.8 MB before its WAL: 4 MiB filled up before
    the first mail.)
    """
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_disk_that_fills_mid_send_costs_at_most_one_duplicate(
    small_disk: Path, sink: SmtpSink
) -> None:
    add_readers(small_disk, *READERS)
    env = environment(small_disk, sink.url)
    filled: list[Path] = []
    sink.after_accept = lambda count: filled.append(fill(small_disk)) if count == 2 else None
    done = digest(env, "run", "--source", str(HF_DAY))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "outbox ledger in" in last and "disk is full" in last and "`digest send`" in last
    assert len(sink.messages) <= 3, "sending stopped at the ledger failure"

    filled[0].unlink()
    sink.after_accept = None
    resumed = digest(env, "send")
    assert resumed.returncode == 0, resumed.stderr
    assert set(sink.recipients()) == set(READERS)
    assert duplicates(sink) <= 1


def test_a_hung_relay_is_given_up_on_after_two_timeouts(tmp_path: Path) -> None:
    add_readers(tmp_path, *READERS)
    with SilentRelay() as relay:
        env = environment(tmp_path, relay.url, DIGEST_MAIL_SMTP_TIMEOUT="1")
        done = digest(env, "run", "--source", str(HF_DAY))
        assert done.returncode == 1
        assert "timed out 2 times in a row" in done.stderr
        assert len(relay.connections) == 2, "one connection per timed-out reader, then no more"
    assert ledger(tmp_path) == Counter(retry=2, pending=4)

    with SmtpSink() as sink:
        resumed = digest(environment(tmp_path, sink.url), "send")
        assert resumed.returncode == 0, resumed.stderr
        assert Counter(sink.recipients()) == Counter(READERS)


def hold_write_lock(database: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_locked_database_is_one_line_and_wait_seconds_gives_up_on_time(tmp_path: Path) -> None:
    env = environment(tmp_path, "maildir:outbox")
    assert digest(env, "run", "--source", str(HF_DAY)).returncode == 0
    holder = hold_write_lock(tmp_path / "digest.db")
    try:
        began = time.monotonic()
        waited = digest(env, "run", "--source", str(HF_DAY), "--wait-seconds", "2")
        took = time.monotonic() - began
    finally:
        holder.rollback()
        holder.close()
    assert waited.returncode == 1
    assert waited.stderr.count("\n") == 1, waited.stderr
    assert "gave up waiting after 2 s" in waited.stderr and "digest.db is locked" in waited.stderr
    assert took < 20, "--wait-seconds 2 must not wait SQLite's 30 s"


def read_only_folder(tmp_path: Path, name: str, fill: dict[str, bytes]) -> Path:
    """A folder on a read-only bind mount holding ``fill`` (root ignores file modes)."""
    source, folder = tmp_path / f"{name}-source", tmp_path / name
    source.mkdir()
    folder.mkdir()
    for file, data in fill.items():
        (source / file).write_bytes(data)
    for command in (
        ["mount", "--bind", str(source), str(folder)],
        ["mount", "-o", "remount,bind,ro", str(folder)],
    ):
        if subprocess.run(command, capture_output=True).returncode != 0:
            pytest.skip("cannot make a read-only bind mount here")
    return folder


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[list[Path]]:
    made: list[Path] = []
    yield made
    for folder in made:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_database_is_one_line_naming_it(tmp_path: Path, mounts: list[Path]) -> None:
    env = environment(tmp_path, "maildir:outbox")
    assert digest(env, "run", "--source", str(HF_DAY)).returncode == 0
    copy = tmp_path / "copy.db"
    db = sqlite3.connect(tmp_path / "digest.db")
    db.execute(f"VACUUM INTO '{copy}'")
    db.close()
    readonly = read_only_folder(tmp_path, "readonly", {"digest.db": copy.read_bytes()})
    mounts.append(readonly)
    env = {**env, "DIGEST_DATA_DIR": str(readonly)}
    failed = digest(env, "run", "--source", str(HF_DAY))
    assert failed.returncode == 2, failed.stderr
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
    assert "read-only" in failed.stderr and str(readonly) in failed.stderr
    verbose = digest(env, "-v", "run", "--source", str(HF_DAY))
    assert verbose.returncode == 2 and "Traceback" in verbose.stderr, "-v shows the details"


def test_an_unwritable_outbox_is_one_line_naming_it(tmp_path: Path, mounts: list[Path]) -> None:
    readonly = read_only_folder(tmp_path, "mail", {})
    mounts.append(readonly)
    add_readers(tmp_path, READERS[0])
    env = environment(tmp_path, f"maildir:{readonly / 'outbox'}")
    failed = digest(env, "run", "--source", str(HF_DAY))
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr
    assert f"cannot write {readonly / 'outbox'}" in failed.stderr


def test_a_feed_path_taken_by_a_folder_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "feed.atom").mkdir()
    failed = digest(environment(tmp_path, "maildir:outbox"), "run", "--source", str(HF_DAY))
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr
    assert str(tmp_path / "feed.atom") in failed.stderr and "is a folder" in failed.stderr
    ((status, novel, reason),) = runs(tmp_path)
    assert status == "failed" and novel == 8 and "feed.atom" in (reason or "")


def test_sigterm_to_digest_serve_lets_a_scheduled_send_finish_its_message_in_flight(
    tmp_path: Path, sink: SmtpSink
) -> None:
    """The catch-up run of `digest serve` is mid-send when systemd stops the service."""
    add_readers(tmp_path, *READERS)
    db = history.open_history(tmp_path / "digest.db")
    earlier = history.start_run(db, MONDAY - timedelta(days=1))
    history.finish_run(db, earlier, now=MONDAY - timedelta(days=1), ok=True, novel=0,
                       digest_id=None, report={})  # fmt: skip
    db.close()
    config = tmp_path / "digest.toml"
    config.write_text(f'[[sources]]\nurl = "{HF_DAY}"\n', encoding="utf-8")
    sink.hold_at, sink.accept_held = 3, True
    env = environment(
        tmp_path, sink.url, DIGEST_SCHEDULE_TIMES="07:00", DIGEST_SCHEDULE_TIMEZONE="UTC"
    )
    env[CLOCK_VARIABLE] = (MONDAY + timedelta(minutes=5)).isoformat()  # the 07:00 run was missed
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start(env, "--config", str(config), "serve", "--port", str(port))
    try:
        assert sink.held.wait(60), "the catch-up run never reached the 3rd message"
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sink.release.set()
        _, error = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode == 143, error
    assert len(sink.messages) == 3
    assert ledger(tmp_path) == Counter(sent=3, pending=3)
    assert [status for status, _, _ in runs(tmp_path)] == ["ok", "interrupted"]
    resumed = digest(env, "send")
    assert resumed.returncode == 0, resumed.stderr
    assert Counter(sink.recipients()) == Counter(READERS)


def test_sigterm_to_digest_send_finishes_the_message_in_flight(
    tmp_path: Path, sink: SmtpSink
) -> None:
    add_readers(tmp_path, *READERS)
    with socket.socket() as closed:  # a relay that is down: every message stays to retry
        closed.bind(("127.0.0.1", 0))
        down = f"smtp://127.0.0.1:{closed.getsockname()[1]}?tls=off"
    assert digest(environment(tmp_path, down), "run", "--source", str(HF_DAY)).returncode == 1
    assert ledger(tmp_path) == Counter(retry=6)
    sink.hold_at, sink.accept_held = 3, True
    env = environment(tmp_path, sink.url)
    sender = start(env, "send")
    try:
        assert sink.held.wait(60), "the send never reached the 3rd message"
        sender.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sink.release.set()
        _, error = sender.communicate(timeout=60)
    finally:
        sender.kill()
    assert sender.returncode == 143, error
    assert ledger(tmp_path) == Counter(sent=3, retry=3)
    assert digest(env, "send").returncode == 0
    assert Counter(sink.recipients()) == Counter(READERS)
