"""Workload 2, history at scale: N papers already known, then a run over a 100-paper listing.

The history is generated straight into the database by :mod:`bench.topics`
(one ``executemany`` into the first schema, then the FTS5 migration over it and
the compaction of schema 13, timed, as an upgrade would),
and rss2email gets a data file in which the same N entries were already
mailed. Each repetition serves a listing of the 90 newest known papers plus 10
never seen (different ones each time) and times one ``digest run`` and one
``r2e run --no-send`` over it. The database's size is reported after the runs.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from . import data, topics
from .measure import Row
from .pages import PageServer
from .programs import DigestHome, Rss2emailHome, guids

KNOWN_IN_LISTING = 90
NEW_IN_LISTING = 10


def run(work: Path, *, papers: int, repeat: int, r2e: Path | None) -> list[Row]:
    label = f"2. history of {papers:,} papers: run over 100, 10 new"
    wall = Row(label, "wall", "s")
    memory = Row(label, "peak RSS", "MB")
    size = Row(f"2. history of {papers:,} papers", "database / data file", "MB")
    ours = DigestHome(work / "digest")
    built = {
        row["workload"].split(" [")[0]: row["value"] for row in topics._build(ours.db_path, papers)
    }
    storage = _storage_rows(papers, built)
    known = _newest(ours.db_path, KNOWN_IN_LISTING)
    with PageServer() as server:
        url = server.put("/listing.atom", b"")
        theirs = Rss2emailHome(r2e, work / "r2e", url) if r2e else None
        if theirs is not None:
            theirs.seed_seen(guids(_all_ids(ours.db_path)))
        for number in range(repeat):
            fresh = data.papers(range(1 + number * 100, 1 + number * 100 + NEW_IN_LISTING))
            server.put("/listing.atom", data.atom_feed(fresh + known))
            sample = ours.run(url)
            if "10 new" not in sample.stdout:
                raise RuntimeError(f"digest should have found 10 new papers:\n{sample.stdout}")
            wall.digest.append(sample.seconds)
            memory.digest.append(sample.peak_mb)
            if theirs is not None:
                peer = theirs.run(send=False)
                wall.peer.append(peer.seconds)
                memory.peer.append(peer.peak_mb)
    size.digest.append(_size(ours.db_path))
    if theirs is not None:
        size.peer.append(theirs.data.stat().st_size / 1e6)
    return [wall, memory, size, *storage]


def _storage_rows(papers: int, built: dict[str, float]) -> list[Row]:
    """What the compaction of issue 17 did to the generated history (bench.topics._build)."""
    label = f"2. history of {papers:,} papers"
    per_paper = Row(f"{label}: bytes per paper", "size", "B", peer_name="schema 13 (before)")
    per_paper.digest.append(built["database per paper"])
    per_paper.peer.append(built["database per paper before compaction (schema 13)"])
    migration = Row(f"{label}: compact schema 13 in place (migration + VACUUM)", "wall", "s")
    migration.digest.append(built["compact an existing history (migration + VACUUM)"])
    return [per_paper, migration]


def _newest(path: Path, count: int) -> list[data.BenchPaper]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT id, arxiv_id, title, abstract, first_seen FROM papers ORDER BY id DESC LIMIT ?",
            (count,),
        ).fetchall()
    return [
        data.BenchPaper(
            number=row[0],
            arxiv_id=row[1],
            title=row[2],
            abstract=row[3],
            authors=("Ada Lovelace", "Alan Turing"),
            categories=("cs.LG", "cs.CL"),
            published=datetime.fromisoformat(row[4]).astimezone(UTC),
        )
        for row in rows
    ]


def _all_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT arxiv_id FROM papers ORDER BY id")]


def _size(path: Path) -> float:
    """The database with its WAL, as it sits on disk between runs."""
    wal = path.with_name(path.name + "-wal")
    return (path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / 1e6
