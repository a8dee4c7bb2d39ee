"""A counting SMTP sink on 127.0.0.1 (aiosmtpd), in a process of its own.

Like a relay it takes every message and writes it to a file (one file per
message, under the sink's folder). It accepts lines of any length, as Postfix
does, but counts the lines longer than RFC 5322's 998 octets so the bench can
check that nobody's mail needs that. It counts messages per envelope recipient
and per ``X-RSS-ID`` header (rss2email mails every entry to one address), so
duplicates and missing readers can be counted after a crash.

``hold(n)`` makes the sink sit on the n-th message's data without answering
(and without keeping it), so the bench can kill the sender while it waits for
the 250: the moment a sender spends most of its time in.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RFC_LINE_OCTETS = 998  # RFC 5322 §2.1.1, without the CRLF


@dataclass
class SinkStats:
    messages: int = 0
    octets: int = 0
    long_lines: int = 0  # messages with a line over 998 octets
    by_recipient: Counter[str] = field(default_factory=Counter)
    by_rss_id: Counter[str] = field(default_factory=Counter)


class Sink:
    """``with Sink(folder) as sink:`` — ``sink.port``, ``sink.stats()``, ``sink.reset()``."""

    def __init__(self, folder: Path, *, write_files: bool = True) -> None:
        self.folder = folder
        self.port = _free_port()
        context = multiprocessing.get_context("spawn")
        self._control, remote = context.Pipe()
        self.held = context.Event()
        self._process = context.Process(
            target=_serve,
            args=(self.port, str(folder), write_files, remote, self.held),
            daemon=True,
        )

    def __enter__(self) -> Sink:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._process.start()
        if self._ask("ping") != "pong":
            raise RuntimeError("the SMTP sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._ask("stop")
        finally:
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()

    def stats(self) -> SinkStats:
        answer = self._ask("stats")
        assert isinstance(answer, SinkStats)
        return answer

    def reset(self) -> None:
        self._ask("reset")

    def hold(self, number: int) -> None:
        """Do not answer the ``number``-th message from now on; set ``held`` when it arrives."""
        self.held.clear()
        self._ask("hold", number)

    def release(self) -> None:
        self._ask("release")

    def _ask(self, command: str, argument: Any = None) -> Any:
        self._control.send((command, argument))
        if not self._control.poll(60):
            raise RuntimeError(f"the SMTP sink did not answer {command!r}")
        return self._control.recv()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- inside the sink's process ---------------------------------------------------------------


def _serve(
    port: int,
    folder: str,
    write_files: bool,
    control: multiprocessing.connection.Connection,
    held: Any,
) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class LongLines(SMTP):
        line_length_limit = 1 << 20  # Postfix takes long lines; we only count them

    state = _State(Path(folder), write_files, held)

    class Relay(Controller):
        def factory(self) -> SMTP:
            return LongLines(self.handler, **self.SMTP_kwargs)

    controller = Relay(state, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    try:
        while True:
            command, argument = control.recv()
            if command == "stop":
                control.send(None)
                return
            control.send(state.command(command, argument))
    finally:
        controller.stop()


class _State:
    """The aiosmtpd handler, and what the control pipe asks of it."""

    def __init__(self, folder: Path, write_files: bool, held: Any) -> None:
        self.folder = folder
        self.write_files = write_files
        self.held = held
        self.stats = SinkStats()
        self.hold_at: int | None = None
        self.release_event = threading.Event()
        self.lock = threading.Lock()

    def command(self, command: str, argument: Any) -> Any:
        with self.lock:
            if command == "ping":
                return "pong"
            if command == "stats":
                return self.stats
            if command == "reset":
                self.stats = SinkStats()
                self.hold_at = None
                return None
            if command == "hold":
                self.hold_at = self.stats.messages + int(argument)
                self.release_event.clear()
                return None
            if command == "release":
                self.release_event.set()
                return None
        raise ValueError(command)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        with self.lock:
            number = self.stats.messages + 1
            holding = self.hold_at is not None and number == self.hold_at
            if holding:
                self.hold_at = None  # once: the next sender's messages go through
        if holding:
            self.held.set()
            while not self.release_event.is_set():  # the sender is killed meanwhile
                await asyncio.sleep(0.01)
            return "451 timed out waiting"
        if self.write_files:
            (self.folder / f"{number}.eml").write_bytes(content)
        long_line = any(len(line) > RFC_LINE_OCTETS for line in content.split(b"\r\n"))
        rss_id = _header(content, b"X-RSS-ID")
        with self.lock:
            stats = self.stats
            stats.messages += 1
            stats.octets += len(content)
            stats.long_lines += long_line
            stats.by_recipient.update(envelope.rcpt_tos)
            if rss_id:
                stats.by_rss_id[rss_id] += 1
        return "250 Message accepted for delivery"


def _header(content: bytes, name: bytes) -> str | None:
    head = content.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line[: len(name) + 1].lower() == name.lower() + b":":
            return line[len(name) + 1 :].strip().decode("utf-8", "replace")
    return None
