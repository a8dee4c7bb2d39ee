"""A listing server on 127.0.0.1: fixed bytes per path, with or without an ETag.

Without an ETag every GET is a 200 with the full body (a server that keeps no
validators, or a file regenerated each time with the same content); with one, a
matching If-None-Match gets a 304. Threads in the bench process: the programs
under test run in their own processes and fetch from here.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Page:
    body: bytes
    etag: str | None = None
    content_type: str = "application/atom+xml; charset=utf-8"


class PageServer:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: dict[str, list[int]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def put(self, path: str, body: bytes, *, etag: str | None = None) -> str:
        self.pages[path] = Page(body, etag)
        return self.url(path)

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(server: PageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            page = server.pages.get(path)
            if page is None:
                self._answer(404, b"not found", {})
                return
            headers = {"Content-Type": page.content_type}
            if page.etag:
                headers["ETag"] = page.etag
                if self.headers.get("If-None-Match") == page.etag:
                    server.hits.setdefault(path, []).append(304)
                    self._answer(304, b"", headers)
                    return
            server.hits.setdefault(path, []).append(200)
            self._answer(200, page.body, headers)

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler
