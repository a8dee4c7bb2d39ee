"""Stored data never stops a run: bad values from before validation are repaired, and read safely.

Before the sources' boundary existed, an HF answer with ``upvotes: -1`` or a
``publishedAt`` in year 1 was stored as given, and every later run failed in
ranking (``math domain error``) or reading history (``Invalid isoformat
string``). A migration clears such values; reading and ranking tolerate any
that remain.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digest.history import feed_papers, open_history
from digest.history.schema import MIGRATIONS
from digest.history.search import SearchIndex, search
from digest.history.times import iso_utc, parse_utc
from digest.topics.ranking import Weights, select
from tests.factories import make_stored_paper

NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
REPAIR = [migration.__name__ for migration in MIGRATIONS].index("_repair_source_values")

# (column values as an older digest stored them) -> what reading them back gives
BAD_ROWS: list[dict[str, Any]] = [
    {"upvotes": -1},
    {"upvotes": -1_000_000},
    {"comments": -5},
    {"upvotes": 1e30},
    {"comments": "twelve"},  # INTEGER affinity keeps text that is no number
    {"version": 0},
    {"author_count": -3},
    {"published": "1-01-01T00:00:00Z"},  # year 1, as glibc's %Y wrote it
    {"published": "0999-06-01T00:00:00Z"},
    {"published": "1990-12-31T00:00:00Z"},
    {"published": "not a date"},
]


def insert(db: Any, number: int, **values: Any) -> None:
    """A row as the schema at hand holds it (before compaction: the title key as text)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(papers)")}
    key = ("title_hash", number) if "title_hash" in columns else ("title_key", f"paper {number}")
    row = {
        "uid": f"https://arxiv.org/abs/2503.{number:05d}",
        "arxiv_id": f"2503.{number:05d}",
        key[0]: key[1],
        "title": f"Paper {number}",
        "first_seen": "2025-03-12T06:00:00Z",
        "updated": "2025-03-12T06:00:00Z",
        **values,
    }
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    db.execute(f"INSERT INTO papers ({columns}) VALUES ({marks})", list(row.values()))


def history_before_the_repair(path: Path) -> None:
    """A digest.db as the version before the repair left it, holding every bad value."""
    old = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:REPAIR]:
        migration(old)  # type: ignore[arg-type]
    old.execute(f"PRAGMA user_version = {REPAIR}")
    for number, values in enumerate(BAD_ROWS, start=1):
        insert(old, number, **values)
    insert(old, 90, title="\u202eevil\u202c Title\u200b", abstract="zero\ufeffwidth", upvotes=7)
    insert(old, 91, published="2025-03-11T17:58:02Z", upvotes=41, comments=3)
    old.close()


def test_opening_an_old_history_repairs_the_values_it_could_not_read(tmp_path: Path) -> None:
    history_before_the_repair(tmp_path / "digest.db")
    db = open_history(tmp_path / "digest.db")
    rows = db.execute(
        "SELECT upvotes, comments, version, author_count, published FROM papers WHERE id <= ?",
        (len(BAD_ROWS),),
    ).fetchall()
    assert rows == [(None, None, None, None, None)] * len(BAD_ROWS)
    assert db.execute("SELECT title, abstract, upvotes FROM papers WHERE id = 12").fetchone() == (
        "evil Title",
        "zerowidth",
        7,
    )
    good = db.execute("SELECT published, upvotes, comments FROM papers WHERE id = 13").fetchone()
    assert good == ("2025-03-11T17:58:02Z", 41, 3)  # good values untouched
    # The search index follows the repaired title.
    assert [match.paper_id for match in search(db, "evil")] == [12]
    db.close()


@pytest.mark.parametrize("values", BAD_ROWS, ids=[str(v) for v in BAD_ROWS])
def test_bad_stored_values_read_as_unknown_and_rank_without_error(
    tmp_path: Path, values: dict[str, Any]
) -> None:
    # Rows written after the migration (by hand, by another tool): reading still copes.
    db = open_history(tmp_path / "digest.db")
    insert(db, 1, **values)
    insert(db, 2, upvotes=41, comments=3, published="2025-03-11T17:58:02Z")
    papers = feed_papers(db, since=NOW - timedelta(days=7), limit=10)
    bad = next(paper for paper in papers if paper.id == 1)
    column = next(iter(values))
    if column in ("upvotes", "comments", "version", "author_count"):
        assert getattr(bad, column) is None
    elif values["published"].startswith("1-"):
        assert bad.published == datetime(1, 1, 1, tzinfo=UTC)  # old, not unreadable
    else:
        assert bad.published is None or bad.published.year < 1991
    picks = select(papers, None, SearchIndex(db), Weights(), NOW)
    assert [pick.paper.id for pick in picks] == [2, 1]
    db.close()


@pytest.mark.parametrize(
    "overrides",
    [
        {"upvotes": -1},
        {"upvotes": -1_000_000, "comments": -5},
        {"published": datetime(1, 1, 1, tzinfo=UTC)},
        {"published": datetime(9999, 12, 31, tzinfo=UTC)},
        {"upvotes": 2**63, "comments": 10**30},
    ],
)
def test_ranking_never_raises_on_a_stored_paper(overrides: dict[str, Any], db: Any) -> None:
    papers = [make_stored_paper(id=1, **overrides), make_stored_paper(id=2)]
    picks = select(papers, None, SearchIndex(db), Weights(), NOW)
    assert sorted(pick.paper.id for pick in picks) == [1, 2]
    assert all(0.0 <= pick.score <= 2.0 for pick in picks)


def test_times_are_written_with_a_four_digit_year_and_read_back() -> None:
    year_one = datetime(1, 1, 1, tzinfo=UTC)
    assert iso_utc(year_one) == "0001-01-01T00:00:00Z"
    assert parse_utc(iso_utc(year_one)) == year_one
    assert parse_utc("1-01-01T00:00:00Z") == year_one
    assert parse_utc("999-06-01T00:00:00Z") == datetime(999, 6, 1, tzinfo=UTC)
