"""Feeds over HTTP: strong ETags, Last-Modified, 304s, gzip, and Cache-Control.

A feed file (``feed.atom``, ``topics/<slug>.atom``) is read once per change:
:class:`FeedFiles` keeps its bytes, gzipped bytes and validators keyed by the
file's inode, size and mtime, so a conditional GET costs one ``fstat``. The
ETag is a hash of the bytes (the same bytes always get the same ETag,
docs/standards.md §5.1), Last-Modified is when the file last changed
(:func:`~digest.files.write_atomically` leaves an identical file untouched).
The gzip variant is a different representation, so it gets its own strong
ETag (``"<hash>-gz"``); either one validates a conditional request.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

ATOM = "application/atom+xml; charset=utf-8"
OPML = "text/x-opml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
# An XML type, or Chromium will not apply it as XSLT.
XSL = "text/xsl; charset=utf-8"
GZIP_SUFFIX = "-gz"
_MIN_GZIP = 512  # below this gzip's header costs more than it saves


@dataclass(frozen=True)
class Representation:
    """Bytes ready to serve, with their validators."""

    body: bytes
    gzipped: bytes | None
    tag: str  # hex hash of ``body``; the ETag without quotes or suffix
    last_modified: datetime
    media_type: str

    @classmethod
    def of(cls, body: bytes, last_modified: datetime, media_type: str) -> Representation:
        # mtime=0 keeps the gzip bytes a pure function of the body.
        packed = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= _MIN_GZIP else None
        tag = hashlib.sha256(body).hexdigest()[:32]
        return cls(body, packed, tag, last_modified.replace(microsecond=0), media_type)


class FeedFiles:
    """Representations of files on disk, re-read only when the file changed."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[tuple[int, int, int], Representation]] = {}

    def get(self, path: Path, media_type: str = ATOM) -> Representation | None:
        """The file's representation, or None when it does not exist."""
        cached = self._cache.get(path)
        if cached is not None:
            # The common case, a poll of an unchanged feed: one stat, no open. A file
            # with the inode, size and mtime the cached bytes were read under is them.
            try:
                status = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                return None
            if (status.st_ino, status.st_size, status.st_mtime_ns) == cached[0]:
                return cached[1]
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        with os.fdopen(descriptor, "rb") as handle:
            # fstat and read the same open file: a rename in between cannot pair
            # new bytes with old validators.
            status = os.fstat(handle.fileno())
            key = (status.st_ino, status.st_size, status.st_mtime_ns)
            cached = self._cache.get(path)
            if cached is not None and cached[0] == key:
                return cached[1]
            body = handle.read()
        modified = datetime.fromtimestamp(status.st_mtime, UTC)
        representation = Representation.of(body, modified, media_type)
        self._cache[path] = (key, representation)
        return representation


def conditional_response(
    request: Request,
    representation: Representation,
    *,
    cache_control: str,
    last_modified: bool = True,
    headers: dict[str, str] | None = None,
) -> Response:
    """200 with the body (gzipped when the client takes it), or 304 with no body.

    ``last_modified=False``: the ETag alone validates (a page rendered from
    history has no one moment it last changed; its bytes say whether it did).
    """
    use_gzip = representation.gzipped is not None and accepts_gzip(
        request.headers.get("accept-encoding", "")
    )
    tag = representation.tag + (GZIP_SUFFIX if use_gzip else "")
    headers = {
        **(headers or {}),
        "ETag": f'"{tag}"',
        "Cache-Control": cache_control,
        # Sec-Fetch-Dest: a browser opening the feed gets it as a page (published.wants_page).
        "Vary": "Accept-Encoding, Sec-Fetch-Dest",
        "Access-Control-Allow-Origin": "*",  # web-based feed readers fetch from the browser
        # ETag is not a CORS-safelisted response header: without this, a web reader
        # cannot read it to ask conditionally.
        "Access-Control-Expose-Headers": "ETag",
    }
    if last_modified:
        headers["Last-Modified"] = format_datetime(representation.last_modified, usegmt=True)
    if not_modified(request, representation, use_dates=last_modified):
        return Response(status_code=304, headers=headers)
    body = representation.body
    if use_gzip:
        assert representation.gzipped is not None
        body = representation.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=representation.media_type, headers=headers)


def not_modified(
    request: Request, representation: Representation, *, use_dates: bool = True
) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present, else If-Modified-Since."""
    if request.method not in ("GET", "HEAD"):
        return False
    return validators_match(
        request.headers.get("if-none-match"),
        request.headers.get("if-modified-since"),
        representation,
        use_dates=use_dates,
    )


def validators_match(
    if_none_match: str | None,
    if_modified_since: str | None,
    representation: Representation,
    *,
    use_dates: bool = True,
) -> bool:
    """Whether a GET's validators say the client holds ``representation`` (a 304)."""
    if if_none_match is not None:
        return etag_matches(if_none_match, representation.tag)
    if if_modified_since is None or not use_dates:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return representation.last_modified <= since


PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    # Not CORS-safelisted, so a web reader's conditional GET needs them allowed.
    "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
    "Access-Control-Max-Age": "86400",
    "Allow": "GET, HEAD, OPTIONS",
}


async def preflight(request: Request) -> Response:
    """``OPTIONS`` on a feed: the CORS preflight a browser-based reader sends, and ``Allow``."""
    return Response(status_code=204, headers=PREFLIGHT_HEADERS)


def etag_matches(header: str, tag: str) -> bool:
    """Weak comparison (RFC 9110 §8.8.3.2), as If-None-Match requires, over both variants."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        opaque = candidate.removeprefix("W/").strip('"').removesuffix(GZIP_SUFFIX)
        if opaque == tag:
            return True
    return False


def accepts_gzip(header: str) -> bool:
    """``Accept-Encoding`` names gzip (or ``*``) without ``q=0``."""
    for item in header.lower().split(","):
        coding, _, parameters = item.strip().partition(";")
        if coding.strip() not in ("gzip", "x-gzip", "*"):
            continue
        quality = parameters.strip().removeprefix("q=")
        try:
            return not parameters.strip() or float(quality) > 0
        except ValueError:
            return False
    return False
