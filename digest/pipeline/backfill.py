"""Backfill: record past days of each source as seen, without mailing anyone.

A new deployment runs this once so its first digest holds only what is new
from then on. Hugging Face Daily Papers is read one day at a time; an arXiv
``/new`` listing is read through ``/recent`` (the last five announcement days,
all it keeps); any other source is read as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .. import history
from ..config import Settings, SourceConfig
from .locks import exclusive
from .run import ingest
from .runtime import open_runtime

Progress = Callable[[list[tuple[str, date | None]]], Any]


@dataclass(frozen=True)
class BackfillResult:
    found: int
    recorded: int
    errors: tuple[str, ...]


def expand(source: SourceConfig, since: date, today: date) -> list[SourceConfig]:
    """The fetches that cover ``since`` … ``today`` for one source."""
    parts = urlsplit(source.url)
    if parts.path.rstrip("/").endswith("/api/daily_papers"):
        query = dict(parse_qsl(parts.query))
        days = [since + timedelta(days=n) for n in range((today - since).days + 1)]
        return [
            replace(
                source,
                url=urlunsplit(parts._replace(query=urlencode({**query, "date": day.isoformat()}))),
            )
            for day in days
        ]
    listing = re.fullmatch(r"(/list/[^/]+)/new/?", parts.path)
    if listing:
        recent = urlunsplit(parts._replace(path=f"{listing.group(1)}/recent", query="show=2000"))
        return [replace(source, url=recent)]
    return [source]


def backfill(
    settings: Settings, since: date, *, progress: Progress, today: date | None = None
) -> BackfillResult:
    with open_runtime(settings) as runtime, exclusive(runtime.db, "run", runtime.clock):
        today = today or runtime.clock().date()
        plan = [item for source in settings.sources for item in expand(source, since, today)]
        run_id = history.start_run(runtime.db, runtime.clock())
        reports = []
        with progress([(item.url, None) for item in plan]) as bar:
            for position, _ in enumerate(bar):
                item = plan[position]
                reports.append(ingest(settings, runtime, run_id, position, item, mark_seen=True))
        errors = tuple(f"{r.source}: {r.error}" for r in reports if r.status == "failed")
        history.finish_run(
            runtime.db, run_id, now=runtime.clock(), ok=not errors,
            novel=0, digest_id=None, report={"backfill": True, "sources": [r.__dict__ for r in reports]},
        )  # fmt: skip
    return BackfillResult(
        found=sum(r.found for r in reports), recorded=sum(r.novel for r in reports), errors=errors
    )
