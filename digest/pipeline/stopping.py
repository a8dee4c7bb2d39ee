"""Stopping a run on request (SIGINT, SIGTERM, a server shutting down) without losing track of it.

A :class:`Stop` is shared by whoever asks (a signal handler, ``digest serve``'s
shutdown) and the run that obeys. The run looks at it between sources and
between messages: a message already handed to the relay is finished and
recorded before the run stops, so stopping never widens the duplicate window
beyond that one message. Outside the delivery phase a signal stops the run at
once (:class:`Interrupted` is raised from the handler), since a half-read
source is simply read again next time.

The run then ends as ``interrupted`` in the history, with what it did ingest,
and the command exits ``128 + signal`` (130 for SIGINT, 143 for SIGTERM), as
shells expect.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Interrupted(BaseException):
    """The run was asked to stop. A BaseException, so that no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal_name(signum)}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Stop:
    """A stop request, set once from any thread; ``deferring`` says a message is in flight."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum = 0
        self.deferring = False

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, signum: int = signal.SIGTERM) -> None:
        if not self._event.is_set():
            self.signum = signum
            self._event.set()

    def nap(self, seconds: float) -> None:
        """Sleep, waking (with :class:`Interrupted`) as soon as a stop is requested."""
        if self._event.wait(seconds):
            raise Interrupted(self.signum)

    def check(self) -> None:
        """Raise :class:`Interrupted` when a stop was requested (between two steps of a run)."""
        if self.requested:
            raise Interrupted(self.signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Within this block a signal only sets the flag; the block looks at it between messages."""
        before, self.deferring = self.deferring, True
        try:
            yield
        finally:
            self.deferring = before


@contextmanager
def stop_on_signals(stop: Stop) -> Iterator[Stop]:
    """SIGINT and SIGTERM request ``stop`` (main thread only); a second signal stops at once."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        again = stop.requested
        stop.request(signum)
        if again or not stop.deferring:
            raise Interrupted(signum)

    previous = {
        number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield stop
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
