"""How fast `digest serve` answers: 304s, full feeds, pages. ``python -m bench.serve [N]``.

Builds a data folder from examples/ in a temporary directory, starts the real
`digest serve` (one uvicorn process) on 127.0.0.1, and times a bounded loop of
N requests per case with httpx over one keep-alive connection, then the same
spread over 8 client threads. A benchmark to read, not a timed test.
"""

from __future__ import annotations

import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
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
            _wait_until_up(f"http://127.0.0.1:{port}/feed.atom")
            _cases(f"http://127.0.0.1:{port}", count)
        finally:
            server.terminate()
            server.wait(timeout=10)


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


def _cases(base: str, count: int) -> None:
    with httpx.Client(base_url=base) as client:
        full = client.get("/feed.atom", headers={"Accept-Encoding": "identity"})
        day = re.findall(r"/digests/(\d{4}-\d{2}-\d{2})", client.get("/digests/").text)[0]
        print(
            f"feed.atom: {len(full.content)} bytes, {len(full.text.split('<entry>')) - 1} entries"
        )
    cases: dict[str, tuple[str, dict[str, str]]] = {
        "304 If-None-Match": ("/feed.atom", {"If-None-Match": full.headers["etag"]}),
        "304 If-Modified-Since": (
            "/feed.atom",
            {"If-Modified-Since": full.headers["last-modified"]},
        ),
        "200 feed, gzip": ("/feed.atom", {"Accept-Encoding": "gzip"}),
        "200 feed, identity": ("/feed.atom", {"Accept-Encoding": "identity"}),
        "200 digest page": (f"/digests/{day}", {}),
        "200 home page": ("/", {}),
        "healthz": ("/healthz", {}),
    }
    print(f"{'case':<24} {'1 conn req/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'8 threads req/s':>16}")
    for name, (path, headers) in cases.items():
        rate, p50, p99 = _sequential(base, path, headers, count)
        parallel = _threaded(base, path, headers, count, threads=8)
        print(f"{name:<24} {rate:>12.0f} {p50:>8.2f} {p99:>8.2f} {parallel:>16.0f}")


def _sequential(
    base: str, path: str, headers: dict[str, str], count: int
) -> tuple[float, float, float]:
    timings: list[float] = []
    with httpx.Client(base_url=base, headers=headers) as client:
        client.get(path)  # warm the connection and the file cache
        began = time.perf_counter()
        for _ in range(count):
            start = time.perf_counter()
            client.get(path)
            timings.append(time.perf_counter() - start)
        elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(timings, n=100)
    return count / elapsed, quantiles[49] * 1000, quantiles[98] * 1000


def _threaded(base: str, path: str, headers: dict[str, str], count: int, threads: int) -> float:
    def worker(_: int) -> None:
        with httpx.Client(base_url=base, headers=headers) as client:
            for _ in range(count // threads):
                client.get(path)

    return _timed(lambda: list(ThreadPoolExecutor(threads).map(worker, range(threads))), count)


def _timed(work: Callable[[], object], count: int) -> float:
    began = time.perf_counter()
    work()
    return count / (time.perf_counter() - began)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
