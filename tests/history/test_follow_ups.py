"""Follow-ups in history: what a new sighting of a known paper records, once, in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digest import history
from digest.history.follow_ups import Watch, paper_events
from digest.model import NO_DETAILS, FollowUp, FollowUpKind, Paper, PaperDetails
from digest.render.follow_ups import describe, event_link, stars
from tests.factories import FIRST_SEEN, make_stored_paper

WATCH = Watch(since=FIRST_SEEN - timedelta(days=30), upvote_marks=(50, 100))
LATER = FIRST_SEEN + timedelta(days=1)


def paper(details: PaperDetails = NO_DETAILS, **changes: Any) -> Paper:
    return Paper(title="Sparse replay", arxiv_id="2503.00001", details=details, **changes)


def record(
    db: sqlite3.Connection, sighting: Paper, *, at: datetime = LATER, watch: Watch | None = WATCH
) -> int:
    return history.record_sightings(
        db, [sighting], source="hf", run_id=None, now=at, tag_authority="example.org", watch=watch
    ).events


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    connection = history.open_history(tmp_path / "digest.db")
    history.record_sightings(
        connection, [paper(upvotes=10)], source="hf", run_id=None, now=FIRST_SEEN,
        tag_authority="example.org", watch=WATCH,
    )  # fmt: skip
    return connection


def kinds(db: sqlite3.Connection) -> list[tuple[str, str, str | None]]:
    events = paper_events(db, [1])
    return [(e.kind, e.value, e.detail) for e in events.get(1, [])]


def test_the_first_sighting_is_news_for_nobody(db: sqlite3.Connection) -> None:
    assert kinds(db) == []


@pytest.mark.parametrize(
    ("sighting", "expected"),
    [
        (paper(details=PaperDetails(github_repo="https://github.com/a/b", github_stars=7)),
         [("code", "https://github.com/a/b", "7")]),
        (paper(details=PaperDetails(project_page="https://a.github.io")),
         [("project_page", "https://a.github.io", None)]),
        (paper(version=2, details=PaperDetails(arxiv_comment="adds ImageNet")),
         [("version", "2", "adds ImageNet")]),
        (paper(version=3, details=PaperDetails(arxiv_comment="This paper has been withdrawn")),
         [("withdrawn", "3", "This paper has been withdrawn")]),
        (paper(doi="10.1/x", details=PaperDetails(journal_ref="ICLR 2026")),
         [("journal_ref", "ICLR 2026", None)]),
        (paper(doi="10.1/x"), [("doi", "10.1/x", None)]),
        (paper(upvotes=120), [("upvotes", "100", "120")]),
        (paper(upvotes=49, version=1), []),
    ],
)  # fmt: skip
def test_a_later_sighting_records_what_it_adds(
    db: sqlite3.Connection, sighting: Paper, expected: list[tuple[str, str, str | None]]
) -> None:
    assert record(db, sighting) == len(expected)
    assert kinds(db) == expected


def test_each_event_is_recorded_once_and_the_paper_never_turns_novel(
    db: sqlite3.Connection,
) -> None:
    with_code = paper(details=PaperDetails(github_repo="https://github.com/a/b"))
    assert record(db, with_code) == 1
    again = history.record_sightings(
        db, [with_code], source="arxiv", run_id=None, now=LATER + timedelta(days=1),
        tag_authority="example.org", watch=WATCH,
    )  # fmt: skip
    assert again.events == 0 and again.novel == ()
    assert len(kinds(db)) == 1


def test_papers_older_than_the_window_are_not_followed(db: sqlite3.Connection) -> None:
    late = Watch(since=FIRST_SEEN + timedelta(hours=1))
    assert record(db, paper(upvotes=500), watch=late) == 0


def test_an_event_bumps_the_papers_updated_time(db: sqlite3.Connection) -> None:
    record(db, paper(details=PaperDetails(github_repo="https://github.com/a/b")))
    [stored] = history.feed_papers(db, since=FIRST_SEEN, limit=5)
    assert stored.updated == LATER


@pytest.mark.parametrize(
    ("count", "shown"), [(950, "950"), (1000, "1k"), (1234, "1.2k"), (12_345, "12k")]
)
def test_stars_read_like_github(count: int, shown: str) -> None:
    assert stars(count) == shown


def event(kind: FollowUpKind, value: str, detail: str | None = None) -> FollowUp:
    return FollowUp(1, 1, kind, value, detail, "hf", LATER)


def test_each_kind_of_news_reads_as_one_line() -> None:
    assert describe(event("code", "https://github.com/a/b", "1234")) == (
        "Code released: \u2605 1.2k \u2014 github.com/a/b"
    )
    assert (
        describe(event("version", "2", "adds\nImageNet"))
        == "v2 on arXiv: \u2018adds ImageNet\u2019"
    )
    assert describe(event("journal_ref", "ICLR 2026")) == "Accepted at ICLR 2026"
    assert describe(event("withdrawn", "3", "withdrawn")) == "Withdrawn by the authors"
    assert describe(event("upvotes", "100", "120")) == "100 upvotes on Hugging Face"


def test_an_event_links_only_to_http_urls() -> None:
    stored = make_stored_paper()
    assert event_link(event("code", "javascript:alert(1)"), stored) == stored.uid
    assert event_link(event("version", "2"), stored) == f"{stored.uid}v2"
    assert event_link(event("doi", "10.1/x"), stored) == "https://doi.org/10.1/x"
