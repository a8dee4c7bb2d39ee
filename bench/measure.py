"""Timing a program in its own process, and the rows of the comparison table.

Each program under test (``digest …`` or ``r2e …``) runs as a child of the
bench; ``os.wait4`` hands back that child's own resource usage, so its peak
RSS is the child's alone (``ru_maxrss``, KiB on Linux), not the bench's.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Sample:
    """One finished process: wall seconds, peak RSS in MB, exit code, what it printed."""

    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str

    def check(self, what: str) -> Sample:
        if self.returncode != 0:
            raise RuntimeError(
                f"{what} exited {self.returncode}:\n{self.stdout[-2000:]}\n{self.stderr[-3000:]}"
            )
        return self


class Child:
    """A program started through :mod:`bench.launch`, whose own rusage comes back when it ends."""

    def __init__(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        # Files, not pipes: a chatty child never blocks on a full pipe. Closed in wait().
        self._out = tempfile.TemporaryFile()  # noqa: SIM115
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        handle, name = tempfile.mkstemp(prefix="digest-bench-launch-")
        os.close(handle)
        self._report = Path(name)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-I", str(_LAUNCHER), name, "--", *argv],
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
        self._pid: int | None = None

    @property
    def pid(self) -> int:
        """The program's own pid (not the launcher's)."""
        while self._pid is None:
            first = self._report.read_text().split("\n", 1)[0]
            if first.strip():
                self._pid = int(first)
            elif self.process.poll() is not None:
                raise RuntimeError("the launcher ended before starting the program")
            else:
                time.sleep(0.001)
        return self._pid

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def terminate(self) -> None:
        os.kill(self.pid, signal.SIGTERM)

    def wait(self, timeout: float = 1800.0) -> Sample:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
        lines = self._report.read_text().split()
        self._report.unlink()
        if len(lines) < 4:
            raise RuntimeError(f"the launcher reported nothing (exit {self.process.returncode})")
        code, peak_kib, seconds = int(lines[1]), int(lines[2]), float(lines[3])
        return Sample(seconds, peak_kib / 1024, code, _read(self._out), _read(self._err))


_LAUNCHER = Path(__file__).with_name("launch.py")


def run(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Sample:
    return Child(argv, env=env, cwd=cwd).wait()


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    text = handle.read().decode("utf-8", "replace")
    handle.close()
    return text


# -- the table -------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: a measure of a workload, for digest and the peer (medians)."""

    workload: str
    measure: str  # "wall", "peak RSS", "messages/s", …
    unit: str  # "s", "MB", "/s", …
    digest: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    peer_name: str = "rss2email"  # or "nginx", "bare smtplib": a reference, not a rival
    higher_is_better: bool = False
    note: str = ""

    @property
    def digest_median(self) -> float | None:
        return statistics.median(self.digest) if self.digest else None

    @property
    def peer_median(self) -> float | None:
        return statistics.median(self.peer) if self.peer else None

    def ratio(self) -> str:
        """How digest compares, in words: "8.2x faster", "0.21x of nginx", "3.1x the rate"."""
        ours, theirs = self.digest_median, self.peer_median
        if ours is None or theirs is None or ours == 0 or theirs == 0:
            return "—"
        if self.peer_name != "rss2email":
            return f"{ours / theirs:.2f}x of {self.peer_name}"
        if self.higher_is_better:
            return f"{ours / theirs:.2f}x the rate"
        factor = theirs / ours
        better, worse = {"s": ("faster", "slower"), "MB": ("less", "more")}.get(
            self.unit, ("less", "more")
        )
        return f"{factor:.1f}x {better}" if factor >= 1 else f"{1 / factor:.1f}x {worse}"


def format_value(value: float | None, unit: str, runs: int) -> str:
    if value is None:
        return "—"
    if unit == "s":
        text = f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    elif unit == "ms":
        text = f"{value:.1f} ms"
    elif unit == "MB":
        text = f"{value:,.0f} MB"
    elif unit == "/s":
        text = f"{value:,.0f}/s"
    elif unit == "x":
        text = f"{value:.2f}x"
    else:
        text = f"{value:,.0f} {unit}".strip()
    return text


def table(rows: Sequence[Row], peer_column: str = "rss2email / reference") -> str:
    lines = [
        f"| workload | measure | digest | {peer_column} | ratio |",
        "|---|---|---:|---:|---|",
    ]
    for row in rows:
        ours = format_value(row.digest_median, row.unit, len(row.digest))
        theirs = format_value(row.peer_median, row.unit, len(row.peer))
        if row.peer_median is not None and row.peer_name != "rss2email":
            theirs = f"{theirs} ({row.peer_name})"
        elif row.peer_median is None and row.note:
            theirs = row.note
        lines.append(f"| {row.workload} | {row.measure} | {ours} | {theirs} | {row.ratio()} |")
    return "\n".join(lines)
