"""``create_app``: the Starlette app behind ``digest serve`` (feeds, pages, sign-up, unsubscribe).

A factory, as in the flask tutorial: each call builds a fresh app from
settings, with its clock, mail transport and rate limits injected, so each
test gets its own app on its own data folder. URLs in pages, feeds and mail
come from ``[site] base_url`` (the public address behind the proxy), never
from the request's Host header.

``on_startup`` / ``on_shutdown`` hooks run in the app's lifespan: the place
where ``digest serve`` starts work beside the web app (the scheduler).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..clock import utc_now
from ..config import Settings
from ..deliver.transports import Transport, open_transport
from ..errors import BusyError
from ..history.public import DataWatch
from ..locations import data_files, templates_dir, urls
from ..pipeline.run import publish_feed
from ..sources.fetch import open_client
from ..tokens import Tokens, load_secret
from . import pages, published, reader, subscribe
from .cadence import Cadence, FireTimes
from .context import Site, site_of
from .feeds import FeedFiles, preflight
from .page_cache import CachedPages, PageCache, watched_files
from .security import (
    BodyLimit,
    Csrf,
    Limits,
    SecurityHeaders,
    security_headers,
)

log = logging.getLogger(__name__)

RETRY_AFTER = 10  # seconds, in the 503 a busy database answers

Hook = Callable[[], object]  # an on_startup / on_shutdown function

ROUTES = [
    Route("/", pages.home),
    Route("/digests", pages.to_archive),
    Route("/digests/", pages.archive_page),
    Route("/digests/{day}", pages.digest_page),
    Route("/feed.atom", published.live_feed),
    Route("/feed.json", published.live_json_feed),
    Route("/feed.xsl", published.stylesheet),
    Route("/topics/{slug}.atom", published.topic_feed),
    Route("/topics/{slug}.json", published.topic_json_feed),
    Route("/archive/{day}.atom", published.archive_feed),
    Route("/readers/{token}/feed.{kind:str}", published.reader_feed),
    Route("/feeds.opml", published.opml),
    *(
        Route(path, preflight, methods=["OPTIONS"])
        for path in (
            "/feed.atom",
            "/feed.json",
            "/topics/{slug}.atom",
            "/topics/{slug}.json",
            "/archive/{day}.atom",
            "/feeds.opml",
            "/readers/{token}/feed.{kind:str}",
        )
    ),
    Route("/healthz", pages.healthz),
    Route("/static/site.css", pages.stylesheet_file),
    Route("/static/favicon.svg", pages.favicon),
    Route("/subscribe", subscribe.subscribe_page, methods=["GET"]),
    Route("/subscribe", subscribe.subscribe, methods=["POST"]),
    Route("/confirm/{token}", subscribe.confirm_page, methods=["GET"]),
    Route("/confirm/{token}", subscribe.confirm, methods=["POST"]),
    Route("/unsubscribe/{token}", subscribe.unsubscribe_page, methods=["GET"]),
    Route("/unsubscribe/{token}", subscribe.unsubscribe, methods=["POST"]),
    Route("/preferences/{token}", subscribe.preferences_page, methods=["GET"]),
    Route("/preferences/{token}", subscribe.save_preferences, methods=["POST"]),
    Route("/read/{token}", reader.reader_copy_page, methods=["GET"]),
]


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    transport_factory: Callable[[Settings], Transport] = open_transport,
    limits: Limits | None = None,
    fire_times: FireTimes | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
) -> Starlette:
    """The web app for ``settings``; ``clock`` returns aware UTC datetimes."""
    limits = limits or Limits()
    url = urls(settings).base
    tokens = Tokens(load_secret(settings.site.secret, data_files(settings).secret_key),
                    clock=lambda: clock().timestamp())  # fmt: skip
    site = Site(
        settings=settings,
        base_url=url,
        clock=clock,
        tokens=tokens,
        csrf=Csrf(
            tokens,
            secure=url.startswith("https:"),
            origin=_origin(url),
            clock=lambda: clock().timestamp(),
        ),
        limits=limits,
        transport_factory=transport_factory,
        files=FeedFiles(),
        cadence=Cadence(settings, fire_times),
        started=clock().replace(microsecond=0),
        pages=PageCache(
            DataWatch(data_files(settings).database),
            watched_files(data_files(settings).topics, templates_dir(settings)),
        ),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(_ensure_feed, site)
        for hook in on_startup:
            await run_in_threadpool(hook)
        yield
        for hook in on_shutdown:
            await run_in_threadpool(hook)
        site.pages.close()

    app = Starlette(
        routes=ROUTES,
        middleware=[
            # Outermost: a feed reader's 304 and a kept page are GETs with no body, and
            # their answers carry the security headers themselves, so the layers below
            # would only cost time.
            Middleware(published.NotModifiedFastPath),
            Middleware(CachedPages),
            Middleware(SecurityHeaders),
            Middleware(BodyLimit, limit=limits.body_bytes),
        ],
        exception_handlers={
            HTTPException: _http_error,
            BusyError: _busy,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    # Starlette's own slash redirect builds its Location from the Host header;
    # ours (see pages.to_archive) uses base_url.
    app.router.redirect_slashes = False
    app.state.site = site
    return app


def _origin(url: str) -> str:
    """``https://host[:port]`` of ``base_url``: what a browser sends as ``Origin`` from our pages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _ensure_feed(site: Site) -> None:
    """A fresh install serves a valid (empty) feed before its first run, not a 503."""
    if data_files(site.settings).feed.exists():
        return
    db = site.open_db()
    try:
        with open_client(10.0) as client:
            publish_feed(site.settings, db, site.clock(), client=client)
    finally:
        db.close()


def allowed_methods(path: str) -> str:
    """Every method some route of ``path`` takes, for the 405's ``Allow``."""
    methods: set[str] = set()
    for route in ROUTES:
        if route.path_regex.match(path) and route.methods:
            methods |= route.methods
    return ", ".join(sorted(methods))


_REASONS = {
    404: ("Not found", "There is nothing at this address."),
    405: ("Not allowed", "This address does not take that kind of request."),
    413: ("Too large", "This request is larger than any form of ours sends."),
}


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    heading, text = _REASONS.get(error.status_code, ("Something is not right", str(error.detail)))
    extra = dict(error.headers or {})
    if error.status_code == 405:
        # Starlette names only the first route that matched the path; a path
        # with a GET route and a POST route accepts both (RFC 9110 §15.5.6).
        extra["Allow"] = allowed_methods(request.url.path)
    return site_of(request).message(request, error.status_code, heading, text, headers=extra)


async def _busy(request: Request, error: Exception) -> Response:
    """A write that could not get the database in time: say so, never pretend it happened."""
    log.warning("%s %s: database busy, answered 503", request.method, request.url.path)
    return site_of(request).message(
        request,
        503,
        "Busy for a moment",
        "Nothing was changed: the site is busy right now (a digest is being sent). "
        f"Please try again in {RETRY_AFTER} seconds.",
        headers={"Retry-After": str(RETRY_AFTER)},
    )


async def _server_error(request: Request, error: Exception) -> Response:
    """The client only learns that it failed; uvicorn logs the traceback for the operator."""
    log.error("%s %s failed: %s", request.method, request.url.path, type(error).__name__)
    site = site_of(request)
    # This answer leaves through the outermost middleware, past SecurityHeaders.
    headers = security_headers(hsts=request.url.scheme == "https")
    return site.message(
        request,
        500,
        "Something went wrong",
        "Please try again later. The error has been logged.",
        headers=headers,
    )
