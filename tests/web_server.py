"""`digest serve`'s app on a real socket: uvicorn in a background thread on 127.0.0.1.

The port is bound before the app is built, so ``[site] base_url`` (which every
link, feed and mail uses) is the real address the tests talk to. A test may
wrap the app (``wrap=``) to record what arrives on the wire.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digest.clock import CLOCK_VARIABLE
from digest.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


# A fixed Monday morning: tests never read the machine's date, so they pass on any day.
MONDAY = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
TUESDAY = MONDAY + timedelta(days=1)


class Clock:
    """A clock a test can move: aware UTC datetimes, from a fixed start (never the wall clock)."""

    def __init__(self, start: datetime = MONDAY) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class RequestLog:
    """An ASGI wrapper that records every request and the status it got."""

    requests: list[Seen] = field(default_factory=list)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def logged(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            seen = Seen(scope["method"], scope["path"], headers)
            self.requests.append(seen)

            async def record(message: Message) -> None:
                if message["type"] == "http.response.start":
                    seen.status = message["status"]
                await send(message)

            await app(scope, receive, record)

        return logged

    def for_path(self, path: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == path]


def write_config(tmp_path: Path, port: int, **sections: Mapping[str, Any]) -> Path:
    """A digest.toml for this test: data in tmp, base_url on the bound port, extra settings."""
    values: dict[str, dict[str, Any]] = {"site": {"base_url": f"http://127.0.0.1:{port}"}}
    for section, entries in sections.items():
        values.setdefault(section, {}).update(entries)
    lines = [f'data_dir = "{tmp_path / "data"}"']
    for section, entries in values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml(value)}" for key, value in entries.items()]
    path = tmp_path / "digest.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass
class LiveServer:
    base: str
    settings: Settings
    config: Path
    app: ASGIApp

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def live_server(
    tmp_path: Path,
    build: Callable[[Settings], ASGIApp],
    *,
    sections: Mapping[str, Mapping[str, Any]] | None = None,
    extra_config: str = "",
) -> Iterator[LiveServer]:
    """Bind 127.0.0.1:0, write the config for that port, build the app, serve it in a thread."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = write_config(tmp_path, port, **(sections or {}))
    if extra_config:
        config.write_text(config.read_text() + extra_config, encoding="utf-8")
    settings = load_settings(config, environ={})
    app = build(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, config, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def digest_run(
    config: Path,
    *sources: Path | str,
    env: dict[str, str] | None = None,
    now: datetime = MONDAY,
) -> str:
    """`digest run` in a subprocess, as cron or the scheduler would start it, at ``now``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    environment[CLOCK_VARIABLE] = now.isoformat()
    # The daily follow-up checks ask huggingface.co and export.arxiv.org by default;
    # tests never leave 127.0.0.1, so a test that wants them serves them and says so.
    environment["DIGEST_FOLLOW_UPS_CHECK"] = "false"
    environment.update(env or {})
    arguments = [arg for source in sources for arg in ("--source", str(source))]
    done = subprocess.run(
        [sys.executable, "-m", "digest", "--config", str(config), "run", *arguments],
        cwd=config.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def submit(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    """What a browser does with a form: load its page (which sets the CSRF cookie), post it."""
    client.get(path)
    return client.post(path, data=fields)
