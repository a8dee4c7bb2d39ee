"""The pages people read: the home page, each digest as a page, the archive, and the health check.

A day's page and the home page rank the day's papers as a reader without
topics got them in the mail (:func:`digest.pipeline.compose.reader_list`).
The home page, the day pages and the archive are the same for everyone: they
are rendered once per change of what they show (:mod:`digest.web.page_cache`).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..errors import StoreError
from ..history.digests import digest_created
from ..history.public import (
    DigestDay,
    digest_days,
    last_digest_on,
    last_finished_run,
    papers_digested_on,
)
from ..locations import templates_dir, urls
from ..pipeline.compose import ReaderList, reader_list
from ..render.pages import icon, stylesheet
from ..topics import source_name
from .context import NO_STORE, SHORT, Site, site_of
from .published import topic_feeds
from .views import long_day, paper_views, short_day

log = logging.getLogger(__name__)

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOME_PAPERS = 10  # the home page shows the start of the latest digest; the rest is a click away
HOME_CACHE = "no-cache"  # kept, but asked again each time (a 304): a new digest shows at once


def _ranked_day(site: Site, db: sqlite3.Connection, day: str) -> ReaderList | None:
    """A day's papers ranked as a reader with no topics got them (None: no digest that day)."""
    papers = papers_digested_on(db, day)
    last = last_digest_on(db, day)
    if papers is None or last is None:
        return None
    return reader_list(site.settings, db, papers, (), digest_created(db, last))


@dataclass(frozen=True)
class _Day:
    day: str
    label: str
    papers: int


async def home(request: Request) -> Response:
    """The same bytes for everyone (no CSRF token in them), so cached, with an ETag."""
    site = site_of(request)
    return await site.cached(request, lambda: _home_html(site), cache_control=HOME_CACHE, form=True)


async def _home_html(site: Site) -> str:
    latest = await site.query(lambda db: _latest(site, db))
    context: dict[str, Any] = {
        "intro": _intro(site),
        "sources": sorted({source_name(source.label) for source in site.settings.sources}),
        "schedule": _schedule_line(site),
        "latest": None,
        "feeds": _feed_links(site),
        **subscribe_form_context(site),
    }
    if latest is not None:
        day, found = latest
        context["latest"] = {
            "day": day,
            "label": long_day(date.fromisoformat(day)),
            "count": len(found.papers),
            "papers": paper_views(found.papers[:HOME_PAPERS], found.reasons),
            "more": max(0, len(found.papers) - HOME_PAPERS),
        }
    return site.render_html("home.html.j2", context)


def _latest(site: Site, db: sqlite3.Connection) -> tuple[str, ReaderList] | None:
    days = digest_days(db, limit=1)
    if not days:
        return None
    found = _ranked_day(site, db, days[0].day)
    return None if found is None else (days[0].day, found)


def subscribe_form_context(site: Site, **values: Any) -> dict[str, Any]:
    """What the sign-up form needs: the topics to offer, and what the reader typed so far."""
    return {
        "topics": [{"slug": topic.slug, "title": topic.title} for topic in site.settings.topics],
        "weekdays": list(enumerate(WEEKDAY_NAMES)),
        "form": {"email": "", "topics": [], "frequency": "daily", "weekday": 0, **values},
        "error": values.get("error", ""),
    }


def _intro(site: Site) -> str:
    return (
        f"{site.title} collects new research papers from the listings it follows, checks them "
        "against everything it has seen before, and announces each paper once: in an Atom feed "
        "for your feed reader, and in a newsletter by email."
    )


def _schedule_line(site: Site) -> str:
    times = list(site.settings.schedule.times)
    zone = site.settings.schedule.timezone or "server time"
    if all(":" in item and " " not in item for item in times):
        listed = " and ".join(sorted(times))
        return f"A new digest is put together every day at {listed} ({zone})."
    return f"A new digest is put together on a fixed schedule ({zone})."


def _feed_links(site: Site) -> list[dict[str, str]]:
    feeds = [{"title": f"All papers \u2014 {site.title}", "url": urls(site.settings).feed}]
    feeds += [{"title": title, "url": url} for title, url in topic_feeds(site)]
    return feeds


async def digest_page(request: Request) -> Response:
    site = site_of(request)
    day = str(request.path_params["day"])
    try:
        moment = date.fromisoformat(day)
    except ValueError:
        return site.message(request, 404, "No such digest", "That is not a date we know.")
    return await site.cached(
        request, lambda: _digest_html(site, request, day, moment), cache_control=SHORT
    )


async def _digest_html(site: Site, request: Request, day: str, moment: date) -> str | Response:
    found, days = await site.query(lambda db: (_ranked_day(site, db, day), digest_days(db)))
    if found is None:
        return site.message(
            request, 404, "No digest that day", f"No digest went out on {long_day(moment)}."
        )
    newer, older = _neighbours(days, day)
    context = {
        "day": day,
        "label": long_day(moment),
        "papers": paper_views(found.papers, found.reasons),
        "count": len(found.papers),
        "newer": newer,
        "older": older,
    }
    return site.render_html("digest.html.j2", context)


def _neighbours(days: list[DigestDay], day: str) -> tuple[_Day | None, _Day | None]:
    listed = [entry.day for entry in days]
    if day not in listed:
        return None, None
    index = listed.index(day)
    newer = days[index - 1] if index > 0 else None
    older = days[index + 1] if index + 1 < len(days) else None
    return (_as_day(newer) if newer else None), (_as_day(older) if older else None)


def _as_day(entry: DigestDay) -> _Day:
    return _Day(entry.day, short_day(date.fromisoformat(entry.day)), entry.papers)


async def to_archive(request: Request) -> Response:
    """``/digests`` → ``/digests/`` at the public address (base_url), never the Host header."""
    return RedirectResponse(urls(site_of(request).settings).digests, status_code=308)


async def archive_page(request: Request) -> Response:
    site = site_of(request)
    return await site.cached(request, lambda: _archive_html(site), cache_control=SHORT)


async def _archive_html(site: Site) -> str:
    days = await site.query(digest_days)
    months = [
        {"label": _month_label(month), "days": [_as_day(entry) for entry in entries]}
        for month, entries in groupby(days, key=lambda entry: entry.day[:7])
    ]
    return site.render_html("archive.html.j2", {"months": months, "total": len(days)})


def _month_label(month: str) -> str:
    first = date.fromisoformat(f"{month}-01")
    return long_day(first).split(" ", 2)[2]  # "March 2025"


async def stylesheet_file(request: Request) -> Response:
    css, version = stylesheet(templates_dir(site_of(request).settings))
    cache = (
        "public, max-age=31536000, immutable"
        if request.query_params.get("v") == version
        else "public, max-age=300"
    )
    return Response(css, media_type="text/css; charset=utf-8", headers={"Cache-Control": cache})


async def favicon(request: Request) -> Response:
    return Response(
        icon(templates_dir(site_of(request).settings)),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def healthz(request: Request) -> Response:
    """200 when the database opens and the last finished run is recent enough, else 503 and why."""
    site = site_of(request)
    headers = {"Cache-Control": NO_STORE}
    try:
        finished = await site.query(last_finished_run)
    except StoreError as error:
        log.error("healthz: %s", error)
        return JSONResponse(
            {"status": "unavailable", "reason": "the history database cannot be opened"},
            status_code=503,
            headers=headers,
        )
    if finished is None:
        reason = "no run has finished yet (run `digest run` once)"
        return JSONResponse({"status": "unavailable", "reason": reason}, 503, headers)
    now = site.clock()
    age = now - finished.finished
    allowed = site.cadence.allowed_age(now)
    body = {
        "last_run": {
            "id": finished.id,
            "finished": finished.finished.isoformat(),
            "status": finished.status,
            "age_seconds": int(age.total_seconds()),
        },
        "allowed_age_seconds": int(allowed.total_seconds()),
    }
    if age > allowed:
        hours = age.total_seconds() / 3600
        body["status"] = "unavailable"
        body["reason"] = (
            f"the last run finished {hours:.1f} h ago; the schedule allows "
            f"{allowed.total_seconds() / 3600:.1f} h"
        )
        return JSONResponse(body, 503, headers)
    body["status"] = "ok"
    return JSONResponse(body, 200, headers)
