"""Workload 3, delivery: N subscribers, a digest of 30 papers, sent to a counting SMTP sink.

digest: a data folder with N active readers (written straight into the
database) runs ``digest run`` over a 30-paper listing: ingest, feed, one
digest, N ledger rows, N messages over SMTP (the configured batch of 200 per
connection). rss2email: the same count of messages is its first run over an
N-entry feed, one message per entry, one SMTP connection per message.
messages/s is N over the whole run's wall time.

The sink's ceiling is a bare ``smtplib`` loop (:mod:`bench.ceiling`) sending
one of digest's own messages N times over one connection. A run with a tenth
of the readers shows whether digest's memory grows with the list. A second
digest run gives each of the N readers a random 1-3 of 8 topics (92 distinct
topic sets, so 92 renders instead of one), against the ceiling for those
same messages: the sink's files of that run, each sent once (their sizes
differ by reader, 19-58 KB; the first one alone is the smallest).
"""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

from digest.history import open_history

from . import data
from .measure import Child, Row
from .pages import PageServer
from .programs import DigestHome, Rss2emailHome
from .sink import Sink

DIGEST_PAPERS = 30
# Words of bench.topics' vocabulary that each match 7 or more of the 30 papers, so no
# reader's subset is empty and every reader gets a mail.
TOPIC_WORDS = ("model", "models", "learning", "data", "language", "training", "benchmark", "neural")


def run(work: Path, *, readers: int, repeat: int, r2e: Path | None, notes: list[str]) -> list[Row]:
    label = f"3. delivery to {readers:,} readers"
    rate = Row(label, "messages/s", "/s", higher_is_better=True)
    wall = Row(label, "wall", "s")
    memory = Row(label, "peak RSS", "MB")
    few = max(readers // 10, 50)
    small = Row(f"3. delivery to {few:,} readers", "peak RSS", "MB", note="(memory flatness)")
    ceiling = Row(
        f"3. digest vs the sink's ceiling (bare smtplib loop, 1 connection, {readers:,} messages)",
        "messages/s", "/s", higher_is_better=True, peer_name="the ceiling",
    )  # fmt: skip
    small_ceiling = Row(
        "3. the sink's ceiling for 9.5 KB messages (the issue's reference size)",
        "messages/s", "/s", higher_is_better=True, peer_name="the ceiling",
    )  # fmt: skip
    listing = data.atom_feed(data.papers(range(1, DIGEST_PAPERS + 1)))
    with Sink(work / "sink") as sink, PageServer() as server:
        digest_url = server.put("/digest.atom", listing)
        peer_url = server.put("/peer.atom", data.atom_feed(data.papers(range(1, readers + 1))))
        sizes: dict[str, int] = {}
        for number in range(repeat):
            seconds, peak = _digest(work / f"digest-{number}", sink, digest_url, readers, sizes)
            wall.digest.append(seconds)
            rate.digest.append(readers / seconds)
            memory.digest.append(peak)
            small.digest.append(_digest(work / f"small-{number}", sink, digest_url, few, {})[1])
            ceiling.digest.append(rate.digest[-1])
            ceiling.peer.append(_ceiling(sink, readers, sink.folder / "1.eml"))
            small_ceiling.peer.append(_ceiling(sink, readers, _small_message(work)))
            if r2e is not None:
                sink.reset()
                home = Rss2emailHome(r2e, work / f"r2e-{number}", peer_url, smtp_port=sink.port)
                sample = home.run(send=True)
                _check(sink, readers, "rss2email", sizes)
                wall.peer.append(sample.seconds)
                rate.peer.append(readers / sample.seconds)
                memory.peer.append(sample.peak_mb)
    notes.append(
        "Delivery: mean message size "
        + ", ".join(f"{who} {octets / 1024:.1f} KiB" for who, octets in sizes.items())
        + "; lines over 998 octets in digest's mail: 0 (checked by the sink)."
    )
    return [rate, wall, memory, small, ceiling, small_ceiling, *_with_topics(work, readers, repeat)]


def _with_topics(work: Path, readers: int, repeat: int) -> list[Row]:
    """The same digest, each reader with a random 1-3 of 8 topics: one render per topic set."""
    ceiling = Row(
        f"3. digest vs the ceiling, {readers:,} readers with 1-3 of 8 topics each",
        "messages/s", "/s", higher_is_better=True, peer_name="the ceiling",
    )  # fmt: skip
    listing = data.atom_feed(data.papers(range(1, DIGEST_PAPERS + 1)))
    with Sink(work / "sink-topics") as sink, PageServer() as server:
        url = server.put("/digest.atom", listing)
        for number in range(repeat):
            folder = work / f"topics-{number}"
            home = DigestHome(folder, smtp_port=sink.port, config=_topics_config(folder))
            add_readers(home.db_path, readers, topics=TOPIC_WORDS)
            sink.reset()
            sample = home.run(url)
            _check(sink, readers, "digest", {}, long_lines_allowed=False)
            ceiling.digest.append(readers / sample.seconds)
            ceiling.peer.append(_ceiling(sink, readers, sink.folder))
    return [ceiling]


def _topics_config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "digest.toml"
    tables = (f'[[topics]]\nslug = "{word}"\nquery = "{word}"\n' for word in TOPIC_WORDS)
    path.write_text("\n".join(tables), encoding="utf-8")
    return path


def _small_message(work: Path) -> Path:
    """A plain 9.5 KB message of 76-character lines."""
    path = work / "small.eml"
    line = "All work and no play makes a benchmark a dull program; sent only to count it.\r\n"
    head = "From: papers@bench.example\r\nTo: someone@bench.example\r\nSubject: ceiling\r\n\r\n"
    path.write_bytes((head + line * (9_500 // len(line))).encode())
    return path


def _digest(
    folder: Path, sink: Sink, url: str, readers: int, sizes: dict[str, int]
) -> tuple[float, float]:
    home = DigestHome(folder, smtp_port=sink.port)
    add_readers(home.db_path, readers)
    sink.reset()
    sample = home.run(url)
    if f"{readers} message(s) queued, {readers} delivered" not in sample.stdout:
        raise RuntimeError(f"digest did not deliver to every reader:\n{sample.stdout}")
    _check(sink, readers, "digest", sizes, long_lines_allowed=False)
    return sample.seconds, sample.peak_mb


def add_readers(path: Path, count: int, *, topics: tuple[str, ...] = ()) -> None:
    """``count`` confirmed daily readers, written straight into the ledger (a bench fixture).

    With ``topics``, each reader follows a random 1-3 of them (seeded: every run alike).
    """
    rng = random.Random(20251201)
    db = open_history(path)
    stamp = datetime(2025, 3, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def chosen() -> str:
        return json.dumps(sorted(rng.sample(topics, rng.randint(1, 3))) if topics else [])

    with db:
        db.executemany(
            "INSERT INTO subscribers (email, name, created, confirmed, topics)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (f"reader{n:06d}@bench.example", f"Reader {n}", stamp, stamp, chosen())
                for n in range(count)
            ],
        )
    db.close()


def _check(
    sink: Sink, count: int, who: str, sizes: dict[str, int], *, long_lines_allowed: bool = True
) -> None:
    stats = sink.stats()
    if stats.messages != count:
        raise RuntimeError(f"{who}: the sink got {stats.messages} messages, expected {count}")
    if not long_lines_allowed and stats.long_lines:
        raise RuntimeError(f"{who}: {stats.long_lines} message(s) with lines over 998 octets")
    sizes[who] = stats.octets // max(stats.messages, 1)


def _ceiling(sink: Sink, count: int, message: Path) -> float:
    sample = Child(
        [sys.executable, "-m", "bench.ceiling", str(sink.port), str(message), str(count)],
        cwd=Path(__file__).resolve().parents[1],
    ).wait().check("bench.ceiling")  # fmt: skip
    return float(sample.stdout.split()[-1])
