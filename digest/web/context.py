"""What every request handler shares: settings, clock, signer, limits, and how to answer with a page.

One :class:`Site` is built per app by :func:`~digest.web.app.create_app` and
kept on ``app.state``; handlers reach it with :func:`site_of`. The database is
opened per request in a worker thread (SQLite connections stay in the thread
that made them; WAL lets pages read while a run writes).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..config import Settings
from ..deliver.transports import Transport
from ..history import open_history
from ..locations import data_files, templates_dir
from ..render import pages
from ..tokens import Tokens
from .cadence import Cadence
from .feeds import FeedFiles, Representation, conditional_response
from .security import CSRF_FIELD, Csrf, Limits, RateLimiter

T = TypeVar("T")

NO_STORE = "no-store"  # pages with a form or a token in the URL
SHORT = "public, max-age=300"
HTML = "text/html; charset=utf-8"


@dataclass
class Site:
    settings: Settings
    base_url: str
    clock: Callable[[], datetime]
    tokens: Tokens
    csrf: Csrf
    limits: Limits
    by_address: RateLimiter
    by_client: RateLimiter
    reminders: RateLimiter  # per reader address: signing up again mails the manage link once
    transport_factory: Callable[[Settings], Transport]
    files: FeedFiles
    cadence: Cadence
    started: datetime

    @property
    def title(self) -> str:
        return str(self.settings.site.title)

    def open_db(self) -> sqlite3.Connection:
        return open_history(data_files(self.settings).database)

    async def query(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(db)`` in a worker thread on a connection of its own."""

        def in_thread() -> T:
            db = self.open_db()
            try:
                return work(db)
            finally:
                db.close()

        return await run_in_threadpool(in_thread)

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
        conditional: bool = False,
    ) -> Response:
        """Render ``web/<template>``; a page with a form gets a CSRF token (and cookie).

        ``conditional``: a public page the same for everyone (a day's digest, the
        archive) gets a strong ETag, 304 and gzip like the feeds; a day page is
        hundreds of kilobytes.
        """
        nonce, fresh = self.csrf.nonce(request) if form else ("", False)
        _css, version = pages.stylesheet(templates_dir(self.settings))
        html = pages.render(
            template,
            {
                "site_title": self.title,
                "base_url": self.base_url,
                "css_url": f"/static/site.css?v={version}",
                "csrf_field": CSRF_FIELD,
                "csrf_token": self.csrf.token(nonce) if form else "",
                **context,
            },
            templates_dir=templates_dir(self.settings),
        )
        if conditional and not form and status == 200:
            representation = Representation.of(html.encode(), self.started, HTML)
            return conditional_response(
                request, representation, cache_control=cache, last_modified=False,
                headers=dict(headers or {}),
            )  # fmt: skip
        response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
        response.headers["Cache-Control"] = NO_STORE if form else cache
        if fresh:
            self.csrf.set_cookie(response, nonce)
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


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def client_address(request: Request) -> str:
    """The client's address; behind a proxy, uvicorn's proxy_headers fill it from X-Forwarded-For."""
    return request.client.host if request.client else "unknown"
