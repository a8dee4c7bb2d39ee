"""The benchmark still runs: `python -m bench --quick --no-peer` end to end (a smoke test).

Offline-safe: no rss2email install, no nginx; wrk is used when Debian's package
is there, else a bounded httpx load. It checks that every workload printed its
rows and that the crash workload lost and doubled nothing — not how fast
anything was (bench/README.md has the measured table).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytest.importorskip("aiosmtpd")


def test_bench_quick_prints_every_workload(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-peer", "--work-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,  # a guard against a hang, not a time limit: the quick run takes 1-3 minutes
        env={key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    workloads = {line.split(" | ")[0].removeprefix("| ") for line in rows[1:]}
    for number, name in [
        ("1.", "ingest"),
        ("2.", "history of"),
        ("3.", "delivery to"),
        ("3.", "ceiling"),
        ("4.", "feed serving"),
        ("5.", "crash"),
        ("6.", "queue one digest"),
        ("7.", "start-up"),
        ("8.", "page serving"),
    ]:
        assert any(w.startswith(number) and name in w for w in workloads), (name, workloads)
    for step in ("first run", "nothing new (200, same bytes)", "10 new on top", "(304)"):
        assert any(step in workload for workload in workloads), step
    crash = {line.split(" | ")[1]: line.split(" | ")[2] for line in rows if line.startswith("| 5.")}
    assert crash == {"duplicates": "0", "never delivered": "0"}
    assert re.search(r"lines over 998 octets in digest's mail: 0", done.stdout)
