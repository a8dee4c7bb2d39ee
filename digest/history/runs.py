"""Runs and their per-source report; HTTP validators (ETag / Last-Modified) per source URL."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict
from datetime import datetime
from typing import Any

from ..model import HttpValidators, SourceReport
from .schema import transaction
from .times import iso_utc, parse_utc


def start_run(db: sqlite3.Connection, now: datetime) -> int:
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO runs (started, pid) VALUES (?, ?)", (iso_utc(now), os.getpid())
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def record_source_report(
    db: sqlite3.Connection, run_id: int, position: int, report: SourceReport
) -> None:
    with transaction(db):
        db.execute(
            """
            INSERT OR REPLACE INTO run_sources
                (run_id, position, source, kind, status, found, novel, error, reason, batch)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                run_id,
                position,
                report.source,
                report.kind,
                report.status,
                report.found,
                report.novel,
                report.error,
                report.reason,
                report.batch,
            ),
        )


def finish_run(
    db: sqlite3.Connection,
    run_id: int,
    *,
    now: datetime,
    ok: bool,
    novel: int,
    digest_id: int | None,
    report: dict[str, Any],
    status: str | None = None,
    reason: str | None = None,
) -> None:
    """End a run: ``ok``/``failed`` from ``ok``, or ``status`` (``interrupted``) with its reason."""
    with transaction(db):
        db.execute(
            "UPDATE runs SET finished = ?, status = ?, novel = ?, digest_id = ?, report = ?, "
            "reason = ? WHERE id = ?",
            (iso_utc(now), status or ("ok" if ok else "failed"), novel, digest_id,
             json.dumps(report), reason, run_id),
        )  # fmt: skip


def load_validators(db: sqlite3.Connection, url: str) -> HttpValidators:
    row = db.execute(
        "SELECT etag, last_modified, body_sha256 FROM http_cache WHERE url = ?", (url,)
    ).fetchone()
    return HttpValidators(*row) if row else HttpValidators()


def save_validators(
    db: sqlite3.Connection, url: str, validators: HttpValidators, now: datetime
) -> None:
    """Keep validators only after the page was parsed and recorded, so a failed parse refetches."""
    with transaction(db):
        db.execute(
            "INSERT OR REPLACE INTO http_cache (url, etag, last_modified, checked, body_sha256) "
            "VALUES (?, ?, ?, ?, ?)",
            (url, validators.etag, validators.last_modified, iso_utc(now), validators.body_sha256),
        )


def report_dict(report: SourceReport) -> dict[str, Any]:
    return asdict(report)


def mark_interrupted_runs(db: sqlite3.Connection, pid: int, now: datetime) -> int:
    """Runs left 'running' by a process that died are 'interrupted', not running forever.

    Their count of new papers is what their sources recorded before the end.
    """
    with transaction(db):
        cursor = db.execute(
            "UPDATE runs SET status = 'interrupted', finished = ?, reason = ?, "
            "novel = (SELECT coalesce(sum(novel), 0) FROM run_sources WHERE run_id = runs.id) "
            "WHERE status = 'running' AND pid = ?",
            (iso_utc(now), f"the process (pid {pid}) ended without finishing the run", pid),
        )
    return cursor.rowcount


def last_run_started(db: sqlite3.Connection) -> datetime | None:
    """When the newest run began (any outcome): the schedule's catch-up compares slots to it."""
    value = db.execute("SELECT max(started) FROM runs").fetchone()[0]
    return parse_utc(value) if value else None


def previous_good_fetch(
    db: sqlite3.Connection, source: str, before_run: int
) -> tuple[str | None, datetime, str] | None:
    """(batch, run start, kind) of the newest earlier run where this source was read fine."""
    row = db.execute(
        "SELECT rs.batch, r.started, rs.kind FROM run_sources rs JOIN runs r ON r.id = rs.run_id "
        "WHERE rs.source = ? AND rs.run_id < ? AND rs.status IN ('ok', 'empty') "
        "ORDER BY rs.run_id DESC LIMIT 1",
        (source, before_run),
    ).fetchone()
    return (row[0], parse_utc(row[1]), row[2]) if row else None
