"""What the operator reads in `digest status`: recent runs, each source's health, the outbox."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..model import SourceHealth
from .times import parse_utc


@dataclass(frozen=True)
class RunSummary:
    id: int
    started: datetime
    finished: datetime | None
    status: str
    novel: int
    digest_id: int | None
    sources: tuple[dict[str, Any], ...]
    pid: int | None = None
    reason: str | None = None
    # {"found": n, "delivered": n, "checks": [...]}; empty for runs before follow-ups
    follow_ups: dict[str, Any] = field(default_factory=dict)


def recent_runs(db: sqlite3.Connection, limit: int = 10) -> list[RunSummary]:
    rows = db.execute(
        "SELECT id, started, finished, status, novel, digest_id, report, pid, reason FROM runs "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        RunSummary(
            row[0],
            parse_utc(row[1]),
            parse_utc(row[2]) if row[2] else None,
            row[3],
            row[4],
            row[5],
            tuple(json.loads(row[6])["sources"]) if row[6] else _recorded_sources(db, row[0]),
            row[7],
            row[8],
            json.loads(row[6]).get("follow_ups", {}) if row[6] else {},
        )
        for row in rows
    ]


def _recorded_sources(db: sqlite3.Connection, run_id: int) -> tuple[dict[str, Any], ...]:
    """The sources a run got through before it ended without a report (killed, still going)."""
    rows = db.execute(
        "SELECT source, kind, status, found, novel, error, reason FROM run_sources "
        "WHERE run_id = ? ORDER BY position",
        (run_id,),
    ).fetchall()
    names = ("source", "kind", "status", "found", "novel", "error", "reason")
    return tuple(dict(zip(names, row, strict=True)) for row in rows)


def with_dead_runs_ended(runs: list[RunSummary], alive_pid: int | None) -> list[RunSummary]:
    """A run still marked ``running`` whose process is gone is shown as what it is: interrupted.

    The row itself is corrected by the next run that takes the lock over; the
    operator should not have to wait for it to read the truth.
    """
    return [
        run
        if run.status != "running" or run.pid == alive_pid
        else replace(
            run,
            status="interrupted",
            novel=sum(int(source.get("novel") or 0) for source in run.sources),
            reason=f"the process (pid {run.pid}) ended without finishing the run",
        )
        for run in runs
    ]


def source_health(db: sqlite3.Connection) -> list[SourceHealth]:
    """Per source (as the user wrote it): last outcome, last success, last error, failure streak."""
    rows = db.execute(
        "SELECT rs.source, rs.kind, rs.status, rs.error, r.started FROM run_sources rs "
        "JOIN runs r ON r.id = rs.run_id ORDER BY r.id DESC, rs.position"
    ).fetchall()
    by_source: dict[str, list[tuple[str, str, str | None, str]]] = {}
    for source, kind, status, error, started in rows:
        by_source.setdefault(source, []).append((kind, status, error, started))
    return [_health(source, history) for source, history in sorted(by_source.items())]


def _health(source: str, history: list[tuple[str, str, str | None, str]]) -> SourceHealth:
    """``history`` is newest first."""
    streak = 0
    for _, status, _, _ in history:
        if status not in ("failed", "stale"):
            break
        streak += 1
    success = next((row for row in history if row[1] in ("ok", "unchanged", "empty")), None)
    failure = next((row for row in history if row[1] in ("failed", "stale")), None)
    kind, status, _, started = history[0]
    return SourceHealth(
        source=source,
        kind=kind,
        last_status=status,
        last_run=parse_utc(started),
        last_success=parse_utc(success[3]) if success else None,
        last_error=failure[2] if failure else None,
        last_error_at=parse_utc(failure[3]) if failure else None,
        consecutive_failures=streak,
    )
