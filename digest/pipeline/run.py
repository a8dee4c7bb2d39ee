"""One run, top to bottom: sources → history → feed → digest → outbox → delivery.

Every stage takes plain data and its I/O is injected (the database, the HTTP
fetcher, the mail transport, the clock), so the same ``run`` serves the CLI,
the scheduler and the end-to-end tests. A source that fails is recorded and
the run goes on; the run is ``ok`` only when every source and delivery is.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from .. import __version__, history
from ..config import Settings, SourceConfig
from ..deliver.files import write_atomically
from ..deliver.websub import ping_hub
from ..errors import DigestError, FetchError, SourceError
from ..locations import data_files
from ..model import Digest, FollowUp, SourceReport, SourceStatus, StoredPaper
from ..render.feed import FeedMeta, feed_stylesheet, render_feed
from ..render.jsonfeed import render_json_feed
from ..sources.detect import kind_from_url
from ..sources.read import SourceRead, read_source
from . import follow_ups
from .alerts import send_alerts
from .archives import archive_url, live_prev_archive
from .channels import ChannelReport, channel_updates_due, drain_channels, queue_channels
from .drain import DrainReport, drain
from .newsletter import Newsletter
from .runtime import Runtime
from .selection import check_topics, feed_reasons, publish_topic_feeds
from .site import feed_meta, tag_authority
from .staleness import ARXIV_KINDS, batch_key, stale_reason
from .stopping import Interrupted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What ``digest run --json`` prints."""

    run_id: int
    started: datetime
    finished: datetime
    novel: int
    feed: Path
    emails: int
    sources: tuple[SourceReport, ...]
    digest_id: int | None = None
    delivery: DrainReport = field(default_factory=DrainReport)
    channels: ChannelReport = field(default_factory=ChannelReport)
    checks: tuple[SourceReport, ...] = ()  # the follow-up checks: never fail the run
    updates_found: int = 0
    updates_delivered: int = 0

    @property
    def ok(self) -> bool:
        return (
            all(s.status != "failed" for s in self.sources)
            and self.delivery.ok
            and self.channels.total.ok
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "novel": self.novel,
            "feed": str(self.feed),
            "emails": self.emails,
            "digest_id": self.digest_id,
            "sources": [_report_json(s) for s in self.sources],
            "follow_ups": {
                "found": self.updates_found,
                "delivered": self.updates_delivered,
                "posted": self.channels.updates,
                "checks": [_report_json(s) for s in self.checks],
            },
            "deliveries": self.delivery.as_json(),
            "channels": {
                name: report.as_json() for name, report in self.channels.by_channel.items()
            },
        }


def _report_json(report: SourceReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "name": report.name,
        "kind": report.kind,
        "status": report.status,
        "found": report.found,
        "novel": report.novel,
        "error": report.error,
        "reason": report.reason,
    }


def run(settings: Settings, runtime: Runtime, *, mark_seen: bool = False) -> RunResult:
    """Fetch every source, diff against history, publish the feed, mail the digest.

    However the run ends, its row says so: ``ok`` or ``failed`` when it got to
    the end; ``failed`` with the error when one escaped (then re-raised);
    ``interrupted`` when asked to stop (:class:`Interrupted` re-raised), with
    the sources and messages it had done by then.
    """
    db, clock = runtime.db, runtime.clock
    started = clock()
    check_topics(settings, db)  # a bad query fails the run before anything is fetched
    run_id = history.start_run(db, started)
    log.info("run %d: %d source(s)", run_id, len(settings.sources))
    done = _Progress(feed=data_files(settings).feed)
    try:
        _stages(settings, runtime, run_id, done, mark_seen)
    except (Interrupted, KeyboardInterrupt) as stop:
        why = str(stop) if isinstance(stop, Interrupted) else "stopped by SIGINT"
        _end_early(runtime, done.result(run_id, started, clock()), "interrupted", why)
        raise
    except Exception as error:
        _end_early(runtime, done.result(run_id, started, clock()), "failed", _reason(error))
        raise
    result = done.result(run_id, started, clock())
    history.finish_run(
        db, run_id, now=result.finished, ok=result.ok, novel=result.novel,
        digest_id=result.digest_id, report=result.as_json(),
    )  # fmt: skip
    _log_summary(result, done.digest)
    return result


@dataclass
class _Progress:
    """What a run has done so far: all of it at the end, or as much as it got to."""

    feed: Path
    reports: list[SourceReport] = field(default_factory=list)
    digest: Digest | None = None
    emails: int = 0
    delivery: DrainReport = field(default_factory=DrainReport)
    channels: ChannelReport = field(default_factory=ChannelReport)
    checks: tuple[SourceReport, ...] = ()
    updates_found: int = 0
    updates_delivered: int = 0

    def result(self, run_id: int, started: datetime, finished: datetime) -> RunResult:
        novel = sum(report.novel for report in self.reports)
        return RunResult(
            run_id, started, finished, novel, self.feed, self.emails, tuple(self.reports),
            self.digest.id if self.digest else None, self.delivery, self.channels,
            self.checks, self.updates_found, self.updates_delivered,
        )  # fmt: skip


def _stages(
    settings: Settings, runtime: Runtime, run_id: int, done: _Progress, mark_seen: bool
) -> None:
    db, clock, stop = runtime.db, runtime.clock, runtime.stop
    for position, source in enumerate(settings.sources):
        stop.check()
        done.reports.append(ingest(settings, runtime, run_id, position, source, mark_seen))
    stop.check()
    done.checks = tuple(follow_ups.check(settings, runtime, run_id, len(done.reports)))
    done.feed = publish_feed(settings, db, clock(), client=runtime.fetcher.client)
    newsletter = Newsletter(settings, db)
    done.digest = history.create_digest(db, run_id=run_id, now=clock(), day=_day(clock()))
    if (
        done.digest is None
        and settings.follow_ups.send_alone
        and _updates_due(settings, db, clock())
    ):
        # Nothing new, but updates are waiting and the operator wants them sent alone.
        done.digest = history.create_digest(
            db, run_id=run_id, now=clock(), day=_day(clock()), allow_empty=True
        )
    done.emails = newsletter.queue(done.digest, clock())
    queue_channels(settings, db, clock())
    send_alerts(settings, runtime, tuple(done.reports))  # before the drain, which closes it
    stop.check()
    with stop.deferred():  # a signal now lets the message or post in flight finish and be recorded
        done.delivery = deliver(newsletter, runtime)
        done.channels = post_to_channels(settings, runtime)
    done.updates_found = history.follow_ups_found(db, run_id)
    done.updates_delivered = history.follow_ups_delivered(db, newsletter.carried)
    stop.check()


def _updates_due(settings: Settings, db: sqlite3.Connection, now: datetime) -> bool:
    """Whether a reader or a channel has follow-ups waiting for their next mail or post."""
    return history.follow_ups_due(db) or channel_updates_due(settings, db, now)


def _end_early(runtime: Runtime, result: RunResult, status: str, reason: str) -> None:
    """Record a run that did not get to the end; a history that cannot be written is logged."""
    report = {**result.as_json(), "status": status, "reason": reason}
    try:
        history.finish_run(
            runtime.db, result.run_id, now=result.finished, ok=False, novel=result.novel,
            digest_id=result.digest_id, report=report, status=status, reason=reason,
        )  # fmt: skip
    except (sqlite3.Error, OSError) as error:
        log.error("run %d: could not record that it %s: %s", result.run_id, status, error)
    log.warning(
        "run %d %s (%s): %d new paper(s) recorded, %d message(s) sent",
        result.run_id, status, reason, result.novel, result.delivery.sent,
    )  # fmt: skip


def _reason(error: BaseException) -> str:
    text = str(error)
    return text if isinstance(error, DigestError) and text else f"{type(error).__name__}: {text}"


def ingest(
    settings: Settings,
    runtime: Runtime,
    run_id: int,
    position: int,
    source: SourceConfig,
    mark_seen: bool,
) -> SourceReport:
    """Read one source and record it; whatever goes wrong is this source's failure alone.

    A SourceError is the expected kind (a 404, a login page); any other exception
    while fetching, parsing or recording (a bug, a value nothing foresaw, a write
    that failed) is caught here too, so one source never costs the run its feed,
    its mail or its ``--json`` report.
    """
    db, clock = runtime.db, runtime.clock
    began = time.monotonic()
    kind = source.kind if source.kind != "auto" else kind_from_url(source.url) or "auto"
    try:
        read = read_source(
            source,
            runtime.fetcher,
            today=clock().date(),
            validators_for=lambda url: history.load_validators(db, url),
            now=clock(),
        )
    except SourceError as error:
        # Name the document only when it is not the source itself (a file in a folder).
        same = error.source in (source.url, source.label)
        message = error.reason if same else str(error)
        unreachable = isinstance(error, FetchError) and error.unreachable
        report = SourceReport(source.url, kind, "failed", error=message, unreachable=unreachable)
    except Exception as error:
        report = _unexpected(source, kind, "reading", error)
    else:
        try:
            report = _record(settings, runtime, run_id, source, read, mark_seen)
            report = _check_stale(db, run_id, report, clock())
        except Exception as error:
            report = _unexpected(source, read.kind, "recording", error)
    report = replace(report, name=source.name)
    history.record_source_report(db, run_id, position, report)
    _log_source(report, time.monotonic() - began)
    return report


def _unexpected(source: SourceConfig, kind: str, stage: str, error: Exception) -> SourceReport:
    """A failure nothing in the sources stage foresaw: one line here, the traceback with -v."""
    log.debug("source %s: %s failed", source.label, stage, exc_info=error)
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    message = f"unexpected error while {stage} {source.label}: {detail}"
    return SourceReport(source.url, kind, "failed", error=message)


def _record(
    settings: Settings,
    runtime: Runtime,
    run_id: int,
    source: SourceConfig,
    read: SourceRead,
    mark_seen: bool,
) -> SourceReport:
    db, clock = runtime.db, runtime.clock
    if read.page is None:
        if read.cache_url and read.validators and read.validators.body_sha256:
            # The same bytes as last time: keep whatever validators the server sends now.
            history.save_validators(db, read.cache_url, read.validators, clock())
        return SourceReport(source.url, read.kind, "unchanged", reason=read.unchanged)
    result = history.record_sightings(
        db,
        read.page.papers,
        source=source.label,
        run_id=run_id,
        now=clock(),
        tag_authority=tag_authority(settings),
        state="skipped" if mark_seen else "pending",
        watch=follow_ups.watch(settings, clock()),
        load_novel=False,  # only counted here; the digest loads them
    )
    if read.cache_url and read.validators:
        # Only after the papers are safely recorded: a failed run refetches.
        history.save_validators(db, read.cache_url, read.validators, clock())
    status: SourceStatus = "empty" if not read.page.papers else "ok"
    return SourceReport(
        source.url, read.kind, status, result.found, len(result.novel_ids),
        reason=read.page.empty_reason, batch=batch_key(read.page.papers),
    )  # fmt: skip


def _check_stale(
    db: sqlite3.Connection, run_id: int, report: SourceReport, now: datetime
) -> SourceReport:
    """Same batch as last time although a new one was due: say so (docs/readers.md §3)."""
    previous = history.previous_good_fetch(db, report.source, run_id)
    if previous is None:
        return report
    batch, at, kind = previous
    same_batch = report.batch if report.status != "unchanged" else batch
    reason = stale_reason(
        report.kind if report.kind in ARXIV_KINDS else kind, same_batch, (batch, at), now
    )
    if reason is None:
        return report
    return replace(report, status="stale", reason=reason, batch=same_batch)


def publish_feed(
    settings: Settings,
    db: sqlite3.Connection,
    now: datetime,
    *,
    client: httpx.Client | None = None,
) -> Path:
    """Write ``feed.atom`` from history (atomically; untouched when the bytes are the same).

    The feed links ``rel="prev-archive"`` to the newest day it does not fully
    hold (RFC 5005, see :mod:`.archives`). When the bytes changed and
    ``[site] websub_hub`` is set, the hub is pinged through ``client``.
    """
    window = timedelta(days=settings.feed.window_days)
    limit = settings.feed.max_entries
    papers = history.feed_papers(db, since=now - window, limit=limit)
    today = now.astimezone(UTC).date()
    previous = live_prev_archive(db, papers, since=now - window, limit=limit, today=today)
    meta = replace(
        feed_meta(settings),
        prev_archive_url=archive_url(settings, previous) if previous else None,
    )
    files = data_files(settings)
    updates = history.paper_events(db, [paper.id for paper in papers])
    path, inputs = files.feed, _feed_inputs(papers, meta, updates)
    unchanged = path.exists() and files.feed_json.exists() and files.stylesheet.exists()
    if unchanged and _read_text(files.feed_inputs) == inputs:
        changed = False  # the same papers and settings render the same bytes: skip the render
    else:
        reasons = feed_reasons(db, papers)
        changed = write_atomically(path, render_feed(papers, meta, reasons, updates))
        write_atomically(files.feed_json, render_json_feed(papers, meta, reasons, updates))
        # Beside the feeds, so nginx or Caddy serving the folder serves it too.
        write_atomically(files.stylesheet, feed_stylesheet())
        write_atomically(files.feed_inputs, inputs.encode())
    log.info("feed: %d entries, %s", len(papers), "written" if changed else "unchanged")
    hub = settings.site.websub_hub
    if changed and hub:
        if client is None:
            log.warning("websub: no HTTP client given; hub %s not pinged", hub)
        else:
            ping_hub(client, hub, [meta.self_url])
    publish_topic_feeds(settings, db, now, client=client)
    return path


def _feed_inputs(
    papers: Sequence[StoredPaper], meta: FeedMeta, updates: Mapping[int, Sequence[FollowUp]]
) -> str:
    """A digest of everything ``render_feed`` and the feed's reasons read.

    The papers carry every field an entry shows (and the signals and sources its
    reason line is made of); ``meta`` is the feed's settings. The version is in
    it so that an upgrade renders afresh.
    """
    text = repr((__version__, meta, [repr(paper) for paper in papers], sorted(updates.items())))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def deliver(newsletter: Newsletter, runtime: Runtime) -> DrainReport:
    """Drain the outbox: every pending or retry delivery, this run's and any left over."""
    return drain(
        runtime.db,
        runtime.transport,
        newsletter.compose,
        sender=newsletter.envelope_sender,
        clock=runtime.clock,
        stop=runtime.stop,
        prepare=newsletter.prepare,
    )


def post_to_channels(settings: Settings, runtime: Runtime) -> ChannelReport:
    """Post every open channel row (this run's and any left over), after catching up the queue."""
    queue_channels(settings, runtime.db, runtime.clock())
    return drain_channels(settings, runtime.db, clock=runtime.clock, poster=runtime.poster)


def _day(now: datetime) -> str:
    return now.date().isoformat()


def _log_source(report: SourceReport, seconds: float) -> None:
    level = logging.WARNING if report.status == "failed" else logging.INFO
    detail = report.error or report.reason or ""
    log.log(
        level,
        "source %s: %s, %d found, %d novel, %.2f s%s",
        report.name or report.source, report.status, report.found, report.novel, seconds,
        f" ({detail})" if detail else "",
    )  # fmt: skip


def _log_summary(result: RunResult, digest: Digest | None) -> None:
    if digest is None:
        log.info("run %d: nothing new; no mail today", result.run_id)
    else:
        log.info(
            "run %d: digest %d with %d paper(s), %d message(s) queued, %d sent",
            result.run_id, digest.id, len(digest.papers), result.emails, result.delivery.sent,
        )  # fmt: skip


__all__ = ["RunResult", "Runtime", "deliver", "post_to_channels", "publish_feed", "run"]
