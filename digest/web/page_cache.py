"""Rendered pages kept in memory: the home page, each day's digest, the archive index.

Rendering a page is the dear part of answering it (a day page ranks and
explains every paper of the day); the bytes change only when the data behind
them does. So each page is rendered once, with its strong ETag and gzip copy
(:class:`~digest.web.feeds.Representation`), and kept until something it is
made of changes. What a page is made of, and how a change is seen:

- the history: any commit by anyone (a run publishing a digest, a follow-up
  update, a sign-up's rate-limit hit) changes ``PRAGMA data_version``
  (:class:`~digest.history.public.DataWatch`, one connection per worker, a few
  microseconds a look, one look per turn of the event loop: see
  :meth:`PageCache.version_this_turn`). Every page is then rendered afresh on its next
  request; a page whose bytes came out the same keeps its ETag, so browsers
  still get their 304;
- the files: the ``topics/`` folder (the home page lists the topic feeds a run
  wrote) and the operator's template overrides (``[site] templates_dir``;
  Jinja2 picks up an edited template, so the cache must too), by ``stat``;
- the settings (title, language, sources, schedule, topics, base URL): fixed for
  the life of the app, which owns the cache, so they are part of every key
  without being spelled out. The CSRF cookie is a header, never in the bytes
  (web/security.py), so the home page can be cached at all.

The key is the request path (``/``, ``/digests/``, ``/digests/YYYY-MM-DD``):
only pages that rendered with a 200 are stored, so there are at most as many
keys as digest days, and the cache is bounded by entries and bytes besides
(least recently used first out). :class:`CachedPages` answers a request for a
kept page before routing and before the other middleware, with the same
:meth:`CachedPage.send` the handlers use (which adds the security headers itself).
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..history.public import DataWatch
from .feeds import GZIP_SUFFIX, Representation, accepts_gzip, etag_matches
from .security import CSRF_COOKIE, Csrf, security_heads


class _Serving(Protocol):
    """What the fast path needs of the app's :class:`~digest.web.context.Site`."""

    pages: PageCache
    csrf: Csrf


MAX_BYTES = 64 * 2**20  # bodies and gzip copies: ~250 day pages of 100 papers (209 KB + gzip)
MAX_ENTRIES = 400  # about as many days as the archive lists

Files = tuple[tuple[str, int, int, int], ...]  # (name, inode, size, mtime_ns) of what is watched
Version = tuple[tuple[int, int], Files]


Head = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class CachedPage:
    """A page's bytes and the response heads it is answered with, built once.

    The heads are :func:`~digest.web.feeds.conditional_response`'s (without
    Last-Modified: the ETag alone validates a page), kept as the ASGI messages'
    raw header lists; ``tests/web/test_page_cache.py`` checks that the two agree.
    """

    representation: Representation
    cache_control: str
    form: bool  # the page has a form: an answer renews the browser's CSRF cookie when due
    heads: dict[tuple[bool, bool], Head]  # (gzip, 304) → headers

    @classmethod
    def of(cls, representation: Representation, cache_control: str, form: bool) -> CachedPage:
        heads: dict[tuple[bool, bool], Head] = {}
        for gzipped in (False, True):
            if gzipped and representation.gzipped is None:
                continue
            tag = representation.tag + (GZIP_SUFFIX if gzipped else "")
            validators = [
                (b"etag", f'"{tag}"'.encode()),
                (b"cache-control", cache_control.encode()),
                (b"vary", b"Accept-Encoding, Sec-Fetch-Dest"),
                (b"access-control-allow-origin", b"*"),
                (b"access-control-expose-headers", b"ETag"),
            ]
            body = representation.gzipped if gzipped else representation.body
            assert body is not None
            heads[(gzipped, True)] = validators
            heads[(gzipped, False)] = [
                *validators,
                *([(b"content-encoding", b"gzip")] if gzipped else []),
                (b"content-length", str(len(body)).encode()),
                (b"content-type", representation.media_type.encode()),
            ]
        return cls(representation, cache_control, form, heads)

    async def send(self, scope: Scope, csrf: Csrf, send: Send) -> None:
        """Answer ``scope`` (a GET or HEAD): 200, gzipped when asked, or 304 on a matching
        If-None-Match; renew the CSRF cookie when due."""
        accept_encoding = if_none_match = cookie = None
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value.decode("latin-1")
        representation = self.representation
        gzipped = representation.gzipped is not None and accepts_gzip(accept_encoding or "")
        not_modified = if_none_match is not None and etag_matches(if_none_match, representation.tag)
        # Its own security headers: the fast path answers outside SecurityHeaders.
        head = [*self.heads[(gzipped, not_modified)], *security_heads(scope)]
        if self.form and csrf.needs_cookie_value(
            cookie_parser(cookie).get(CSRF_COOKIE, "") if cookie else ""
        ):
            head.append((b"set-cookie", csrf.cookie_header()))
        await send({"type": "http.response.start", "status": 304 if not_modified else 200,
                    "headers": head})  # fmt: skip
        body = b"" if not_modified else (
            representation.gzipped if gzipped else representation.body
        )  # fmt: skip
        await send({"type": "http.response.body", "body": body or b""})


class PageCache:
    """Pages by path, valid for one :data:`Version` of what they are made of."""

    def __init__(
        self,
        watch: DataWatch,
        watched_files: Callable[[], Files],
        *,
        max_bytes: int = MAX_BYTES,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._watch = watch
        self._watched_files = watched_files
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self._pages: OrderedDict[str, CachedPage] = OrderedDict()
        self._bytes = 0
        self._current: Version | None = None  # what the kept pages were made from
        # The look taken on this turn of the event loop, and that loop (see ``version``).
        self._this_turn: tuple[asyncio.AbstractEventLoop, Version] | None = None

    def version(self) -> Version | None:
        """What the pages would be made of now; None when that cannot be told (no cache)."""
        data = self._watch.version()
        return None if data is None else (data, self._watched_files())

    def version_this_turn(self) -> Version | None:
        """:meth:`version`, for code running on the event loop: one look per turn of it.

        Every request answered in the same turn of the loop shares the look. It is
        forgotten by a ``call_soon`` callback, and the loop runs its callbacks in
        order, so whatever is scheduled after the look sees a fresh one: the next
        requests' tasks, and a handler resuming once its worker thread has
        committed. A commit made meanwhile by anyone else is seen from the next turn
        on, as by a request that came a moment later.
        """
        loop = asyncio.get_running_loop()
        turn = self._this_turn
        if turn is not None and turn[0] is loop:
            return turn[1]
        version = self.version()
        if version is not None:
            self._this_turn = (loop, version)
            loop.call_soon(self._next_turn)
        return version

    def _next_turn(self) -> None:
        self._this_turn = None

    def get(self, path: str) -> CachedPage | None:
        """The kept page for ``path`` if it is still current."""
        if path not in self._pages:
            return None  # most requests: no look at the database at all
        return self.lookup(path, self.version())

    def get_this_turn(self, path: str) -> CachedPage | None:
        """:meth:`get` on the event loop (the fast path's question), sharing this turn's look."""
        if path not in self._pages:
            return None
        return self.lookup(path, self.version_this_turn())

    def lookup(self, path: str, version: Version | None) -> CachedPage | None:
        if version is None:
            return None
        if version != self._current:
            self._pages.clear()  # made of something older: none of them is kept
            self._bytes = 0
            self._current = version
            return None
        page = self._pages.get(path)
        if page is not None:
            self._pages.move_to_end(path)
        return page

    def store(self, path: str, version: Version | None, page: CachedPage) -> None:
        """Keep ``page``, rendered from data at least as new as ``version`` (read before it)."""
        if version is None or version != self._current:
            return  # something changed while it rendered: the next request renders again
        size = _size(page)
        if size > self._max_bytes:
            return
        old = self._pages.pop(path, None)
        if old is not None:
            self._bytes -= _size(old)
        self._pages[path] = page
        self._bytes += size
        while self._bytes > self._max_bytes or len(self._pages) > self._max_entries:
            _, evicted = self._pages.popitem(last=False)
            self._bytes -= _size(evicted)

    def close(self) -> None:
        self._watch.close()

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def size(self) -> int:
        return self._bytes


def _size(page: CachedPage) -> int:
    representation = page.representation
    return len(representation.body) + len(representation.gzipped or b"")


def watched_files(topics: Path, templates: Path | None) -> Callable[[], Files]:
    """A function that stats the topic-feed folder and every template override, cheaply."""
    folders = [topics] + ([templates, templates / "web"] if templates is not None else [])

    def stamp() -> Files:
        found: list[tuple[str, int, int, int]] = []
        for folder in folders:
            try:
                status = os.stat(folder)
            except OSError:
                continue
            found.append((str(folder), status.st_ino, status.st_size, status.st_mtime_ns))
            if folder is not topics:
                # A template edited in place changes its own mtime, not the folder's.
                found += _entries(folder)
        return tuple(found)

    return stamp


def _entries(folder: Path) -> list[tuple[str, int, int, int]]:
    try:
        with os.scandir(folder) as entries:
            return [
                (entry.path, entry.inode(), status.st_size, status.st_mtime_ns)
                for entry in entries
                if entry.is_file()
                for status in (entry.stat(),)
            ]
    except OSError:
        return []


class Prepared(Response):
    """A kept page as the Response a handler returns: sent from its prepared heads."""

    def __init__(self, page: CachedPage, csrf: Csrf) -> None:
        super().__init__(status_code=200)
        self.page, self.csrf = page, csrf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.page.send(scope, self.csrf, send)


HTML = "text/html; charset=utf-8"


class CachedPages:
    """Answer a GET of a kept, current page before routing (the router, the exception layers
    and the endpoint cost more than the answer); anything else goes on through the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            site: _Serving = scope["app"].state.site
            page = site.pages.get_this_turn(scope["path"])
            if page is not None:
                await page.send(scope, site.csrf, send)
                return
        await self.app(scope, receive, send)
