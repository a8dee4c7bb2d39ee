"""How fast `digest serve` answers: 304s, full feeds, pages. ``python -m bench.serve [--quick]``.

Builds a data folder from examples/ in a temporary directory, starts the real
`digest serve` (one uvicorn process, access log on) on 127.0.0.1, and times a
bounded loop of requests per case with httpx: over one keep-alive connection
(requests/s, p50 and p99 latency), then spread over 8 client threads. The
client runs in this process, so its own cost is part of every number.
"""

from __future__ import annotations

import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUICK_REQUESTS = 300
FULL_REQUESTS = 3000
THREADS = 8


def run(quick: bool) -> list[dict[str, Any]]:
    """Serve the examples and time each case; one row per measurement."""
    count = QUICK_REQUESTS if quick else FULL_REQUESTS
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder:
        port = _free_port()
        config = Path(folder) / "digest.toml"
        config.write_text(
            f'data_dir = "{folder}/data"\n[site]\nbase_url = "http://127.0.0.1:{port}"\n'
        )
        digest = [sys.executable, "-m", "digest", "--config", str(config)]
        subprocess.run([*digest, "run", "--source", str(EXAMPLES)], check=True, capture_output=True)
        server = subprocess.Popen(
            [*digest, "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base + "/feed.atom")
            return _measure(base, count)
        finally:
            server.terminate()
            server.wait(timeout=10)


def main(quick: bool) -> None:
    for row in run(quick):
        print(f"{row['value']:>10,.2f} {row['unit']:<10} {row['workload']}", flush=True)


def _measure(base: str, count: int) -> list[dict[str, Any]]:
    with httpx.Client(base_url=base) as client:
        full = client.get("/feed.atom", headers={"Accept-Encoding": "identity"})
        day = re.findall(r"/digests/(\d{4}-\d{2}-\d{2})", client.get("/digests/").text)[0]
    cases: dict[str, tuple[str, dict[str, str]]] = {
        "304 If-None-Match": ("/feed.atom", {"If-None-Match": full.headers["etag"]}),
        "304 If-Modified-Since": ("/feed.atom", {"If-Modified-Since": full.headers["last-modified"]}),
        f"200 feed, gzip ({len(full.content):,} bytes before)": ("/feed.atom", {"Accept-Encoding": "gzip"}),
        "200 feed, identity": ("/feed.atom", {"Accept-Encoding": "identity"}),
        "200 digest page": (f"/digests/{day}", {}),
        "200 home page": ("/", {}),
        "200 healthz": ("/healthz", {}),
    }  # fmt: skip
    rows: list[dict[str, Any]] = []
    for name, (path, headers) in cases.items():
        rate, p50, p99 = _one_connection(base, path, headers, count)
        rows += [
            _row(f"{name}: 1 connection", rate, "requests/s", count),
            _row(f"{name}: p50 latency", p50, "ms", count),
            _row(f"{name}: p99 latency", p99, "ms", count),
            _row(f"{name}: {THREADS} threads", _threads(base, path, headers, count), "requests/s", count),
        ]  # fmt: skip
    return rows


def _one_connection(
    base: str, path: str, headers: dict[str, str], count: int
) -> tuple[float, float, float]:
    timings: list[float] = []
    with httpx.Client(base_url=base, headers=headers) as client:
        client.get(path)  # warm the connection and the server's file cache
        began = time.perf_counter()
        for _ in range(count):
            start = time.perf_counter()
            client.get(path)
            timings.append(time.perf_counter() - start)
        elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(timings, n=100)
    return count / elapsed, quantiles[49] * 1000, quantiles[98] * 1000


def _threads(base: str, path: str, headers: dict[str, str], count: int) -> float:
    def worker(_: int) -> None:
        with httpx.Client(base_url=base, headers=headers) as client:
            for _ in range(count // THREADS):
                client.get(path)

    began = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))
    return (count // THREADS) * THREADS / (time.perf_counter() - began)


def _row(workload: str, value: float, unit: str, requests: int) -> dict[str, Any]:
    return {"workload": workload, "value": value, "unit": unit, "requests": requests}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(url)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"digest serve did not come up at {url}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
