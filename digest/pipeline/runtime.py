"""Building the I/O a run needs from settings: the database, HTTP, the mail transport, the clock.

The CLI, the scheduler and the web app all start runs through :func:`open_runtime`;
tests build a :class:`~digest.pipeline.Runtime` by hand with fakes or servers on
127.0.0.1 instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .. import history
from ..clock import utc_now
from ..config import Settings
from ..deliver.transports import Transport, open_transport
from ..locations import data_files
from ..sources.fetch import Fetcher, open_client
from .stopping import Stop

if TYPE_CHECKING:
    from .channels import Poster


@dataclass(frozen=True)
class Runtime:
    """The injected I/O of a run, and the flag that asks it to stop."""

    db: sqlite3.Connection
    fetcher: Fetcher
    transport: Transport
    clock: Callable[[], datetime]
    poster: Poster | None = None  # chat channels: Apprise unless a test gives its own
    stop: Stop = field(default_factory=Stop)


@contextmanager
def open_runtime(settings: Settings, *, stop: Stop | None = None) -> Iterator[Runtime]:
    db = history.open_history(data_files(settings).database)
    client = open_client(settings.http.timeout)
    try:
        fetcher = Fetcher(
            client,
            retries=settings.http.retries,
            deadline=settings.http.source_deadline,
            host_interval=settings.http.host_interval,
        )
        transport = open_transport(settings)
        yield Runtime(db, fetcher, transport, utc_now, stop=stop or Stop())
    finally:
        client.close()
        db.close()
