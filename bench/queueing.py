"""Workload 6, queueing: one digest queued for N readers, against the issue's limits.

The bench writes a history with one digest and N confirmed daily readers, then
a child process (``python -m bench.queueing DB``, started through
:mod:`bench.launch`, so its peak RSS is its own) opens it and runs what a run
does to queue the mail: ``queue_for_subscribers`` with the real Message-ID
function, one ledger row per reader and every reader's cursor moved, in one
transaction. The curve (two sizes, ten times apart) shows whether the cost is
linear in readers; the limits are the issue's: 100,000 readers in under 10 s
and 150 MB. No peer: rss2email has no reader list to queue for.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from .measure import Child, Row

NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
LIMIT_SECONDS = 10.0
LIMIT_MB = 150.0


def run(work: Path, *, sizes: Sequence[int], repeat: int) -> list[Row]:
    rows: list[Row] = []
    walls: list[tuple[int, float]] = []
    for readers in sizes:
        label = f"6. queue one digest for {readers:,} readers"
        wall = Row(label, "wall", "s", peer_name="the limit")
        memory = Row(label, "peak RSS", "MB", peer_name="the limit")
        for number in range(repeat):
            path = work / f"queue-{readers}-{number}" / "digest.db"
            _prepare(path, readers)
            sample = Child(
                [sys.executable, "-m", "bench.queueing", str(path), str(readers)],
                cwd=Path(__file__).resolve().parents[1],
            ).wait().check("bench.queueing")  # fmt: skip
            wall.digest.append(sample.seconds)
            memory.digest.append(sample.peak_mb)
            if readers == max(sizes):
                wall.peer.append(LIMIT_SECONDS)
                memory.peer.append(LIMIT_MB)
            path.unlink()
        rows += [wall, memory]
        walls.append((readers, wall.digest_median or 0.0))
    if len(walls) >= 2:
        (few, short), (many, long) = walls[0], walls[-1]
        growth = Row(
            f"6. queueing: time per reader, {many:,} vs {few:,} readers",
            "growth", "x", peer_name="linear",
        )  # fmt: skip
        growth.digest.append((long / many) / (short / few) if short else 0.0)
        growth.peer.append(1.0)
        rows.append(growth)
    return rows


def _prepare(path: Path, readers: int) -> None:
    """A history with one digest of one paper and ``readers`` daily readers, none queued."""
    from digest.history import create_digest, open_history, record_sightings
    from digest.model import Paper

    from .delivery import add_readers

    path.parent.mkdir(parents=True, exist_ok=True)
    add_readers(path, readers)
    db = open_history(path)
    paper = Paper("A paper to queue", arxiv_id="2503.00001")
    record_sightings(db, [paper], source="bench", run_id=None, now=NOW, tag_authority="bench")
    create_digest(db, run_id=None, now=NOW, day=NOW.date().isoformat())
    db.close()


def _child(path: Path, expected: int) -> None:
    """Queue the newest digest for every reader of ``path``, as ``digest run`` does."""
    from digest.history import open_history
    from digest.history.deliveries import queue_for_subscribers
    from digest.render.headers import message_id_for

    db = open_history(path)
    day = NOW.date()
    queued = queue_for_subscribers(
        db, today=day, now=NOW,
        message_id_for=lambda digest_id, address: message_id_for(digest_id, day, address,
                                                                 "bench.example"),
    )  # fmt: skip
    db.close()
    if queued != expected:
        raise SystemExit(f"queued {queued} deliveries, expected {expected}")


if __name__ == "__main__":
    _child(Path(sys.argv[1]), int(sys.argv[2]))
