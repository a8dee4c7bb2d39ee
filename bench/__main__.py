"""``python -m bench [--quick] [--no-peer]``: digest side by side with rss2email, one table.

Sets up its own data and servers on 127.0.0.1, runs each workload for digest
and for rss2email 3.14 (installed into a virtual environment of its own under
the work folder) as children of this process, alternating the two programs
within each repetition, and prints one table of medians: wall time, peak RSS,
messages per second, requests per second. See bench/README.md.

    python -m bench                 # the full run (several minutes; documented, not CI)
    python -m bench --quick         # small sizes, under a minute
    python -m bench --quick --no-peer   # CI smoke: no rss2email install, no nginx
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import crash, delivery, ingest, queueing, scale, serving, startup
from .measure import Row, table
from .programs import install_rss2email


@dataclass(frozen=True)
class Sizes:
    entries: int  # workload 1: feed entries
    history: int  # workload 2: papers already in history
    readers: int  # workload 3: subscribers
    crash_readers: int  # workload 5
    serve_seconds: float  # workload 4: per measurement
    queue_readers: tuple[int, ...]  # workload 6: the curve's sizes
    startup_repeat: int  # workload 7: each command this many times (they are short)
    repeat: int


FULL = Sizes(
    entries=10_000,
    history=1_000_000,
    readers=10_000,
    crash_readers=1_000,
    serve_seconds=5,
    queue_readers=(10_000, 100_000),
    startup_repeat=9,
    repeat=3,
)
QUICK = Sizes(
    entries=500,
    history=20_000,
    readers=200,
    crash_readers=200,
    serve_seconds=1,
    queue_readers=(200, 2_000),
    startup_repeat=1,
    repeat=3,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke)")
    parser.add_argument(
        "--no-peer", action="store_true", help="skip rss2email and nginx (offline CI)"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "digest-bench",
        help="where data, servers' files and rss2email's venv go (default: %(default)s)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["ingest", "scale", "delivery", "serving", "crash", "queueing", "startup", "pages"],
    )
    arguments = parser.parse_args(argv)
    sizes = QUICK if arguments.quick else FULL
    work: Path = arguments.work_dir
    work.mkdir(parents=True, exist_ok=True)
    runs = work / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    notes: list[str] = []
    r2e: Path | None = None
    if arguments.no_peer:
        notes.append("rss2email and nginx skipped (--no-peer).")
    else:
        r2e, why = install_rss2email(work)
        if r2e is None:
            notes.append(f"rss2email column left out: {why}")
    began = time.perf_counter()
    rows = _workloads(arguments.only, runs, sizes, r2e, not arguments.no_peer, notes)
    print(_header(sizes, time.perf_counter() - began, arguments.quick))
    print(table(rows))
    for note in notes:
        print(f"\n- {note}")
    shutil.rmtree(runs, ignore_errors=True)
    return 0


def _workloads(
    only: list[str] | None,
    runs: Path,
    sizes: Sizes,
    r2e: Path | None,
    peer: bool,
    notes: list[str],
) -> list[Row]:
    chosen = set(
        only or ["ingest", "scale", "delivery", "serving", "crash", "queueing", "startup", "pages"]
    )
    rows: list[Row] = []
    if "ingest" in chosen:
        _progress("ingest")
        rows += ingest.run(
            runs / "ingest", entries=sizes.entries, repeat=sizes.repeat, r2e=r2e, notes=notes
        )
    if "scale" in chosen:
        _progress("history at scale")
        rows += scale.run(runs / "scale", papers=sizes.history, repeat=sizes.repeat, r2e=r2e)
    if "delivery" in chosen:
        _progress("delivery")
        rows += delivery.run(
            runs / "delivery", readers=sizes.readers, repeat=sizes.repeat, r2e=r2e, notes=notes
        )
    if "serving" in chosen:
        _progress("feed serving")
        rows += serving.run(
            runs / "serving", seconds=sizes.serve_seconds, repeat=sizes.repeat, peer=peer,
            notes=notes,
        )  # fmt: skip
    if "pages" in chosen:
        _progress("page serving")
        rows += serving.run_pages(
            runs / "pages", seconds=sizes.serve_seconds, repeat=sizes.repeat, peer=peer,
            notes=notes,
        )  # fmt: skip
    if "crash" in chosen:
        _progress("crash mid-send")
        rows += crash.run(runs / "crash", readers=sizes.crash_readers, repeat=sizes.repeat, r2e=r2e)
    if "queueing" in chosen:
        _progress("queueing")
        rows += queueing.run(runs / "queueing", sizes=sizes.queue_readers, repeat=sizes.repeat)
    if "startup" in chosen:
        _progress("start-up")
        rows += startup.run(runs / "startup", repeat=sizes.startup_repeat, r2e=r2e, notes=notes)
    return rows


def _progress(what: str) -> None:
    print(f"bench: {what} …", file=sys.stderr, flush=True)


def _header(sizes: Sizes, seconds: float, quick: bool) -> str:
    return (
        f"digest bench{' --quick' if quick else ''}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{_machine()}; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
        f"medians of {sizes.repeat} repetitions; {seconds:.0f} s in all.\n"
    )


def _machine() -> str:
    import os

    cores = os.cpu_count() or 0
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        memory = ""
    return f"{platform.system()} {platform.machine()}, {cores} cores{memory}"


if __name__ == "__main__":
    sys.exit(main())
