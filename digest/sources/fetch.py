"""Fetching listing pages: the only module of ``sources`` that does I/O.

HTTP goes through an injected ``httpx.Client`` (tests pass a MockTransport or
point at a server on 127.0.0.1): explicit timeouts, a descriptive User-Agent,
retries with exponential backoff and jitter on connect errors, 429 and 5xx
(honouring ``Retry-After`` and Hugging Face's ``RateLimit: ...;t=N``), one
deadline per source, pacing per host (arXiv asks for one request per 3 s), and
conditional GET with the validators history kept. Local paths, ``file://`` URLs
and folders are read from disk.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from ..errors import FetchError
from ..history import HttpValidators

log = logging.getLogger(__name__)

# arXiv's terms of use: no more than one request every three seconds, on any of its hosts.
_SLOW_HOSTS = {"arxiv.org": 3.0, "export.arxiv.org": 3.0, "rss.arxiv.org": 3.0}
_RETRY_STATUSES = {429, 500, 502, 503, 504}
_NO_VALIDATORS = HttpValidators()
_MAX_BODY = 50 * 1024 * 1024  # a listing page is never this big; refuse runaway bodies


@dataclass(frozen=True)
class Document:
    """One fetched payload and the URL or path it came from."""

    url: str
    payload: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class Response:
    """A finished HTTP exchange (after retries)."""

    url: str
    status: int
    payload: bytes
    headers: Mapping[str, str]

    @property
    def validators(self) -> HttpValidators:
        return HttpValidators(self.headers.get("etag"), self.headers.get("last-modified"))


@dataclass
class Fetcher:
    """Polite HTTP GETs with retries; ``sleep`` and ``clock`` are injected for tests."""

    client: httpx.Client
    retries: int = 3
    deadline: float = 120.0
    host_interval: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    _last_request: dict[str, float] = field(default_factory=dict)

    def get(
        self,
        url: str,
        *,
        source: str,
        validators: HttpValidators = _NO_VALIDATORS,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """GET ``url``; 200 and 304 return, anything else raises :class:`FetchError`."""
        started = self.clock()
        request_headers = {**_conditional_headers(validators), **(headers or {})}
        attempt = 0
        while True:
            self._pace(url)
            try:
                response = self._send(url, request_headers, timeout)
            except httpx.TransportError as error:
                problem = _describe_transport_error(error, timeout)
                wait = self._backoff(attempt)
            else:
                if response.status in (200, 304):
                    return response
                if response.status not in _RETRY_STATUSES:
                    raise FetchError(
                        f"HTTP {response.status} from {url}{_snippet(response.payload)}",
                        source=source,
                        status=response.status,
                    )
                problem = f"HTTP {response.status} from {url}"
                wait = _server_wait(response.headers) or self._backoff(attempt)
            attempt += 1
            remaining = self.deadline - (self.clock() - started)
            if attempt > self.retries or wait > remaining:
                raise FetchError(
                    f"{problem}; gave up after {attempt} attempt(s)"
                    + (f" (the server asked to wait {wait:.0f} s)" if wait > remaining else ""),
                    source=source,
                )
            log.info("%s: %s; retrying in %.1f s", source, problem, wait)
            self.sleep(wait)

    def _send(self, url: str, headers: Mapping[str, str], timeout: float | None) -> Response:
        limit: httpx.Timeout | httpx._client.UseClientDefault = (
            httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout)
        )
        with self.client.stream("GET", url, headers=headers, timeout=limit) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > _MAX_BODY:
                    raise httpx.DecodingError(f"response larger than {_MAX_BODY} bytes")
            return Response(str(response.url), response.status_code, bytes(body), response.headers)

    def _pace(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        interval = max(self.host_interval, _SLOW_HOSTS.get(host, 0.0))
        last = self._last_request.get(host)
        if last is not None:
            wait = interval - (self.clock() - last)
            if wait > 0:
                self.sleep(wait)
        self._last_request[host] = self.clock()

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: 1, 2, 4 … seconds, scaled by a random factor."""
        return float(min(60.0, 2.0**attempt) * (0.5 + self.rng.random() / 2))


def _conditional_headers(validators: HttpValidators) -> dict[str, str]:
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _server_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait: Retry-After (seconds or a date) or RateLimit t=."""
    retry_after = headers.get("retry-after")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after.strip())
        try:
            moment = parsedate_to_datetime(retry_after)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            return max(0.0, moment.timestamp() - time.time())
    # IETF draft header used by Hugging Face: RateLimit: "api";r=0;t=55
    rate_limit = headers.get("ratelimit")
    if rate_limit and (match := re.search(r"\bt=(\d+)", rate_limit)):
        return float(match.group(1))
    return None


def _describe_transport_error(error: httpx.TransportError, timeout: float | None) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__}) fetching {error.request.url}"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect to {error.request.url}: {error}"
    return f"{type(error).__name__} fetching {error.request.url}: {error}"


def _snippet(payload: bytes) -> str:
    text = " ".join(payload[:200].decode("utf-8", "replace").split())
    return f": {text}" if text else ""


def is_local(location: str) -> bool:
    """A path or file:// URL (anything that is not http/https)."""
    return urlsplit(location).scheme not in ("http", "https")


def read_local(location: str, *, source: str) -> list[Document]:
    """Read a file, a ``file://`` URL, or every listing file of a folder in name order."""
    path = (
        Path(unquote(urlsplit(location).path)) if location.startswith("file:") else Path(location)
    )
    try:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not files:
                raise FetchError(f"folder {path} has no listing files", source=source)
            return [Document(str(p), p.read_bytes()) for p in files]
        return [Document(str(path), path.read_bytes())]
    except FileNotFoundError:
        raise FetchError(f"no such file or folder: {path}", source=source) from None
    except OSError as error:
        raise FetchError(f"cannot read {path}: {error.strerror}", source=source) from error
