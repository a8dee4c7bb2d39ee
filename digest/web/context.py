"""What every request handler shares: settings, clock, signer, limits, and how to answer with a page.

One :class:`Site` is built per app by :func:`~digest.web.app.create_app` and
kept on ``app.state``; handlers reach it with :func:`site_of`. The public pages
come from its :class:`~digest.web.page_cache.PageCache` while nothing they show
changed. Otherwise the database is opened per request in a worker thread (SQLite connections stay in the thread
that made them; WAL lets pages read while a run writes). A write waits at
most ``BUSY_SECONDS`` for another process's write lock; then the request gets
a 503 "try again" page (:class:`~digest.errors.BusyError`), never a page that
claims what was not stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..config import Settings
from ..deliver.transports import Transport
from ..errors import BusyError, StoreError
from ..history import open_history
from ..history.limits import take_hit
from ..locations import data_files, templates_dir
from ..render import pages
from ..tokens import Tokens
from .cadence import Cadence
from .feeds import FeedFiles, Representation
from .page_cache import HTML, CachedPage, PageCache, Prepared
from .security import CSRF_FIELD, Csrf, Limits

T = TypeVar("T")

BUSY_SECONDS = 3.0  # a reader waits this long for a run's write lock, then is told to retry
NO_STORE = "no-store"  # personal pages: a token in the URL, or what one reader typed
SHORT = "public, max-age=300"


@dataclass
class Site:
    settings: Settings
    base_url: str
    clock: Callable[[], datetime]
    tokens: Tokens
    csrf: Csrf
    limits: Limits
    transport_factory: Callable[[Settings], Transport]
    files: FeedFiles
    cadence: Cadence
    started: datetime
    pages: PageCache

    @property
    def title(self) -> str:
        return str(self.settings.site.title)

    def open_db(self) -> sqlite3.Connection:
        return open_history(data_files(self.settings).database, busy_seconds=BUSY_SECONDS)

    async def query(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(db)`` in a worker thread on a connection of its own.

        Raises BusyError when the database stays locked past ``BUSY_SECONDS``.
        """

        def in_thread() -> T:
            try:
                db = self.open_db()
                try:
                    return work(db)
                finally:
                    db.close()
            except (sqlite3.OperationalError, StoreError) as error:
                if not _is_busy(error):
                    raise
                raise BusyError(f"the database stayed locked for {BUSY_SECONDS:g} s") from error

        return await run_in_threadpool(in_thread)

    def rate_limit(self, db: sqlite3.Connection, scope: str, key: str) -> float:
        """Count one hit (``address``/``reminder``: a mailbox key, ``client``: an IP); seconds to
        wait or 0."""
        limit, window = {
            "address": (self.limits.subscribe_per_address, self.limits.address_window),
            "reminder": (self.limits.reminders_per_address, self.limits.address_window),
        }.get(scope, (self.limits.subscribe_per_client, self.limits.client_window))
        return take_hit(
            db, scope, key, limit=limit, window=timedelta(seconds=window), now=self.clock()
        )

    def render_html(self, template: str, context: Mapping[str, Any]) -> str:
        """``web/<template>`` with what every page gets; never anything per request."""
        _css, version = pages.stylesheet(templates_dir(self.settings))
        return pages.render(
            template,
            {
                "site_title": self.title,
                "base_url": self.base_url,
                "css_url": f"/static/site.css?v={version}",
                # Forms carry no token any more (web/security.py); overrides written for
                # earlier versions still name these, so they stay, empty.
                "csrf_field": CSRF_FIELD,
                "csrf_token": "",
                **context,
            },
            templates_dir=templates_dir(self.settings),
        )

    async def cached(
        self,
        request: Request,
        build: Callable[[], Awaitable[str | Response]],
        *,
        cache_control: str,
        form: bool = False,
    ) -> Response:
        """The kept page for this path, or ``build()``'s HTML, kept; a Response from ``build``
        (a 404) is answered as it is and not kept (:mod:`~digest.web.page_cache`)."""
        path = request.scope["path"]
        version = (
            self.pages.version_this_turn()
        )  # before rendering: a change during it is seen next time
        page = self.pages.lookup(path, version)
        if page is None:
            built = await build()
            if isinstance(built, Response):
                return built
            representation = Representation.of(built.encode(), self.started, HTML)
            page = CachedPage.of(representation, cache_control, form)
            self.pages.store(path, version, page)
        return Prepared(page, self.csrf)

    def page(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        cache: str = SHORT,
        form: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Render ``web/<template>`` for this request alone; a page with a form renews the
        browser's CSRF cookie when due. Pages the same for everyone go through
        :func:`~digest.web.page_cache.cached` instead."""
        html = self.render_html(template, context)
        response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
        response.headers["Cache-Control"] = NO_STORE if form else cache
        if form and self.csrf.needs_cookie(request):
            self.csrf.set_cookie(response)
        return response

    def message(
        self,
        request: Request,
        status: int,
        heading: str,
        text: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """A short page that says one thing: an error, or what just happened."""
        return self.page(
            request,
            "message.html.j2",
            {"heading": heading, "text": text, "status": status},
            status=status,
            cache=NO_STORE,
            headers=headers,
        )


def _is_busy(error: Exception) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def client_address(request: Request) -> str:
    """The client's address; behind a proxy, uvicorn's proxy_headers fill it from X-Forwarded-For."""
    return request.client.host if request.client else "unknown"
