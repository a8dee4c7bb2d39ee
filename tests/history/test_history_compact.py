"""The compact papers table (schema._compact_papers): fewer bytes, the same facts.

An older history is converted in place when it is opened: every paper reads back
as it did (uid, url, updated, sightings and their order), the search index still
answers phrase and NEAR queries, the diff still recognises every paper, and the
file is rewritten in 32 KiB pages. A new history stores the same way from its
first paper.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from digest.history import feed_papers, open_history, record_sightings
from digest.history import papers as papers_module
from digest.history.digests import digest_papers
from digest.history.schema import MIGRATIONS, PAGE_SIZE, compact_file, integrity_check
from digest.history.search import search
from digest.history.times import iso_utc
from digest.model import Paper, StoredPaper
from tests.conftest import NOW

COMPACT = [migration.__name__ for migration in MIGRATIONS].index("_compact_papers")
SEEN = iso_utc(NOW - timedelta(days=2))
LATER = iso_utc(NOW - timedelta(days=1))
LISTING = "https://rss.arxiv.org/rss/cs.LG"
HF = "https://huggingface.co/api/daily_papers"

# Rows as the version before the compaction wrote them (uid, title_key, url, updated):
# an arXiv paper seen twice, a revised one, a DOI-only one, and a title-only one
# without a URL.
OLD_PAPERS = [
    {
        "uid": "https://arxiv.org/abs/2503.08123",
        "arxiv_id": "2503.08123",
        "title_key": "sparse replay buffers for continual pre training",
        "title": "Sparse Replay Buffers for Continual Pre-Training",
        "abstract": "We pre-train language models on a stream of data mixtures.",
        "url": "https://arxiv.org/abs/2503.08123",
        "updated": SEEN,
    },
    {
        "uid": "https://arxiv.org/abs/2411.01234",
        "arxiv_id": "2411.01234",
        "title_key": "tight bounds on attention",
        "title": "Tight Bounds on Attention",
        "abstract": "Diffusion models for video generation, with bounds.",
        "url": "https://arxiv.org/abs/2411.01234v3",
        "version": 3,
        "updated": LATER,
    },
    {
        "uid": "https://doi.org/10.1145/3580305",
        "doi": "10.1145/3580305",
        "title_key": "watermarks that survive paraphrase",
        "title": "Watermarks That Survive Paraphrase",
        "abstract": "A watermark for generated text.",
        "url": "https://dl.acm.org/doi/10.1145/3580305",
        "updated": SEEN,
    },
    {
        "uid": "tag:example.org,2025-03-10:paper/0123456789abcdef0123",
        "title_key": "a title only paper",
        "title": "A Title-Only Paper",
        "abstract": "",
        "url": None,
        "updated": SEEN,
    },
]


def old_history(path: Path) -> None:
    """A digest.db at the schema before the compaction, with papers, sightings and a digest."""
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("PRAGMA journal_mode=WAL")
    for migration in MIGRATIONS[:COMPACT]:
        migration(old)
    old.execute(f"PRAGMA user_version = {COMPACT}")
    for row in OLD_PAPERS:
        values = {"first_seen": SEEN, "authors": '["Ada Lovelace"]', **row}
        columns = ", ".join(values)
        old.execute(
            f"INSERT INTO papers ({columns}) VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        )
    old.executemany(
        "INSERT INTO sightings (paper_id, source, first_seen, last_seen, announce_type) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (1, LISTING, SEEN, SEEN, "new"),
            (1, HF, LATER, LATER, None),
            (2, LISTING, SEEN, LATER, "replace"),
            (3, HF, SEEN, SEEN, None),
            (4, "saved page", SEEN, SEEN, None),
        ],
    )
    old.execute(
        "INSERT INTO digests (id, created, day, paper_count) VALUES (1, ?, ?, 2)", (SEEN, SEEN[:10])
    )
    old.executemany(
        "INSERT INTO digest_papers (digest_id, paper_id, position) VALUES (1, ?, ?)",
        [(1, 0), (2, 1)],
    )
    old.close()


def by_title(db: sqlite3.Connection) -> dict[str, StoredPaper]:
    return {p.title: p for p in feed_papers(db, since=NOW - timedelta(days=30), limit=50)}


def record(db: sqlite3.Connection, *papers: Paper, source: str = "test", now: datetime = NOW):  # type: ignore[no-untyped-def]
    return record_sightings(
        db, list(papers), source=source, run_id=None, now=now, tag_authority="example.org"
    )


@pytest.fixture
def converted(tmp_path: Path) -> sqlite3.Connection:
    path = tmp_path / "digest.db"
    old_history(path)
    db = open_history(path)
    yield db
    db.close()


def test_an_older_history_reads_back_the_same_papers(converted: sqlite3.Connection) -> None:
    papers = by_title(converted)
    replay = papers["Sparse Replay Buffers for Continual Pre-Training"]
    assert replay.uid == replay.url == "https://arxiv.org/abs/2503.08123"
    assert replay.updated == replay.first_seen == NOW - timedelta(days=2)
    assert replay.sources == (LISTING, HF)  # first sighting first
    bounds = papers["Tight Bounds on Attention"]
    assert (bounds.uid, bounds.url) == (
        "https://arxiv.org/abs/2411.01234",
        "https://arxiv.org/abs/2411.01234v3",
    )
    assert bounds.updated == NOW - timedelta(days=1)
    doi = papers["Watermarks That Survive Paraphrase"]
    assert (doi.uid, doi.url) == (
        "https://doi.org/10.1145/3580305",
        "https://dl.acm.org/doi/10.1145/3580305",
    )
    title_only = papers["A Title-Only Paper"]
    assert title_only.uid == "tag:example.org,2025-03-10:paper/0123456789abcdef0123"
    assert title_only.url is None
    assert title_only.sources == ("saved page",)


def test_an_older_history_stores_only_what_cannot_be_derived(converted: sqlite3.Connection) -> None:
    rows = converted.execute("SELECT id, uid, url, updated FROM papers ORDER BY id").fetchall()
    assert rows == [
        (1, None, None, None),
        (2, None, "https://arxiv.org/abs/2411.01234v3", LATER),
        (3, "https://doi.org/10.1145/3580305", "https://dl.acm.org/doi/10.1145/3580305", None),
        (4, "tag:example.org,2025-03-10:paper/0123456789abcdef0123", "", None),
    ]
    last_seen = converted.execute("SELECT last_seen FROM sightings ORDER BY paper_id").fetchall()
    assert last_seen == [(None,), (None,), (LATER,), (None,), (None,)]
    assert integrity_check(converted) == []  # digests still point at their papers


def test_an_older_history_is_rewritten_in_larger_pages(converted: sqlite3.Connection) -> None:
    assert converted.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    assert converted.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert converted.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_older_history_keeps_phrase_and_near_queries(converted: sqlite3.Connection) -> None:
    assert [m.paper_id for m in search(converted, '"pre train"*')] == [1]
    assert [m.paper_id for m in search(converted, "NEAR(diffusion video, 2)")] == [2]
    assert [m.paper_id for m in search(converted, "watermark*")] == [3]


def test_an_older_history_still_knows_every_paper(converted: sqlite3.Connection) -> None:
    result = record(
        converted,
        Paper("Sparse Replay Buffers for Continual Pre-Training", arxiv_id="2503.08123"),
        Paper("Watermarks that survive paraphrase", doi="10.1145/3580305"),
        Paper("A title-only paper!"),  # by its title key alone
        source=LISTING,
    )
    assert result.novel == ()
    last_seen = converted.execute(
        "SELECT paper_id, last_seen FROM sightings AS s JOIN sighting_sources AS k "
        "ON k.id = s.source_id WHERE k.source = ? ORDER BY paper_id",
        (LISTING,),
    ).fetchall()
    assert last_seen == [(1, iso_utc(NOW)), (2, LATER), (3, None), (4, None)]
    # the digest made before the conversion still lists its papers
    assert [paper.id for paper in digest_papers(converted, 1)] == [1, 2]


def test_a_new_history_uses_large_pages_from_the_start(db: sqlite3.Connection) -> None:
    assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE


def test_a_new_paper_stores_its_uid_url_and_updated_only_when_they_say_more(
    db: sqlite3.Connection,
) -> None:
    record(
        db,
        Paper("On arXiv", arxiv_id="2503.00001", url="https://arxiv.org/abs/2503.00001"),
        Paper("Elsewhere", doi="10.1/x", url="https://example.org/x"),
        Paper("Nowhere"),
    )
    rows = db.execute("SELECT uid IS NULL, url, updated FROM papers ORDER BY id").fetchall()
    assert rows == [(1, None, None), (0, "https://example.org/x", None), (0, "", None)]
    papers = by_title(db)
    assert papers["On arXiv"].url == papers["On arXiv"].uid == "https://arxiv.org/abs/2503.00001"
    assert papers["Nowhere"].url is None
    assert papers["Nowhere"].updated == NOW


def test_a_url_learnt_later_is_filled_in(db: sqlite3.Connection) -> None:
    record(db, Paper("On arXiv", arxiv_id="2503.00001"))
    record(db, Paper("On arXiv", arxiv_id="2503.00001", url="https://arxiv.org/abs/2503.00001v2"))
    assert by_title(db)["On arXiv"].url == "https://arxiv.org/abs/2503.00001v2"


def test_two_titles_whose_hashes_collide_stay_two_papers(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(papers_module, "title_hash", lambda key: 7)
    record(db, Paper("Sparse Replay Buffers"))
    assert len(record(db, Paper("Dense Replay Buffers")).novel) == 1
    assert record(db, Paper("Sparse replay buffers.")).novel == ()  # same key: same paper


def test_compaction_waits_while_another_process_has_the_history_open(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    old_history(path)
    other = sqlite3.connect(path)
    other.execute("SELECT count(*) FROM papers").fetchone()
    db = open_history(path)  # migrates; the VACUUM cannot happen yet
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert len(by_title(db)) == len(OLD_PAPERS)
    other.close()
    assert compact_file(db)
    assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    db.close()


def test_compaction_waits_for_disk_space_and_the_history_works_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "digest.db"
    old_history(path)
    full = SimpleNamespace(f_bavail=0, f_frsize=4096)  # no block free for an unprivileged user
    monkeypatch.setattr(os, "statvfs", lambda folder: full)
    db = open_history(path)
    assert db.execute("PRAGMA page_size").fetchone()[0] < PAGE_SIZE
    assert len(by_title(db)) == len(OLD_PAPERS)
    db.close()
    monkeypatch.undo()
    db = open_history(path)  # a later open, with room
    assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    db.close()
