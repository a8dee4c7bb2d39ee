"""Real servers on 127.0.0.1 for end-to-end tests: an HTTP server of recorded pages, an SMTP sink.

The HTTP server serves scripted routes: each path has a list of responses
played in order (the last one repeats), so a test can say "503 with
Retry-After, then the page". Pages with an ETag answer a matching
If-None-Match with 304, as real servers do. Every request is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    stall: float = 0.0  # seconds to wait after the headers before the body (a read that hangs)
    truncate_to: int | None = None  # promise the full length, send only this many bytes


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived, for pacing checks
    method: str = "GET"
    body: bytes = b""


class PageServer:
    """A threaded HTTP server on 127.0.0.1 with scripted routes."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, *replies: Reply) -> str:
        with self._lock:
            self.routes[path] = list(replies)
        return self.url(path)

    def requests_for(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    def _next(self, path: str) -> Reply:
        with self._lock:
            replies = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
            if not replies:
                return Reply(b"not found", 404)
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests.append(Request(self.path, dict(self.headers.items())))
                reply = server._next(self.path)
                if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                    self.send_response(304)
                    self.send_header("ETag", reply.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.etag:
                    self.send_header("ETag", reply.etag)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.stall:
                    time.sleep(reply.stall)
                body = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
                try:
                    self.wfile.write(body)
                    if reply.truncate_to is not None:
                        self.wfile.flush()
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:
                """Scripted like GET (a WebSub hub, say); the request body is kept."""
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.requests.append(
                    Request(self.path, dict(self.headers.items()), method="POST", body=body)
                )
                reply = server._next(self.path)
                if reply.stall:  # a webhook that takes its time to answer
                    time.sleep(reply.stall)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(reply.body)  # the poster may be gone (killed)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read server.requests instead."""

        return Handler

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def page_server() -> Iterator[PageServer]:
    with PageServer() as server:
        yield server


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it accepts.

    ``rcpt_script(address, attempt)`` may return an SMTP reply ("451 ...", "550 ...")
    instead of 250, so tests can make a relay that says 451 once, or 550 for one
    address. ``drop_after = N`` makes the relay accept N messages and then cut the
    connection when the next one starts, as an overloaded relay does.
    ``hold_at = N`` makes the relay sit on the N-th message's data without
    answering (and without keeping it) and sets ``held``, so a test can kill the
    sender while it waits for the 250. With ``accept_held`` the held message is
    accepted (250) once the test sets ``release``: a signal can arrive while a
    message is in flight. ``after_accept(count)`` runs after each accepted
    message (a test fills the disk there). ``data_script(recipients)`` answers
    the end of DATA instead of 250 ("451 ...", "554 ...", or "drop" to cut the
    connection with the whole message read and no answer given); such a message
    is not kept. ``mail_script(sender)`` answers MAIL FROM instead of 250 ("530
    ...": a relay that wants a login). ``data_command_script(recipients)``
    answers the DATA command itself instead of 354 (a policy service's "451
    ..."), keeping the transaction open as Postfix does, so a MAIL before RSET
    gets "503 nested MAIL command".
    """

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        self.messages: list[tuple[str, list[str], bytes]] = []
        self.attempts: dict[str, int] = {}
        self.rcpt_script: Callable[[str, int], str | None] | None = None
        self.drop_after: int | None = None
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.accept_held = False
        self.release = threading.Event()
        self.after_accept: Callable[[int], None] | None = None
        self.data_script: Callable[[list[str]], str | None] | None = None
        self.mail_script: Callable[[str], str | None] | None = None
        self.data_command_script: Callable[[list[str]], str | None] | None = None
        sink = self

        class Handler:
            async def handle_MAIL(
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                if sink.drop_after is not None and len(sink.messages) >= sink.drop_after:
                    sink.drop_after = None
                    server.transport.close()
                    return "421 closing"
                answer = sink.mail_script(address) if sink.mail_script else None
                if answer:
                    return answer
                envelope.mail_from = address
                return "250 OK"

            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                count = sink.attempts.get(address, 0) + 1
                sink.attempts[address] = count
                answer = sink.rcpt_script(address, count) if sink.rcpt_script else None
                if answer:
                    return answer
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if sink.hold_at is not None and len(sink.messages) + 1 == sink.hold_at:
                    sink.hold_at = None
                    sink.held.set()
                    if not sink.accept_held:
                        await asyncio.sleep(10)  # the sender is killed meanwhile
                        return "451 timed out waiting"
                    await asyncio.get_running_loop().run_in_executor(None, sink.release.wait, 30)
                answer = sink.data_script(list(envelope.rcpt_tos)) if sink.data_script else None
                if answer == "drop":
                    server.transport.close()
                    return "421 closing"  # never reaches the sender: the connection is gone
                if answer:
                    return answer
                sink.messages.append(
                    (
                        envelope.mail_from,
                        list(envelope.rcpt_tos),
                        envelope.original_content or envelope.content,
                    )
                )
                if sink.after_accept is not None:
                    sink.after_accept(len(sink.messages))
                return "250 Message accepted for delivery"

        class Relay(SMTP):
            async def smtp_DATA(self, arg: str) -> None:
                script = sink.data_command_script
                answer = script(list(self.envelope.rcpt_tos)) if script and self.envelope else None
                if answer:
                    await self.push(answer)
                    return
                await super().smtp_DATA(arg)

        class RelayController(Controller):
            def factory(self) -> SMTP:
                return Relay(self.handler, **self.SMTP_kwargs)

        self.port = _free_port()
        self._controller = RelayController(
            Handler(), hostname="127.0.0.1", port=self.port, decode_data=False
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?tls=off"

    def recipients(self) -> list[str]:
        return [address for _, rcpts, _ in self.messages for address in rcpts]

    def parsed(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for _, _, raw in self.messages]  # type: ignore[misc]

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class SilentRelay:
    """A relay that accepts TCP connections and never says a word (a hung SMTP server)."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = int(self._server.getsockname()[1])
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?tls=off"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.connections.append(connection)  # held open, never answered

    def __enter__(self) -> SilentRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the thread
        self._server.close()
        for connection in self.connections:
            connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
