"""Posting to chat channels through Apprise, with the service's answer classified for the ledger.

Apprise speaks to 100+ services by URL (``slack://``, ``discord://``,
``tgram://``, ``matrix://``, ``ntfy://``, ``json://host/path``) and answers a
notification with True or False alone: the HTTP status a service gave is only
in Apprise's log lines ("…error=503."), with the response body at debug level.
:func:`post` listens to those lines for the duration of one post and turns them
into our two outcomes: :class:`~digest.errors.TransientDeliveryError` (no
answer, a timeout, 429 or 5xx: post again on the next drain) and
:class:`~digest.errors.PermanentDeliveryError` (any other 4xx, or a URL Apprise
cannot use: kept with the answer, never retried).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import PermanentDeliveryError, TransientDeliveryError

_STATUS = re.compile(r"error=(\d{3})\b")
_ANSWER_CHARS = 500  # of the service's answer kept in the ledger
_APPRISE_LOGGER = "apprise"


@dataclass(frozen=True)
class Service:
    """What a post to one URL may hold: the body's and the title's size (0: no separate title)."""

    kind: str
    body_limit: int
    title_limit: int
    private_url: str  # the URL with its secrets masked, for listings and logs


def service_of(url: str) -> Service:
    """The service behind an Apprise URL, or PermanentDeliveryError when Apprise cannot use it."""
    plugin = _plugin(url)
    return Service(
        kind=str(getattr(plugin, "service_name", None) or type(plugin).__name__),
        body_limit=int(getattr(plugin, "body_maxlen", 0) or 0) or 32768,
        title_limit=int(getattr(plugin, "title_maxlen", 0) or 0),
        private_url=_label(plugin),
    )


def post(url: str, title: str, body: str) -> None:
    """Post one Markdown message; raise Transient/PermanentDeliveryError when it did not arrive."""
    import apprise  # ~0.1 s to import: only when something is posted

    plugin = _plugin(url)
    notifier = apprise.Apprise()
    notifier.add(plugin)
    with _apprise_log() as lines:
        delivered = notifier.notify(
            body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN
        )
    if delivered:
        return
    status, answer = _outcome(lines)
    where = _label(plugin)
    if status is None:
        reason = _last_warning(lines) or "no answer"
        raise TransientDeliveryError(f"{reason} (will retry)", recipient=where)
    detail = f"HTTP {status}" + (f": {answer}" if answer else "")
    if status == 429 or status >= 500:
        raise TransientDeliveryError(f"{detail} (will retry)", recipient=where)
    raise PermanentDeliveryError(detail, recipient=where)


def _label(plugin: Any) -> str:
    """The URL with secrets masked and Apprise's own options left out: what logs and listings show."""
    return str(plugin.url(privacy=True)).partition("?")[0]


def _plugin(url: str) -> Any:
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if not plugin:
        raise PermanentDeliveryError(
            "not a URL Apprise can post to (see the Apprise wiki for the service's URL form)",
            recipient=url.partition("://")[0] + "://…",
        )
    return plugin


def _outcome(lines: list[tuple[int, str]]) -> tuple[int | None, str]:
    """The last HTTP status Apprise logged, and the answer's body it logged at debug level."""
    status: int | None = None
    answer = ""
    for level, message in lines:
        match = _STATUS.search(message)
        if match and level >= logging.WARNING:
            status = int(match.group(1))
        elif message.startswith("Response Details:"):
            answer = _unrepr(message.removeprefix("Response Details:").strip())
    return status, " ".join(answer.split())[:_ANSWER_CHARS]


def _unrepr(text: str) -> str:
    # Apprise logs the body as a bytes repr: b'{"error": ...}'.
    if len(text) >= 3 and text[0] == "b" and text[1] in "'\"" and text[-1] == text[1]:
        return text[2:-1]
    return text


def _last_warning(lines: list[tuple[int, str]]) -> str:
    warnings = [message for level, message in lines if level >= logging.WARNING]
    return warnings[-1] if warnings else ""


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Apprise may post from a worker thread; a post of ours is one thread's at a time.
        self.lines.append((record.levelno, record.getMessage()))


@contextmanager
def _apprise_log() -> Iterator[list[tuple[int, str]]]:
    """Apprise's log lines (debug included) while the block runs; its level is restored after."""
    logger = logging.getLogger(_APPRISE_LOGGER)
    handler = _Collect()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
