"""Delivery never duplicates and never skips: a real SMTP relay on 127.0.0.1 that misbehaves.

The relay is aiosmtpd (tests/servers.py). Readers are added with the real CLI;
runs and drains go through the real pipeline, over real SMTP, into a real
SQLite ledger. Each test ends by counting copies per reader.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from digest import history
from digest.config import Settings, SourceConfig, load_settings
from digest.deliver.transports import open_transport
from digest.history.deliveries import delivery_counts
from digest.pipeline.newsletter import Newsletter
from digest.pipeline.readers import Preferences, add
from digest.pipeline.run import Runtime, deliver, run
from digest.pipeline.site import site_tokens
from digest.sources.fetch import Fetcher
from tests.servers import SmtpSink

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
READERS = [f"reader{number}@example.org" for number in range(1, 7)]
HF_DAY = EXAMPLES / "hf-daily-2025-03-12.json"
MONDAY = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as relay:
        yield relay


def settings_for(data_dir: Path, relay: SmtpSink, **extra: str) -> Settings:
    environ = {
        "DIGEST_DATA_DIR": str(data_dir),
        "DIGEST_MAIL_SMTP_URL": relay.url,
        "DIGEST_SITE_BASE_URL": "https://digest.example.org",
        "DIGEST_MAIL_FROM_ADDRESS": "Paper digest <papers@example.org>",
        "DIGEST_MAIL_UNSUBSCRIBE_MAILTO": "unsubscribe@example.org",
        "DIGEST_FOLLOW_UPS_CHECK": "false",  # its default APIs are not on 127.0.0.1
        **extra,
    }
    settings = load_settings(None, environ=environ)
    return replace(settings, sources=(SourceConfig(str(EXAMPLES)),))


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def runtime(settings: Settings, clock: Clock) -> Runtime:
    db = history.open_history(settings.data_dir / "digest.db")
    return Runtime(db, Fetcher(httpx.Client()), open_transport(settings), clock)


def add_readers(settings: Settings, clock: Clock, *addresses: str, **preferences: object) -> None:
    db = history.open_history(settings.data_dir / "digest.db")
    for address in addresses:
        add(db, address, Preferences(**preferences), now=clock())  # type: ignore[arg-type]
    db.close()


def drain_again(settings: Settings, clock: Clock) -> None:
    rt = runtime(settings, clock)
    deliver(Newsletter(settings, rt.db, site_tokens(settings)), rt)


def copies(relay: SmtpSink) -> Counter[str]:
    return Counter(relay.recipients())


def test_every_reader_gets_one_standard_message(tmp_path: Path, sink: SmtpSink) -> None:
    settings, clock = settings_for(tmp_path, sink), Clock(MONDAY)
    add_readers(settings, clock, *READERS)
    result = run(settings, runtime(settings, clock))
    assert result.ok and result.emails == len(READERS)
    assert copies(sink) == Counter(READERS)
    for message in sink.parsed():
        check_headers(message)


def check_headers(message: EmailMessage) -> None:
    assert message["From"] == "Paper digest <papers@example.org>"
    assert message["Date"] and message["Subject"].startswith("Paper digest")
    assert message["Message-ID"].startswith("<digest-20250310-") and message["Message-ID"].endswith(
        "@example.org>"
    )
    assert message["MIME-Version"] == "1.0"
    assert message["List-Id"] == "<daily.papers.digest.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    unsubscribe = message["List-Unsubscribe"]
    assert "<https://digest.example.org/unsubscribe/" in unsubscribe
    assert "<mailto:unsubscribe@example.org?subject=unsubscribe" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_payload()  # type: ignore[misc]
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert "unsubscribe" in text.get_content().lower()
    assert "https://digest.example.org/unsubscribe/" in html.get_content()
    raw = message.as_bytes()
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    assert len(raw) < 100_000


def test_a_relay_that_drops_the_connection_after_some_messages(
    tmp_path: Path, sink: SmtpSink
) -> None:
    settings, clock = settings_for(tmp_path, sink), Clock(MONDAY)
    add_readers(settings, clock, *READERS)
    sink.drop_after = 2
    run(settings, runtime(settings, clock))
    drain_again(settings, clock)  # whatever was left for later
    assert copies(sink) == Counter(READERS)


def test_a_451_is_retried_on_the_next_drain_and_sent_once(tmp_path: Path, sink: SmtpSink) -> None:
    settings, clock = settings_for(tmp_path, sink), Clock(MONDAY)
    add_readers(settings, clock, *READERS)
    sink.rcpt_script = lambda address, attempt: (
        "451 4.7.1 greylisted, try again" if address == READERS[2] and attempt == 1 else None
    )
    first = run(settings, runtime(settings, clock))
    assert not first.ok and first.delivery.retry == 1
    assert "451 4.7.1 greylisted" in first.delivery.errors[0]
    drain_again(settings, clock)
    assert copies(sink) == Counter(READERS)
    db = sqlite3.Connection(tmp_path / "digest.db")
    assert delivery_counts(db) == {"sent": len(READERS)}


def test_a_550_fails_one_reader_for_good_and_keeps_the_relays_answer(
    tmp_path: Path, sink: SmtpSink
) -> None:
    settings, clock = settings_for(tmp_path, sink), Clock(MONDAY)
    add_readers(settings, clock, *READERS)
    sink.rcpt_script = lambda address, _: (
        "550 5.1.1 no such user" if address == READERS[0] else None
    )
    result = run(settings, runtime(settings, clock))
    assert result.delivery.failed == 1 and not result.ok
    drain_again(settings, clock)
    assert copies(sink) == Counter(READERS[1:])
    db = sqlite3.Connection(tmp_path / "digest.db")
    (answer,) = db.execute("select last_error from deliveries where status = 'failed'").fetchone()
    assert READERS[0] in answer and "550 5.1.1 no such user" in answer


def test_running_and_draining_again_sends_nothing_twice(tmp_path: Path, sink: SmtpSink) -> None:
    settings, clock = settings_for(tmp_path, sink), Clock(MONDAY)
    add_readers(settings, clock, *READERS)
    run(settings, runtime(settings, clock))
    clock.now += timedelta(hours=1)
    again = run(settings, runtime(settings, clock))
    drain_again(settings, clock)
    assert again.emails == 0
    assert copies(sink) == Counter(READERS)


def test_a_weekly_reader_gets_the_whole_week_once_on_their_day(
    tmp_path: Path, sink: SmtpSink
) -> None:
    settings, clock = settings_for(tmp_path, sink), Clock(MONDAY)
    add_readers(settings, clock, "weekly@example.org", frequency="weekly", weekday=4)  # Friday
    add_readers(settings, clock, "daily@example.org")
    monday = run(replace_sources(settings, HF_DAY), runtime(settings, clock))
    clock.now = MONDAY + timedelta(days=2)
    wednesday = run(
        replace_sources(settings, EXAMPLES / "arxiv-cs.LG.rss"), runtime(settings, clock)
    )
    assert monday.novel > 0 and wednesday.novel > 0
    assert copies(sink) == Counter({"daily@example.org": 2})
    clock.now = MONDAY + timedelta(days=4)  # Friday: nothing new, but the weekly mail is due
    run(replace_sources(settings, HF_DAY), runtime(settings, clock))
    clock.now = MONDAY + timedelta(days=11)  # the next Friday: nothing since
    run(replace_sources(settings, HF_DAY), runtime(settings, clock))
    assert copies(sink) == Counter({"daily@example.org": 2, "weekly@example.org": 1})
    weekly = next(m for m in sink.parsed() if m["To"] == "weekly@example.org")
    assert f"{monday.novel + wednesday.novel} new papers" in weekly["Subject"]


def replace_sources(settings: Settings, source: Path) -> Settings:
    return replace(settings, sources=(SourceConfig(str(source)),))


def test_a_reader_added_today_starts_with_todays_digest(tmp_path: Path, sink: SmtpSink) -> None:
    settings, clock = settings_for(tmp_path, sink), Clock(MONDAY)
    add_readers(settings, clock, "early@example.org")
    run(replace_sources(settings, HF_DAY), runtime(settings, clock))  # Monday's digest
    clock.now = MONDAY + timedelta(days=1, hours=2)
    add_readers(settings, clock, "late@example.org")
    run(replace_sources(settings, EXAMPLES / "arxiv-cs.LG.rss"), runtime(settings, clock))
    late = [m for m in sink.parsed() if m["To"] == "late@example.org"]
    assert len(late) == 1
    text = late[0].get_body(("plain",)).get_content()
    assert "Judging the Judges" not in text  # Monday's paper
    assert "Why Warmup Works" in text  # Tuesday's


def test_killed_mid_batch_the_next_drain_sends_exactly_the_rest(
    tmp_path: Path, sink: SmtpSink
) -> None:
    """kill -9 while the relay holds the 4th message: nobody twice, nobody skipped."""
    settings, clock = settings_for(tmp_path, sink), Clock(MONDAY)
    add_readers(settings, clock, *READERS)
    sink.hold_at = 4
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    environment.update(
        DIGEST_DATA_DIR=str(tmp_path),
        DIGEST_MAIL_SMTP_URL=sink.url,
        DIGEST_SITE_BASE_URL="https://digest.example.org",
        DIGEST_FOLLOW_UPS_CHECK="false",
    )
    command = [sys.executable, "-m", "digest", "run", "--source", str(EXAMPLES)]
    process = subprocess.Popen(command, env=environment, cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        assert sink.held.wait(60), "the run never reached the 4th message"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(30)
    assert len(copies(sink)) == 3
    time.sleep(0.2)
    done = subprocess.run(
        [sys.executable, "-m", "digest", "send"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert copies(sink) == Counter(READERS)
