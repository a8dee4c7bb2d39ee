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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from .. import USER_AGENT
from ..errors import FetchError
from ..model import HttpValidators

log = logging.getLogger(__name__)

# arXiv's terms of use: one request every three seconds across the API, RSS and the site
# together, so all of its hosts share one pace.
_SLOW_HOSTS = {"arxiv.org": 3.0}
_RETRY_STATUSES = {429, 500, 502, 503, 504}
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_NO_VALIDATORS = HttpValidators()
_MAX_BODY = 50 * 1024 * 1024  # a listing page is never this big; refuse runaway bodies


def open_client(timeout: float) -> httpx.Client:
    """The run's HTTP client: our User-Agent, ``timeout`` (connect at most 10 s), redirects followed.

    Its transport builds TLS only for the first ``https://`` request: loading
    the CA bundle is ~30 ms, a fifth of a run answered 304, and a run that
    reads only ``http://`` or local sources never needs it (docs/architecture.md,
    "Start-up: what a command loads").
    """
    return httpx.Client(
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
        transport=_TransportPerScheme(),
    )


class _TransportPerScheme(httpx.BaseTransport):
    """httpx's own transport, one per scheme, each made when a request first needs it."""

    def __init__(self) -> None:
        self._plain: httpx.HTTPTransport | None = None
        self._tls: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            self._tls = self._tls or httpx.HTTPTransport()
            return self._tls.handle_request(request)
        # A plain-text pool never opens TLS, so it needs no CA bundle loaded.
        self._plain = self._plain or httpx.HTTPTransport(verify=False)
        return self._plain.handle_request(request)

    def close(self) -> None:
        for transport in (self._plain, self._tls):
            if transport is not None:
                transport.close()


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
        """GET ``url``; 200 and 304 return, anything else raises :class:`FetchError`.

        Connect errors, timeouts, bodies cut short, 429 and 5xx are retried up to
        ``retries`` times, waiting what the server asked for or backing off, as
        long as ``deadline`` seconds since the first attempt allow.
        """
        started = self.clock()
        request_headers = {**_conditional_headers(validators), **(headers or {})}
        limit = self.client.timeout if timeout is None else httpx.Timeout(timeout)
        attempt = 0
        while True:
            self._pace(url)
            asked: float | None = None
            unreachable = False
            try:
                response = self._send(url, request_headers, limit, source, started + self.deadline)
            except httpx.UnsupportedProtocol as error:  # not http(s): no retry can change that
                raise FetchError(f"{_describe(error)} fetching {url}", source=source) from error
            except httpx.TransportError as error:
                problem = _describe_transport_error(error, url, limit)
                # DNS failure, refused, no route: the host is not there (backfill stops on it).
                unreachable = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                wait = self._backoff(attempt)
            except (httpx.HTTPError, httpx.InvalidURL) as error:  # retrying won't help
                raise FetchError(f"{_describe(error)} fetching {url}", source=source) from error
            else:
                if response.status in (200, 304):
                    return response
                if response.status not in _RETRY_STATUSES:
                    raise FetchError(
                        f"HTTP {response.status} from {url}{_error_text(response.payload)}",
                        source=source,
                        status=response.status,
                    )
                problem = f"HTTP {response.status} from {url}"
                asked = _server_wait(response.headers)
                wait = asked or self._backoff(attempt)
            attempt += 1
            remaining = self.deadline - (self.clock() - started)
            if attempt > self.retries or wait > remaining:
                too_long = asked is not None and asked > remaining
                raise FetchError(
                    f"{problem}; gave up after {attempt} attempt(s)"
                    + (f" (the server asked to wait {asked:.0f} s)" if too_long else ""),
                    source=source,
                    unreachable=unreachable,
                )
            log.info("%s: %s; retrying in %.1f s", source, problem, wait)
            self.sleep(wait)

    def _send(
        self,
        url: str,
        headers: Mapping[str, str],
        limit: httpx.Timeout,
        source: str,
        deadline_at: float,
    ) -> Response:
        """One GET, following redirects here rather than in httpx, so each target is checked."""
        current, hops = url, 0
        while True:
            with self._stream(current, headers, limit, url, source) as response:
                location = _location(response) if self.client.follow_redirects else None
                if location is None:
                    body = self._read_body(response, url, source, deadline_at)
                    return Response(str(response.url), response.status_code, body, response.headers)
                target = _redirect_target(str(response.url), location, url, source)
            hops += 1
            if hops > self.client.max_redirects:
                raise FetchError(
                    f"TooManyRedirects: more than {self.client.max_redirects} redirects "
                    f"fetching {url}",
                    source=source,
                )
            headers = _headers_for(target, current, headers)
            current = target

    @contextmanager
    def _stream(
        self, current: str, headers: Mapping[str, str], limit: httpx.Timeout, url: str, source: str
    ) -> Iterator[httpx.Response]:
        # httpx builds the next request of every redirect, even one it will not follow,
        # and raises there for a Location it cannot parse (javascript:, data:, "http://[").
        try:
            with self.client.stream(
                "GET", current, headers=headers, timeout=limit, follow_redirects=False
            ) as response:
                yield response
        except httpx.InvalidURL as error:
            raise FetchError(_bad_location(url, current, error), source=source) from error
        except httpx.RemoteProtocolError as error:
            if "location header" not in str(error):
                raise
            raise FetchError(_bad_location(url, current, error), source=source) from error

    def _read_body(
        self, response: httpx.Response, url: str, source: str, deadline_at: float
    ) -> bytes:
        """The decoded body, read within the source's deadline even if the server trickles it."""
        body = bytearray()
        try:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > _MAX_BODY:
                    raise FetchError(
                        f"the body from {url} is larger than {_MAX_BODY} bytes", source=source
                    )
                if self.clock() > deadline_at:
                    raise FetchError(
                        f"still reading {url} when the source's {self.deadline:g} s ran out "
                        f"({len(body)} bytes so far)",
                        source=source,
                    )
        except httpx.DecodingError as error:
            encoding = response.headers.get("content-encoding", "encoded")
            raise FetchError(
                f"cannot decode the {encoding} body from {url} ({error})", source=source
            ) from error
        return bytes(body)

    def _pace(self, url: str) -> None:
        host = _pace_key(urlsplit(url).hostname or "")
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


def _location(response: httpx.Response) -> str | None:
    if response.status_code in _REDIRECT_STATUSES:
        location: str | None = response.headers.get("location")
        return location
    return None


def _bad_location(url: str, current: str, error: Exception) -> str:
    via = "" if current == url else f" (via {current})"
    return (
        f"{url}{via} redirected to a Location that is not a valid http(s) URL ({error}); "
        "not followed"
    )


def _redirect_target(current: str, location: str, url: str, source: str) -> str:
    """The absolute http(s) URL a redirect points to, else a FetchError naming both ends.

    A listing page never moves to ``javascript:``, ``data:``, ``file:`` or ``ftp:``:
    such a Location is hostile or broken, and no retry will change it.
    """
    shown = location if len(location) <= 100 else location[:100] + "…"
    try:
        target = httpx.URL(current).join(location.strip())
    except httpx.InvalidURL:
        target = None
    if target is None or target.scheme not in ("http", "https") or not target.host:
        raise FetchError(
            f"{url} redirected to {shown!r}, which is not an http(s) URL; not followed",
            source=source,
        )
    return str(target)


def _headers_for(target: str, previous: str, headers: Mapping[str, str]) -> Mapping[str, str]:
    """Credentials a source's config sends to its own host are not handed to another host."""
    if httpx.URL(target).host == httpx.URL(previous).host:
        return headers
    return {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}


def _pace_key(host: str) -> str:
    """The host whose pace a request counts against: every *.arxiv.org host is arxiv.org."""
    return "arxiv.org" if host == "arxiv.org" or host.endswith(".arxiv.org") else host


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


_INCOMPLETE = re.compile(r"received (\d+) bytes, expected (\d+)")


def _describe_transport_error(error: httpx.TransportError, url: str, limit: httpx.Timeout) -> str:
    if isinstance(error, httpx.ReadTimeout):
        return f"read timed out after {_seconds(limit.read)} fetching {url}"
    if isinstance(error, httpx.ConnectTimeout):
        return f"connect timed out after {_seconds(limit.connect)} fetching {url}"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__}) fetching {url}"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect to {url}: {error}"
    if isinstance(error, httpx.RemoteProtocolError) and "complete message body" in str(error):
        # The server promised Content-Length (or chunks) and closed early: a truncated body.
        counts = _INCOMPLETE.search(str(error))
        detail = f" after {counts[1]} of {counts[2]} bytes" if counts else ""
        return f"incomplete body from {url}: the connection closed{detail} (truncated)"
    return f"{_describe(error)} fetching {url}"


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _seconds(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g} s"


def _error_text(payload: bytes) -> str:
    """What an error page says: arXiv API's own sentence when it is one, else its first bytes."""
    from .arxiv.api import api_error_message  # an error page is rare: its parser loads then

    said = api_error_message(payload)
    return f": arXiv says: {said}" if said is not None else _snippet(payload)


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
