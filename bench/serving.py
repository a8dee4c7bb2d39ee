"""Workload 4, feed serving: ``digest serve`` (one uvicorn worker) against nginx, same file.

The feed is what a run over the ingest workload's listing writes (the newest
``feed.max_entries`` papers). Each measurement is ``wrk -t2 -c16`` for a few
seconds against ``/feed.atom``: full 200s (no Accept-Encoding, so the whole
file each time) and 304s (If-None-Match with the server's own ETag). nginx,
the reference limit, serves the same file from the same folder with one
worker and ``etag on`` — what deploy/nginx.conf does in production. Without
wrk (Debian's ``wrk`` package) a bounded httpx load from 8 threads stands in,
which measures the client as much as the server.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from . import data
from .measure import Child, Row
from .pages import PageServer
from .programs import DigestHome
from .serve import _threads, _wait_until_up

CONNECTIONS = 16


def run(work: Path, *, seconds: float, repeat: int, peer: bool, notes: list[str]) -> list[Row]:
    home = DigestHome(work / "digest")
    with PageServer() as server:
        home.run(server.put("/feed.atom", data.atom_feed(data.papers(range(1, 1001)))))
    feed = home.folder / "feed.atom"
    size = f"{feed.stat().st_size / 1024:,.0f} KB"
    ok = Row(f"4. feed serving, /feed.atom {size}: 200s", "requests/s", "/s",
             higher_is_better=True, peer_name="nginx")  # fmt: skip
    not_modified = Row(f"4. feed serving, /feed.atom {size}: 304s", "requests/s", "/s",
                       higher_is_better=True, peer_name="nginx")  # fmt: skip
    logged = Row(f"4. feed serving, /feed.atom {size}: 304s, access log on", "requests/s", "/s",
                 higher_is_better=True, peer_name="nginx")  # fmt: skip
    memory = Row("4. digest serve", "peak RSS", "MB", note="(one uvicorn worker)")
    tool = "wrk" if shutil.which("wrk") else "httpx"
    nginx = shutil.which("nginx") if peer else None
    # Like nginx below, without an access log; then as shipped, with one line per request.
    with _serve(home, "--no-access-log", memory=memory) as base:
        for _ in range(repeat):
            ok.digest.append(_load(base, {}, seconds, tool))
            not_modified.digest.append(_load(base, _etag(base), seconds, tool))
    with _serve(home, "--access-log") as base:
        for _ in range(repeat):
            logged.digest.append(_load(base, _etag(base), seconds, tool))
    if nginx:
        with _Nginx(nginx, work / "nginx", home.folder) as base:
            for _ in range(repeat):
                ok.peer.append(_load(base, {}, seconds, tool))
                not_modified.peer.append(_load(base, _etag(base), seconds, tool))
        logged.peer = list(not_modified.peer)
    notes.append(
        f"Feed serving measured with {tool}"
        + (f" (-t2 -c{CONNECTIONS} -d{seconds:g}s)" if tool == "wrk" else " (8 threads)")
        + ("; nginx skipped." if not nginx else "; nginx: 1 worker, etag on, access_log off.")
    )
    return [ok, not_modified, logged, memory]


@contextmanager
def _serve(
    home: DigestHome, *options: str, memory: Row | None = None, ready: str = "/feed.atom"
) -> Iterator[str]:
    """``digest serve`` on a free port of 127.0.0.1, one uvicorn worker; its base URL."""
    port = _free_port()
    server = home.start("serve", "--port", str(port), *options)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base + ready)
        yield base
    finally:
        server.terminate()
        peak = server.wait().peak_mb
        if memory is not None:
            memory.digest.append(peak)


def _etag(base: str, path: str = "/feed.atom") -> dict[str, str]:
    answer = httpx.get(base + path, headers={"Accept-Encoding": "identity"})
    tag = answer.headers["etag"]
    again = httpx.get(base + path, headers={"If-None-Match": tag})
    if again.status_code != 304:
        raise RuntimeError(f"{base} answered {again.status_code} to its own ETag")
    return {"If-None-Match": tag}


def _load(
    base: str, headers: dict[str, str], seconds: float, tool: str, path: str = "/feed.atom"
) -> float:
    if tool == "httpx":
        return _threads(base, path, headers, max(int(seconds * 1000), 400))
    extra = [part for name, value in headers.items() for part in ("-H", f"{name}: {value}")]
    done = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", *extra, base + path],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )  # fmt: skip
    if "Non-2xx or 3xx" in done.stdout or "Socket errors" in done.stdout:
        raise RuntimeError(f"wrk saw errors against {base}:\n{done.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if match is None:
        raise RuntimeError(f"no rate in wrk's output:\n{done.stdout}")
    return float(match.group(1))


class _Nginx:
    """nginx on 127.0.0.1 serving ``root``'s feed.atom (and, given ``pages``, its
    ``index.html`` as ``/`` and ``digests/<day>`` files as HTML): one worker, in the foreground."""

    def __init__(self, binary: str, folder: Path, root: Path, *, pages: Path | None = None) -> None:
        self.binary, self.folder, self.root, self.pages = binary, folder, root, pages
        self.port = _free_port()
        self.child: Child | None = None

    def __enter__(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "logs").mkdir(exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""
        config = self.folder / "nginx.conf"
        config.write_text(
            f"{user}worker_processes 1;\ndaemon off;\npid {self.folder}/nginx.pid;\n"
            f"error_log {self.folder}/logs/error.log;\n"
            "events { worker_connections 1024; }\n"
            "http {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n"
            "  keepalive_requests 1000000;\n"
            f"  server {{\n    listen 127.0.0.1:{self.port};\n    root {self.root};\n"
            "    location = /feed.atom {\n      types { }\n"
            "      default_type application/atom+xml;\n      etag on;\n    }\n"
            + (
                # try_files, not alias: nginx answers a URI ending in / with its index module.
                f"    location = / {{\n      root {self.pages};\n      try_files /index.html =404;\n"
                "      types { }\n      default_type text/html;\n      etag on;\n    }\n"
                f"    location /digests/ {{\n      alias {self.pages}/digests/;\n"
                "      types { }\n      default_type text/html;\n      etag on;\n    }\n"
                if self.pages is not None
                else ""
            )
            + "  }\n}\n"
        )
        self.child = Child([self.binary, "-p", str(self.folder), "-c", str(config)])
        base = f"http://127.0.0.1:{self.port}"
        _wait_until_up(base + "/feed.atom")
        return base

    def __exit__(self, *exc: object) -> None:
        if self.child is not None:
            self.child.terminate()
            self.child.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- workload 8: the pages ------------------------------------------------------------------

DAY_PAPERS = 100  # a busy day of Hugging Face Daily Papers plus an arXiv category


def run_pages(
    work: Path, *, seconds: float, repeat: int, peer: bool, notes: list[str]
) -> list[Row]:
    """The home page and a day's page: ``digest serve`` (one worker, no access log) against
    nginx serving the very bytes it answered, as files; the two alternate in each repetition.
    """
    home = DigestHome(work / "digest")
    with PageServer() as server:
        home.run(server.put("/feed.atom", data.atom_feed(data.papers(range(1, DAY_PAPERS + 1)))))
    tool = "wrk" if shutil.which("wrk") else "httpx"
    nginx = shutil.which("nginx") if peer else None
    rows: list[Row] = []
    with _serve(home, "--no-access-log", ready="/") as base:
        day = re.findall(r"/digests/(\d{4}-\d{2}-\d{2})", httpx.get(base + "/digests/").text)[0]
        paths = {"/": "home", f"/digests/{day}": "day page"}
        pages = work / "nginx-pages"
        (pages / "digests").mkdir(parents=True, exist_ok=True)
        bodies = {path: httpx.get(base + path).content for path in paths}
        (pages / "index.html").write_bytes(bodies["/"])
        (pages / "digests" / day).write_bytes(bodies[f"/digests/{day}"])
        cases: list[tuple[Row, str, bool]] = []
        for path, name in paths.items():
            size = f"{len(bodies[path]) / 1024:,.0f} KB"
            for status, conditional in (("200s", False), ("304s", True)):
                row = Row(f"8. page serving, {name} {path} {size}: {status}", "requests/s", "/s",
                          higher_is_better=True, peer_name="nginx")  # fmt: skip
                rows.append(row)
                cases.append((row, path, conditional))
        with (
            _Nginx(nginx, work / "nginx", home.folder, pages=pages)
            if nginx
            else contextlib.nullcontext(None)
        ) as reference:
            for _ in range(repeat):
                for row, path, conditional in cases:
                    row.digest.append(_measure(base, path, conditional, seconds, tool))
                    if reference is not None:
                        row.peer.append(_measure(reference, path, conditional, seconds, tool))
    notes.append(
        f"Page serving: a day of {DAY_PAPERS} papers; `digest serve --no-access-log` and nginx "
        "(the same bytes as files, 1 worker, etag on, access_log off) alternate in each "
        f"repetition; {tool}"
        + (f" -t2 -c{CONNECTIONS} -d{seconds:g}s" if tool == "wrk" else " (8 threads)")
        + ", no Accept-Encoding (whole bodies); 304s send the server's own ETag."
        + ("" if nginx else " nginx skipped.")
    )
    return rows


def _measure(base: str, path: str, conditional: bool, seconds: float, tool: str) -> float:
    headers = _etag(base, path) if conditional else {}
    return _load(base, headers, seconds, tool, path)
