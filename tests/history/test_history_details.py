"""What sources say beyond the basics survives history: stored, merged newest-first, migrated."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.history import feed_papers, open_history, record_sightings
from digest.history.schema import MIGRATIONS
from digest.history.search import search
from digest.model import NO_DETAILS, Paper, PaperDetails, StoredPaper
from digest.sources.arxiv import parse_listing, parse_rss
from digest.sources.hf import parse_api
from tests.conftest import NOW
from tests.support import fixture

HF_DAY = "https://huggingface.co/api/daily_papers?date=2025-03-12"
LISTING = "https://arxiv.org/list/cs.LG/new"
RSS = "https://rss.arxiv.org/rss/cs.LG"


def record(db: sqlite3.Connection, papers: tuple[Paper, ...], source: str, now=NOW):  # type: ignore[no-untyped-def]
    return record_sightings(
        db, list(papers), source=source, run_id=None, now=now, tag_authority="example.org"
    )


def stored(db: sqlite3.Connection) -> dict[str | None, StoredPaper]:
    papers = feed_papers(db, since=NOW - timedelta(days=30), limit=100)
    return {paper.arxiv_id: paper for paper in papers}


def test_hf_details_are_stored_and_read_back(db: sqlite3.Connection) -> None:
    record(db, parse_api(fixture("hf_daily_papers_2025-03-12.json"), HF_DAY).papers, "hf")

    details = stored(db)["2503.08123"].details

    assert details.ai_summary == (
        "Sparse replay buffers recover most of the forgetting gap in continual instruction tuning."
    )
    assert details.ai_keywords == ("continual learning", "instruction tuning", "replay buffer")
    assert (details.github_repo, details.github_stars) == (
        "https://github.com/example-lab/sparse-replay",
        128,
    )
    assert details.project_page == "https://sparse-replay.github.io"
    assert details.hf_url == "https://huggingface.co/papers/2503.08123"
    assert details.featured_at == datetime(2025, 3, 12, 1, 2, 47, tzinfo=UTC)  # to the second


def test_sightings_from_two_sources_merge_their_details(db: sqlite3.Connection) -> None:
    record(db, parse_listing(fixture("arxiv_list_cs.LG_new.html"), LISTING).papers, "arxiv")
    record(db, parse_api(fixture("hf_daily_papers_2025-03-12.json"), HF_DAY).papers, "hf")

    details = stored(db)["2503.08123"].details

    # arXiv's facts stay, HF's arrive: a sighting without a field never blanks it
    assert details.primary_category == "cs.LG"
    assert details.arxiv_comment is not None and details.arxiv_comment.startswith("14 pages")
    assert details.pdf_url == "https://arxiv.org/pdf/2503.08123"
    assert details.github_stars == 128
    assert details.hf_url == "https://huggingface.co/papers/2503.08123"


def test_a_later_sighting_s_non_empty_value_wins_and_updated_stays(
    db: sqlite3.Connection,
) -> None:
    first = Paper(
        "Sparse Replay",
        arxiv_id="2503.08123",
        details=PaperDetails(github_stars=128, project_page="https://sparse-replay.github.io"),
    )
    later = Paper(
        "Sparse Replay",
        arxiv_id="2503.08123",
        details=PaperDetails(github_stars=301, github_repo="https://github.com/example-lab/sr"),
    )
    record(db, (first,), "hf")
    record(db, (later,), "hf", now=NOW + timedelta(days=1))

    paper = stored(db)["2503.08123"]

    assert paper.details.github_stars == 301
    assert paper.details.github_repo == "https://github.com/example-lab/sr"
    assert paper.details.project_page == "https://sparse-replay.github.io"  # later had none
    assert paper.updated == NOW  # stars are signals, not revisions


def test_the_first_listing_names_the_category_it_was_listed_in(
    db: sqlite3.Connection,
) -> None:
    cross = Paper("Speech LM", arxiv_id="2503.07911", announce_type="cross")
    record(db, (replace(cross, details=PaperDetails(listed_in="cs.LG")),), "arxiv cs.LG")
    record(db, (replace(cross, details=PaperDetails(listed_in="cs.CL")),), "arxiv cs.CL")

    assert stored(db)["2503.07911"].details.listed_in == "cs.LG"


def test_a_new_version_brings_its_own_source_text(db: sqlite3.Connection) -> None:
    record(db, parse_rss(fixture("arxiv_rss_cs.LG.xml"), RSS).papers, "rss")
    revised = Paper(
        "Bounds on k-Sparse Attention, Revised",
        abstract="No TeX here any more.",
        arxiv_id="2411.01234",
        version=4,
    )
    record(db, (revised,), "api", now=NOW + timedelta(days=2))

    details = stored(db)["2411.01234"].details

    assert (details.title_tex, details.abstract_tex) == (None, None)


def test_papers_without_details_read_back_with_none(db: sqlite3.Connection) -> None:
    record(db, (Paper("Plain Paper", arxiv_id="2503.00001"),), "text")

    assert stored(db)["2503.00001"].details is NO_DETAILS


def _history_before_details(path: Path) -> sqlite3.Connection:
    before = [migration.__name__ for migration in MIGRATIONS].index("_add_details")
    old = sqlite3.connect(path)
    for migration in MIGRATIONS[:before]:
        migration(old)
    old.execute(f"PRAGMA user_version = {before}")
    return old


def test_opening_an_older_history_makes_its_tex_readable_and_keeps_the_tex(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    old = _history_before_details(path)
    old.execute(
        "INSERT INTO papers (uid, arxiv_id, title_key, title, abstract, authors, first_seen, "
        "updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "https://arxiv.org/abs/2411.01234",
            "2411.01234",
            "bounds on k sparse attention",
            "Bounds on $k$-Sparse Attention",
            r"We reach $O(\log T)$ regret on 50% of Bolet\'{\i}n's tasks {\it vs.} baselines.",
            '["Tom\\\\\'as Ruiz"]',
            "2025-03-12T06:00:00Z",
            "2025-03-12T06:00:00Z",
        ),
    )
    old.execute(
        "INSERT INTO papers (uid, title_key, title, first_seen, updated) VALUES "
        "('tag:x,2025-03-12:paper/1', 'plain', 'Plain', '2025-03-12T06:00:00Z', "
        "'2025-03-12T06:00:00Z')"
    )
    old.commit()
    old.close()

    db = open_history(path)
    papers = {p.title: p for p in feed_papers(db, since=NOW - timedelta(days=30), limit=10)}

    converted = papers["Bounds on k-Sparse Attention"]
    assert converted.abstract == "We reach O(log T) regret on 50% of Boletín's tasks vs. baselines."
    assert converted.authors == ("Tomás Ruiz",)
    assert converted.details.title_tex == "Bounds on $k$-Sparse Attention"
    assert converted.details.abstract_tex is not None
    assert converted.details.abstract_tex.startswith("We reach $O(\\log T)$")
    assert converted.uid == "https://arxiv.org/abs/2411.01234"  # permanent
    assert papers["Plain"].details is NO_DETAILS  # an old row renders as before
    assert [match.paper_id for match in search(db, "Boletín")] == [converted.id]  # re-indexed
    db.close()
