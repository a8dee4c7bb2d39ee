"""Digests: which pending papers one newsletter announces, chosen in one transaction.

A paper becomes ``digested`` in the same transaction that writes the digest,
so a run that crashes after ingest leaves its papers ``pending`` and the next
run announces them: nothing is lost between the diff and the mail.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from ..model import Digest, StoredPaper
from .papers import load_papers
from .schema import transaction
from .times import iso_utc, parse_utc


@dataclass(frozen=True)
class DigestSummary:
    id: int
    day: str
    created: datetime
    paper_count: int


def create_digest(
    db: sqlite3.Connection,
    *,
    run_id: int | None,
    now: datetime,
    day: str,
    allow_empty: bool = False,
) -> Digest | None:
    """Gather every pending paper (oldest first) into a new digest; None when nothing is pending.

    ``allow_empty`` makes a digest of no papers, for a mail of follow-ups alone.
    """
    with transaction(db):
        ids = [
            row[0]
            for row in db.execute(
                "SELECT id FROM papers WHERE state = 'pending' ORDER BY first_seen, id"
            ).fetchall()
        ]
        if not ids and not allow_empty:
            return None
        cursor = db.execute(
            "INSERT INTO digests (run_id, created, day, paper_count) VALUES (?, ?, ?, ?)",
            (run_id, iso_utc(now), day, len(ids)),
        )
        digest_id = cursor.lastrowid
        assert digest_id is not None
        db.executemany(
            "INSERT INTO digest_papers (digest_id, paper_id, position) VALUES (?, ?, ?)",
            [(digest_id, paper_id, position) for position, paper_id in enumerate(ids)],
        )
        db.execute("UPDATE papers SET state = 'digested' WHERE state = 'pending'")
    return load_digest(db, digest_id)


def load_digest(db: sqlite3.Connection, digest_id: int) -> Digest:
    created = db.execute("SELECT created FROM digests WHERE id = ?", (digest_id,)).fetchone()
    if created is None:
        raise KeyError(f"no digest {digest_id}")
    return Digest(
        id=digest_id, created=parse_utc(created[0]), papers=tuple(digest_papers(db, digest_id))
    )


def digest_papers(db: sqlite3.Connection, digest_id: int) -> list[StoredPaper]:
    ids = [
        row[0]
        for row in db.execute(
            "SELECT paper_id FROM digest_papers WHERE digest_id = ? ORDER BY position",
            (digest_id,),
        ).fetchall()
    ]
    return load_papers(db, ids)


def latest_digests(db: sqlite3.Connection, limit: int = 30) -> list[DigestSummary]:
    rows = db.execute(
        "SELECT id, day, created, paper_count FROM digests ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [DigestSummary(row[0], row[1], parse_utc(row[2]), row[3]) for row in rows]


def papers_between(
    db: sqlite3.Connection,
    after_digest_id: int,
    through_digest_id: int,
    *,
    loaded: Digest | None = None,
) -> list[StoredPaper]:
    """The papers of every digest after one and up to another, each once, in announcement order.

    ``loaded`` is digest ``through_digest_id`` as the caller already holds it (the
    one this run made, loaded when it was made): when no other digest is in the
    range, its papers are the answer, and 10,000 papers are not loaded again.
    """
    if loaded is not None and loaded.id == through_digest_id > after_digest_id:
        others = db.execute(
            "SELECT 1 FROM digest_papers WHERE digest_id > ? AND digest_id < ? LIMIT 1",
            (after_digest_id, through_digest_id),
        ).fetchone()
        if others is None:
            return list(loaded.papers)  # in position order, as load_digest read them
    rows = db.execute(
        "SELECT paper_id, min(digest_id * 1000000 + position) AS ordering FROM digest_papers "
        "WHERE digest_id > ? AND digest_id <= ? GROUP BY paper_id ORDER BY ordering",
        (after_digest_id, through_digest_id),
    ).fetchall()
    return load_papers(db, [row[0] for row in rows])


def digest_created(db: sqlite3.Connection, digest_id: int) -> datetime:
    row = db.execute("SELECT created FROM digests WHERE id = ?", (digest_id,)).fetchone()
    if row is None:
        raise KeyError(f"no digest {digest_id}")
    return parse_utc(row[0])


def latest_digest_id(db: sqlite3.Connection) -> int:
    """The newest digest's id, 0 before the first one."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM digests").fetchone()[0])
