"""Workload 7, start-up: the commands that do almost nothing, and what their imports cost.

``digest --version`` against ``r2e --version``, and ``digest status`` (the
last runs, each source's health, the outbox) against ``r2e list`` (its feeds
and their state), each on an install that has run once over a 100-entry feed.
And a run answered 304 on that feed, which both programs fetched before (so
each sends its ETag back); workload 1's last step is the same on 10,000
entries. The note lists the ten slowest imports
(cumulative, ``python -X importtime``) of a 304 run, where start-up is most of
the cost.

Beside the 304 run, its floor: a Python that only imports digest's HTTP client
(httpx and the httpcore it loads for its first request), timed in the same
rounds as rss2email's whole 304 run. No digest run can start faster or smaller
than that, so the row says how much of the gap is ours to close.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from . import data
from .measure import Row, Sample
from .measure import run as run_child
from .pages import PageServer
from .programs import DigestHome, Rss2emailHome

# What a digest run must load before its first request, and nothing of digest.
HTTP_CLIENT_ONLY = ("-c", "import httpx, httpcore")

COMMANDS = (
    ("--version", ("--version",), ("--version",)),
    ("status", ("status",), ("list",)),
)


def run(work: Path, *, repeat: int, r2e: Path | None, notes: list[str]) -> list[Row]:
    rows: list[Row] = []
    with PageServer() as server:
        url = server.put("/feed.atom", data.atom_feed(data.papers(range(1, 101))), etag='"s1"')
        ours = DigestHome(work / "digest")
        ours.run(url)
        theirs = Rss2emailHome(r2e, work / "r2e", url) if r2e else None
        if theirs is not None:
            theirs.run(send=False)
        rows += _not_modified(ours, theirs, url, server, repeat)
        for label, digest_args, r2e_args in COMMANDS:
            name = f"digest {label} vs r2e {' '.join(r2e_args)}"
            wall = Row(f"7. start-up: {name}", "wall", "s")
            memory = Row(f"7. start-up: {name}", "peak RSS", "MB")
            for _ in range(repeat):
                _record(wall, memory, ours.start(*digest_args).wait().check(label), "digest")
                if theirs is not None:
                    sample = theirs.command(*r2e_args)
                    _record(wall, memory, sample, "peer")
            rows += [wall, memory]
        notes.append(_slowest_imports(ours, url))
    return rows


def _not_modified(
    ours: DigestHome, theirs: Rss2emailHome | None, url: str, server: PageServer, repeat: int
) -> list[Row]:
    """A run answered 304 on a 100-entry feed both programs already read (with its ETag)."""
    wall = Row("7. start-up: a run answered 304 (100-entry feed)", "wall", "s")
    memory = Row("7. start-up: a run answered 304 (100-entry feed)", "peak RSS", "MB")
    floor = "7. start-up: its floor, importing the HTTP client only, vs r2e's 304 run"
    floor_wall, floor_memory = Row(floor, "wall", "s"), Row(floor, "peak RSS", "MB")
    server.hits.clear()
    for _ in range(repeat):
        _record(wall, memory, ours.run(url), "digest")
        client_only = run_child([sys.executable, *HTTP_CLIENT_ONLY], env=ours.env)
        client_only.check("importing the HTTP client")
        _record(floor_wall, floor_memory, client_only, "digest")
        if theirs is not None:
            peer = theirs.run(send=False)
            _record(wall, memory, peer, "peer")
            _record(floor_wall, floor_memory, peer, "peer")
    statuses = set(server.hits.get("/feed.atom", []))
    if statuses != {304}:
        raise RuntimeError(
            f"every run here should have been answered 304; the server saw {statuses}"
        )
    return [wall, memory, floor_wall, floor_memory]


def _record(wall: Row, memory: Row, sample: Sample, who: str) -> None:
    getattr(wall, who).append(sample.seconds)
    getattr(memory, who).append(sample.peak_mb)


def _slowest_imports(home: DigestHome, url: str, count: int = 10) -> str:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "digest", "run", "--source", url],
        env=home.env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    entries = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit():
                entries.append((int(cumulative), name.strip()))
    top = sorted(entries, reverse=True)[:count]
    listed = ", ".join(f"{name} {micros / 1000:.0f} ms" for micros, name in top)
    return f"Start-up: slowest imports of a 304 run (cumulative, python -X importtime): {listed}."
