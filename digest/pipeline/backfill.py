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
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .. import history
from ..config import Settings, SourceConfig
from ..model import SourceReport
from .locks import exclusive
from .run import ingest
from .runtime import open_runtime

Progress = Callable[[int, int, "Fetch", SourceReport], None]  # (done, total, fetch, outcome)


@dataclass(frozen=True)
class Fetch:
    """One fetch of a backfill: a source for one day (``day``) or as it is (``day`` None)."""

    source: SourceConfig
    day: date | None = None

    @property
    def label(self) -> str:
        return self.day.isoformat() if self.day else self.source.label


@dataclass(frozen=True)
class BackfillResult:
    found: int
    recorded: int
    errors: tuple[str, ...]
    outcomes: tuple[tuple[Fetch, SourceReport], ...] = ()
    stopped: str | None = None  # why it stopped early (the first connection failure)
    skipped: int = 0  # fetches not tried after stopping

    def as_json(self) -> dict[str, object]:
        return {
            "found": self.found,
            "recorded": self.recorded,
            "fetches": [
                {
                    "source": report.source,
                    "name": report.name,
                    "day": fetch.day.isoformat() if fetch.day else None,
                    "status": report.status,
                    "found": report.found,
                    "novel": report.novel,
                    "error": report.error,
                }
                for fetch, report in self.outcomes
            ],
            "errors": list(self.errors),
            "stopped": self.stopped,
            "not_tried": self.skipped,
        }


def expand(source: SourceConfig, since: date, today: date) -> list[Fetch]:
    """The fetches that cover ``since`` … ``today`` for one source."""
    parts = urlsplit(source.url)
    if parts.path.rstrip("/").endswith("/api/daily_papers"):
        query = dict(parse_qsl(parts.query))
        days = [since + timedelta(days=n) for n in range((today - since).days + 1)]
        return [
            Fetch(
                replace(
                    source,
                    url=urlunsplit(
                        parts._replace(query=urlencode({**query, "date": day.isoformat()}))
                    ),
                ),
                day,
            )
            for day in days
        ]
    listing = re.fullmatch(r"(/list/[^/]+)/new/?", parts.path)
    if listing:
        recent = urlunsplit(parts._replace(path=f"{listing.group(1)}/recent", query="show=2000"))
        return [Fetch(replace(source, url=recent))]
    return [Fetch(source)]


def backfill(
    settings: Settings,
    since: date,
    *,
    progress: Progress | None = None,
    today: date | None = None,
) -> BackfillResult:
    """Record every fetch as seen; stop at the first host that cannot be reached at all.

    An unreachable host (DNS failure, connection refused) will not answer for
    the next day either, and each try waits out its retries: stopping at once
    says what is wrong in seconds instead of after a minute of retries.
    """
    with open_runtime(settings) as runtime, exclusive(runtime.db, "run", runtime.clock):
        today = today or runtime.clock().date()
        plan = [item for source in settings.sources for item in expand(source, since, today)]
        run_id = history.start_run(runtime.db, runtime.clock())
        outcomes: list[tuple[Fetch, SourceReport]] = []
        stopped = None
        for position, item in enumerate(plan):
            report = ingest(settings, runtime, run_id, position, item.source, mark_seen=True)
            outcomes.append((item, report))
            if progress is not None:
                progress(position + 1, len(plan), item, report)
            if report.unreachable:
                stopped = report.error
                break
        reports = [report for _, report in outcomes]
        errors = tuple(f"{r.source}: {r.error}" for r in reports if r.status == "failed")
        history.finish_run(
            runtime.db, run_id, now=runtime.clock(), ok=not errors,
            novel=0, digest_id=None, report={"backfill": True, "sources": [r.__dict__ for r in reports]},
        )  # fmt: skip
    return BackfillResult(
        found=sum(r.found for r in reports),
        recorded=sum(r.novel for r in reports),
        errors=errors,
        outcomes=tuple(outcomes),
        stopped=stopped,
        skipped=len(plan) - len(outcomes),
    )
