"""History is the diff: a paper is novel exactly once, however and wherever it shows up again."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from digest.history import (
    SCHEMA_VERSION,
    create_digest,
    feed_papers,
    open_history,
    paper_count,
    record_sightings,
)
from digest.history.digests import papers_between
from digest.model import Digest, Paper
from tests.conftest import NOW


def record(db: sqlite3.Connection, *papers: Paper, source: str = "test", now=NOW):  # type: ignore[no-untyped-def]
    return record_sightings(
        db, list(papers), source=source, run_id=None, now=now, tag_authority="example.org"
    )


def test_a_paper_is_novel_the_first_time_only(db: sqlite3.Connection) -> None:
    paper = Paper("Sparse Replay Buffers", arxiv_id="2503.08123")
    assert len(record(db, paper).novel) == 1
    assert record(db, paper).novel == ()
    assert paper_count(db) == 1


def test_a_newer_version_updates_the_paper_and_is_not_novel(db: sqlite3.Connection) -> None:
    record(db, Paper("Bounds on Attention", arxiv_id="2411.01234", version=1))
    later = NOW + timedelta(days=3)
    result = record(
        db, Paper("Tight Bounds on Attention", arxiv_id="2411.01234", version=3), now=later
    )
    assert result.novel == ()
    (stored,) = feed_papers(db, since=NOW - timedelta(days=1), limit=10)
    assert (stored.version, stored.title, stored.updated) == (3, "Tight Bounds on Attention", later)
    assert stored.first_seen == NOW


def test_upvotes_change_without_bumping_updated(db: sqlite3.Connection) -> None:
    record(db, Paper("A", arxiv_id="2503.00001", upvotes=3))
    record(db, Paper("A", arxiv_id="2503.00001", upvotes=41), now=NOW + timedelta(hours=5))
    (stored,) = feed_papers(db, since=NOW - timedelta(days=1), limit=10)
    assert stored.upvotes == 41
    assert stored.updated == NOW


def test_a_title_only_sighting_merges_with_the_paper_when_its_id_arrives(
    db: sqlite3.Connection,
) -> None:
    record(db, Paper("Pre-train, Prompt, and Predict"), source="saved page")
    result = record(
        db, Paper("Pre-Train,  Prompt and Predict", arxiv_id="2107.13586"), source="api"
    )
    assert result.novel == ()
    (stored,) = feed_papers(db, since=NOW - timedelta(days=1), limit=10)
    assert stored.arxiv_id == "2107.13586"
    assert stored.uid.startswith("tag:example.org,2025-03-12:paper/")  # frozen at first sight
    assert stored.sources == ("api", "saved page") or set(stored.sources) == {"api", "saved page"}


def test_an_id_known_paper_seen_later_by_title_is_not_novel(db: sqlite3.Connection) -> None:
    record(db, Paper("Attention Sinks", arxiv_id="2309.17453"))
    assert record(db, Paper("attention sinks")).novel == ()


def test_two_papers_with_one_title_and_different_ids_stay_apart(db: sqlite3.Connection) -> None:
    record(db, Paper("A Survey", arxiv_id="2301.00001"))
    assert len(record(db, Paper("A Survey", arxiv_id="2302.00002")).novel) == 1


def test_doi_identifies_papers_without_arxiv_ids(db: sqlite3.Connection) -> None:
    record(db, Paper("Journal paper", doi="10.1000/xyz"))
    assert record(db, Paper("Journal paper (revised title)", doi="10.1000/xyz")).novel == ()


def test_arxiv_papers_get_their_abs_url_as_permanent_id(db: sqlite3.Connection) -> None:
    (stored,) = record(db, Paper("Old style", arxiv_id="hep-th/9901001")).novel
    assert stored.uid == "https://arxiv.org/abs/hep-th/9901001"


def test_repeats_inside_one_payload_count_once(db: sqlite3.Connection) -> None:
    paper = Paper("Twice on one page", arxiv_id="2503.00002")
    result = record(db, paper, paper)
    assert len(result.novel) == 1


def test_a_digest_takes_every_pending_paper_once(db: sqlite3.Connection) -> None:
    record(db, Paper("One", arxiv_id="2503.00001"), Paper("Two", arxiv_id="2503.00002"))
    digest = create_digest(db, run_id=None, now=NOW, day="2025-03-12")
    assert digest is not None
    assert [p.title for p in digest.papers] == ["One", "Two"]
    assert create_digest(db, run_id=None, now=NOW, day="2025-03-12") is None


def test_a_count_only_recording_gives_the_novel_ids_without_loading_them(
    db: sqlite3.Connection,
) -> None:
    papers = [Paper("One", arxiv_id="2503.00001"), Paper("Two", arxiv_id="2503.00002")]
    result = record_sightings(
        db, papers, source="s", run_id=None, now=NOW, tag_authority="example.org",
        load_novel=False,
    )  # fmt: skip

    assert result.novel == () and len(result.novel_ids) == 2
    digest = create_digest(db, run_id=None, now=NOW, day="2025-03-12")
    assert digest is not None and [p.id for p in digest.papers] == list(result.novel_ids)


def test_the_papers_of_a_digest_already_loaded_are_not_loaded_again(
    db: sqlite3.Connection,
) -> None:
    record(db, Paper("One", arxiv_id="2503.00001"), Paper("Two", arxiv_id="2503.00002"))
    digest = create_digest(db, run_id=None, now=NOW, day="2025-03-12")
    assert digest is not None
    held = Digest(digest.id, digest.created, tuple(reversed(digest.papers)))  # tells them apart

    assert papers_between(db, 0, digest.id, loaded=held) == list(held.papers)
    assert papers_between(db, 0, digest.id) == list(digest.papers)


def test_a_loaded_digest_is_not_the_answer_when_the_range_holds_another(
    db: sqlite3.Connection,
) -> None:
    record(db, Paper("One", arxiv_id="2503.00001"))
    first = create_digest(db, run_id=None, now=NOW, day="2025-03-11")
    record(db, Paper("Two", arxiv_id="2503.00002"))
    second = create_digest(db, run_id=None, now=NOW, day="2025-03-12")
    assert first is not None and second is not None

    both = papers_between(db, 0, second.id, loaded=second)

    assert [p.title for p in both] == ["One", "Two"]
    assert papers_between(db, second.id, second.id, loaded=second) == []


def test_papers_recorded_as_skipped_are_never_digested(db: sqlite3.Connection) -> None:
    record_sightings(
        db, [Paper("Seed", arxiv_id="2503.00009")], source="s", run_id=None, now=NOW,
        tag_authority="example.org", state="skipped",
    )  # fmt: skip
    assert create_digest(db, run_id=None, now=NOW, day="2025-03-12") is None


def test_opening_migrates_once_and_records_the_schema_version(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "digest.db"
    open_history(path).close()
    database = open_history(path)
    assert database.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_feed_window_is_newest_first_and_bounded(db: sqlite3.Connection) -> None:
    for day in range(5):
        record(db, Paper(f"Paper {day}", arxiv_id=f"2503.0000{day}"), now=NOW + timedelta(days=day))
    papers = feed_papers(db, since=NOW + timedelta(days=2), limit=2)
    assert [p.title for p in papers] == ["Paper 4", "Paper 3"]


def test_a_first_version_seen_after_a_versionless_sighting_is_not_a_revision(
    db: sqlite3.Connection,
) -> None:
    record(db, Paper("Listed without a version", arxiv_id="2503.00005"))
    record(
        db,
        Paper("Listed without a version", arxiv_id="2503.00005", version=1),
        now=NOW + timedelta(days=1),
    )
    (stored,) = feed_papers(db, since=NOW - timedelta(days=1), limit=10)
    assert (stored.version, stored.updated) == (1, NOW)
