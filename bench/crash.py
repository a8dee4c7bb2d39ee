"""Workload 5, crash mid-send: kill -9 halfway through N messages, run again, count.

The sink holds message N/2 + 1 without answering (so exactly N/2 were
accepted) and the bench kills the sender with SIGKILL while it waits for the
250. Then the sender runs again to completion: ``digest send`` drains the
ledger; rss2email runs ``r2e run`` again. Duplicates are messages a reader (or
an rss2email entry) got more than once; skipped are the ones that never
arrived.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from . import data
from .delivery import DIGEST_PAPERS, add_readers
from .measure import Child, Row
from .pages import PageServer
from .programs import DigestHome, Rss2emailHome
from .sink import Sink

HELD_FOR = 120.0  # seconds to wait for the sender to reach the held message


def run(work: Path, *, readers: int, repeat: int, r2e: Path | None) -> list[Row]:
    label = f"5. crash: kill -9 after {readers // 2:,} of {readers:,}, run again"
    duplicates = Row(label, "duplicates", "")
    skipped = Row(label, "never delivered", "")
    with Sink(work / "sink", write_files=False) as sink, PageServer() as server:
        listing = server.put(
            "/digest.atom", data.atom_feed(data.papers(range(1, DIGEST_PAPERS + 1)))
        )
        entries = server.put("/peer.atom", data.atom_feed(data.papers(range(1, readers + 1))))
        for number in range(repeat):
            ours = DigestHome(work / f"digest-{number}", smtp_port=sink.port)
            add_readers(ours.db_path, readers)
            first = ours.start("run", "--source", listing)
            counts = _crash(sink, readers, first, partial(ours.start, "send"), "by_recipient")
            duplicates.digest.append(sum(n - 1 for n in counts.values()))
            skipped.digest.append(readers - len(counts))
            if r2e is not None:
                theirs = Rss2emailHome(r2e, work / f"r2e-{number}", entries, smtp_port=sink.port)
                again = partial(theirs.start, send=True)
                counts = _crash(sink, readers, again(), again, "by_rss_id")
                duplicates.peer.append(sum(n - 1 for n in counts.values()))
                skipped.peer.append(readers - len(counts))
    return [duplicates, skipped]


def _crash(
    sink: Sink, total: int, first: Child, again: Callable[[], Child], key: str
) -> Counter[str]:
    """Hold message total/2 + 1, kill the sender there, run ``again()`` to the end."""
    sink.reset()
    sink.hold(total // 2 + 1)
    if not sink.held.wait(HELD_FOR):
        first.kill()
        raise RuntimeError(f"the sender never reached message {total // 2 + 1}")
    first.kill()
    first.wait()
    sink.release()
    before = sink.stats().messages
    if before != total // 2:
        raise RuntimeError(f"{before} messages arrived before the kill, expected {total // 2}")
    again().wait().check("the run after the crash")
    counts: Counter[str] = getattr(sink.stats(), key)
    return counts
