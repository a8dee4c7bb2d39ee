"""uvicorn's HTTP protocol with a deadline for the request head (a slow-loris guard).

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but has no
limit on how long a client may take to send its request line and headers, so
a thousand sockets that each send a byte a minute hold the server. This
protocol closes a connection whose request head is not complete within
``HEADER_SECONDS`` of its first byte (or of the connection). A request whose
head has arrived is never cut: slow bodies are bounded by the body limit and
the proxy in front.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

HEADER_SECONDS = 10.0  # a browser sends its head in one packet; nginx in milliseconds
KEEP_ALIVE_SECONDS = 5  # uvicorn's default, set explicitly so it is a decision


class HeaderDeadlineProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """Closes the connection when a request head takes longer than ``HEADER_SECONDS``."""

    header_seconds = HEADER_SECONDS

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        cycle: Any = getattr(self, "cycle", None)
        if cycle is not None and not cycle.response_complete:
            self._disarm()  # the head is in: the app has the request
        elif self._head_timer is None:
            self._arm()  # the first bytes of the next request on a kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(self.header_seconds, self._too_slow)

    def _disarm(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        transport: Any = getattr(self, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.close()
