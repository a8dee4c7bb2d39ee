"""The machine-readable side: the live feed, topic feeds, RFC 5005 archives, and the OPML list.

``feed.atom``, ``feed.json`` and ``topics/<slug>.atom`` / ``.json`` are the
files runs write into the data folder (with ``feed.xsl``, the stylesheet that
makes an Atom feed read as a page in a browser); they are served as they are (a reverse proxy may serve them straight
from disk instead, see ``deploy/``). Archive documents are rendered from
history on request. A quiet day is a valid feed with no new entries, never an
error; a feed that is missing altogether is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..locations import DataFiles, data_files, templates_dir, urls
from ..pipeline.archives import render_archive
from ..pipeline.reader_feeds import render_reader_feed
from ..render.feed import feed_as_page, feed_stylesheet
from ..render.pages import render
from .context import Site, site_of
from .feeds import (
    ATOM,
    GZIP_SUFFIX,
    JSON_FEED,
    OPML,
    XSL,
    Representation,
    accepts_gzip,
    conditional_response,
    validators_match,
)
from .security import security_heads

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # the slugs [[topics]] allows
ARCHIVE_CACHE = "public, max-age=86400"  # closed days; an entry may still be revised
OPML_CACHE = "public, max-age=3600"
STYLESHEET_CACHE = "public, max-age=86400"


def _feed_cache(site: Site) -> str:
    return f"public, max-age={site.cadence.max_age(site.clock())}"


Head = list[tuple[bytes, bytes]]  # an ASGI response's raw headers


class NotModifiedFastPath:
    """Answer a conditional GET of ``/feed.atom`` that is a 304 before anything else.

    Feed readers poll; nearly every poll is a 304. This middleware, the outermost,
    answers those with the headers :func:`live_feed` would give (the same validators,
    caching, CORS and security headers; ``tests/web/test_web_feeds.py`` compares
    them), prepared once per version of the feed, without the router, the other
    middleware and the endpoint wrapper. Anything else — a 200, another path, a
    missing feed — goes on through the app unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._feed: tuple[Site, Path] | None = None  # the app's site and its feed file
        self._validators: tuple[Representation, dict[bool, Head]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == "/feed.atom"
            and scope["method"] in ("GET", "HEAD")
        ):
            if_none_match = if_modified_since = accept_encoding = None
            for name, value in scope["headers"]:  # the first of each, as Request.headers
                if name == b"if-none-match" and if_none_match is None:
                    if_none_match = value.decode("latin-1")
                elif name == b"if-modified-since" and if_modified_since is None:
                    if_modified_since = value.decode("latin-1")
                elif name == b"accept-encoding" and accept_encoding is None:
                    accept_encoding = value.decode("latin-1")
            if if_none_match is not None or if_modified_since is not None:
                site, path = self._site_and_feed(scope)
                representation = site.files.get(path)
                if representation is not None and validators_match(
                    if_none_match, if_modified_since, representation
                ):
                    gzipped = representation.gzipped is not None and accepts_gzip(
                        accept_encoding or ""
                    )
                    head = [
                        *self._validator_heads(representation)[gzipped],
                        (b"cache-control", _feed_cache(site).encode()),
                        *security_heads(scope),
                    ]
                    await send({"type": "http.response.start", "status": 304, "headers": head})
                    await send({"type": "http.response.body", "body": b""})
                    return
        await self.app(scope, receive, send)

    def _site_and_feed(self, scope: Scope) -> tuple[Site, Path]:
        if self._feed is None or self._feed[0] is not scope["app"].state.site:
            site: Site = scope["app"].state.site
            self._feed = (site, data_files(site.settings).feed)
        return self._feed

    def _validator_heads(self, representation: Representation) -> dict[bool, Head]:
        """What :func:`conditional_response` sends beside Cache-Control, by gzip, as raw heads."""
        if self._validators is None or self._validators[0] is not representation:
            heads: dict[bool, Head] = {}
            for gzipped in (False, True):
                tag = representation.tag + (GZIP_SUFFIX if gzipped else "")
                heads[gzipped] = [
                    (b"etag", f'"{tag}"'.encode()),
                    (b"vary", b"Accept-Encoding, Sec-Fetch-Dest"),
                    (b"access-control-allow-origin", b"*"),
                    (b"access-control-expose-headers", b"ETag"),
                    (
                        b"last-modified",
                        format_datetime(representation.last_modified, usegmt=True).encode(),
                    ),
                ]
            self._validators = (representation, heads)
        return self._validators[1]


async def live_feed(request: Request) -> Response:
    return _live(request, lambda files: files.feed, ATOM)


def wants_page(request: Request) -> bool:
    """A browser opening the feed as a page (not a reader, not a fetch() from a web app)."""
    return request.headers.get(
        "sec-fetch-dest"
    ) == "document" and "text/html" in request.headers.get("accept", "")


# The transform takes ~0.1 s for a 500-entry feed; a feed changes once a run.
_page_of = lru_cache(maxsize=16)(feed_as_page)


def _as_page(request: Request, representation: Representation, cache_control: str) -> Response:
    page = Representation.of(
        _page_of(representation.body), representation.last_modified, "text/html; charset=utf-8"
    )
    response = conditional_response(request, page, cache_control=cache_control)
    response.headers["Vary"] = "Accept-Encoding, Sec-Fetch-Dest"
    return response


async def live_json_feed(request: Request) -> Response:
    return _live(request, lambda files: files.feed_json, JSON_FEED)


def _live(request: Request, which: Callable[[DataFiles], Path], media_type: str) -> Response:
    site = site_of(request)
    representation = site.files.get(which(data_files(site.settings)), media_type)
    if representation is None:
        return site.message(
            request, 503, "The feed is not written yet", "It appears after the first run.",
            headers={"Retry-After": "300"},
        )  # fmt: skip
    if media_type == ATOM and wants_page(request):
        return _as_page(request, representation, _feed_cache(site))
    return conditional_response(request, representation, cache_control=_feed_cache(site))


async def topic_feed(request: Request) -> Response:
    return _topic(request, ATOM)


async def topic_json_feed(request: Request) -> Response:
    return _topic(request, JSON_FEED)


async def stylesheet(request: Request) -> Response:
    """The XSLT the Atom feeds name in ``<?xml-stylesheet?>`` (runs also write it beside them)."""
    site = site_of(request)
    representation = Representation.of(feed_stylesheet(), site.started, XSL)
    return conditional_response(request, representation, cache_control=STYLESHEET_CACHE)


READER_CACHE = "private, max-age=300"


async def reader_feed(request: Request) -> Response:
    """A reader's private feed (Atom or JSON Feed); a forged or revoked token is a 404."""
    site = site_of(request)
    token, kind = str(request.path_params["token"]), str(request.path_params["kind"])
    now = site.clock()
    found = (
        await site.query(
            lambda db: render_reader_feed(site.settings, db, site.tokens, token, kind=kind, now=now)
        )
        if kind in ("atom", "json")
        else None
    )
    if found is None:
        return site.message(
            request, 404, "No such feed", "This feed address is not (or no longer) valid."
        )
    media_type = ATOM if kind == "atom" else JSON_FEED
    representation = Representation.of(
        found.body, max(found.last_modified, site.started), media_type
    )
    if kind == "atom" and wants_page(request):
        response = _as_page(request, representation, READER_CACHE)
    else:
        response = conditional_response(request, representation, cache_control=READER_CACHE)
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _topic(request: Request, media_type: str) -> Response:
    site = site_of(request)
    files = data_files(site.settings)
    slug = str(request.path_params["slug"])
    representation = (
        site.files.get(
            (files.topic_json_feed if media_type == JSON_FEED else files.topic_feed)(slug),
            media_type,
        )
        if _SLUG.fullmatch(slug)
        else None
    )
    if representation is None:
        return site.message(request, 404, "No such feed", "This digest has no feed by that name.")
    if media_type == ATOM and wants_page(request):
        return _as_page(request, representation, _feed_cache(site))
    return conditional_response(request, representation, cache_control=_feed_cache(site))


async def archive_feed(request: Request) -> Response:
    site = site_of(request)
    day = str(request.path_params["day"])
    today = site.clock().astimezone(UTC).date()
    body = await site.query(lambda db: render_archive(site.settings, db, day, today=today))
    if body is None:
        return site.message(
            request, 404, "No such archive", "Archives exist for past days on which papers arrived."
        )
    # Last-Modified: the end of that day is as good as any, and stable.
    representation = Representation.of(body, _end_of(day), ATOM)
    return conditional_response(request, representation, cache_control=ARCHIVE_CACHE)


def _end_of(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1)


# /feeds.opml lists the Atom feeds, /feeds.opml?format=json the same feeds as JSON Feed;
# each links to the other (docs/standards.md §7).
_OPML_FORMATS = {
    "atom": ("ATOM", "The same feeds as JSON Feed", "json"),
    "json": ("JSONFEED", "The same feeds as Atom", "atom"),
}


async def opml(request: Request) -> Response:
    site = site_of(request)
    chosen = request.query_params.get("format", "atom")
    if chosen not in _OPML_FORMATS:
        return site.message(request, 400, "No such list", "The lists are ?format=atom and json.")
    version, other_text, other = _OPML_FORMATS[chosen]
    where = urls(site.settings)
    main = where.feed_json if chosen == "json" else where.feed
    feeds = [(f"{site.title}: all papers", main), *topic_feeds(site, json=chosen == "json")]
    context = {
        "title": site.title,
        "site_url": f"{site.base_url}/",
        "feeds": feeds,
        "version": version,
        "other_text": other_text,
        "other_url": where.opml if other == "atom" else f"{where.opml}?format=json",
    }
    body = render("feeds.opml.j2", context, templates_dir=templates_dir(site.settings)).encode()
    representation = Representation.of(body, _opml_changed(site), OPML)
    return conditional_response(request, representation, cache_control=OPML_CACHE)


def _opml_changed(site: Site) -> datetime:
    """The list changes with the settings (read at start) and with the files in topics/."""
    try:
        folder = data_files(site.settings).topics.stat().st_mtime
    except OSError:
        return site.started
    return max(site.started, datetime.fromtimestamp(folder, UTC))


def topic_feeds(site: Site, *, json: bool = False) -> list[tuple[str, str]]:
    """(title, URL) of every topic feed file there is, titled from ``[[topics]]`` when configured.

    The Atom files say which topics have feeds; ``json`` gives each one's JSON Feed twin.
    """
    folder = data_files(site.settings).topics
    titles = {topic.slug: topic.title for topic in site.settings.topics}
    slugs = sorted(path.stem for path in folder.glob("*.atom") if _SLUG.fullmatch(path.stem))
    where = urls(site.settings)
    url = where.topic_json_feed if json else where.topic_feed
    return [(f"{site.title}: {titles.get(slug, slug)}", url(slug)) for slug in slugs]
