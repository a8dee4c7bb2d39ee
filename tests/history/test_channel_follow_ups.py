"""Follow-ups in the channel ledger, and the Hugging Face check's turn: what history remembers.

A channel hears of an event on a paper one of its *sent* posts showed, once:
the row (event, channel) is written with the post that carries it, and a
skipped post gives it back. The daily HF check asks the papers it asked least
recently first, so a window larger than ``hf_per_day`` is covered in turn.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from digest import history
from digest.history.channels import mark_channel_posts, open_channel_posts, queue_channel_posts
from digest.history.follow_ups import (
    Watch,
    channel_events_due,
    hf_check_turn,
    mark_hf_checked,
    post_events,
    record_posted,
)
from digest.model import NO_DETAILS, Paper, PaperDetails
from tests.factories import FIRST_SEEN

SINCE = FIRST_SEEN - timedelta(days=30)
WATCH = Watch(since=SINCE)
REPO = "https://github.com/a/b"


def sighting(n: int, details: PaperDetails = NO_DETAILS) -> Paper:
    """Paper ``n`` as Hugging Face lists it (so the HF check asks about it)."""
    arxiv_id = f"2503.{n:05d}"
    hf_url = f"https://huggingface.co/papers/{arxiv_id}"
    return Paper(
        title=f"Paper {n}", arxiv_id=arxiv_id, url=hf_url, details=replace(details, hf_url=hf_url)
    )


def see(db: sqlite3.Connection, papers: list[Paper], at: datetime) -> None:
    history.record_sightings(
        db, papers, source="hf", run_id=None, now=at, tag_authority="example.org", watch=WATCH
    )


def digest_of(db: sqlite3.Connection, papers: list[Paper], at: datetime) -> None:
    see(db, papers, at)
    assert history.create_digest(db, run_id=None, now=at, day=at.date().isoformat())


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    return history.open_history(tmp_path / "digest.db")


def post(db: sqlite3.Connection, channel: str, at: datetime, status: str = "sent") -> list[int]:
    """Queue the channel's posts, 'send' them showing every paper of their digests; their ids."""
    queue_channel_posts(db, [channel], at, follow_since=SINCE)
    rows = open_channel_posts(db, channel)
    for row in rows:
        papers = history.digest_papers(db, row.digest_id)
        record_posted(db, [row.id], [paper.id for paper in papers], [])
    mark_channel_posts(db, [row.id for row in rows], status, at)
    return [row.id for row in rows]


def test_a_channel_that_was_shown_a_paper_gets_its_news_once_with_its_next_post(
    db: sqlite3.Connection,
) -> None:
    digest_of(db, [sighting(1)], FIRST_SEEN)
    post(db, "lab", FIRST_SEEN)
    later = FIRST_SEEN + timedelta(days=1)
    see(db, [sighting(1, PaperDetails(github_repo=REPO))], later)
    assert channel_events_due(db, ["lab"], since=SINCE)

    digest_of(db, [sighting(2)], later + timedelta(hours=1))
    queue_channel_posts(db, ["lab"], later + timedelta(hours=1), follow_since=SINCE)
    [row] = open_channel_posts(db, "lab")
    assert [(e.kind, e.value) for e in post_events(db, [row.id])] == [("code", REPO)]
    assert not channel_events_due(db, ["lab"], since=SINCE), "given to that post already"

    record_posted(db, [row.id], [], [e.id for e in post_events(db, [row.id])])
    mark_channel_posts(db, [row.id], "sent", later + timedelta(hours=1))
    digest_of(db, [sighting(3)], later + timedelta(days=1))
    [ids] = [post(db, "lab", later + timedelta(days=1))]
    assert post_events(db, ids) == [], "never twice"


def test_a_channel_never_shown_the_paper_or_whose_post_was_not_sent_hears_nothing(
    db: sqlite3.Connection,
) -> None:
    digest_of(db, [sighting(1)], FIRST_SEEN)
    post(db, "lab", FIRST_SEEN, status="retry")  # never arrived
    queue_channel_posts(db, ["team"], FIRST_SEEN, follow_since=SINCE)
    [team] = open_channel_posts(db, "team")
    record_posted(db, [team.id], [], [])  # its topics picked nothing
    mark_channel_posts(db, [team.id], "sent", FIRST_SEEN)
    see(db, [sighting(1, PaperDetails(github_repo=REPO))], FIRST_SEEN + timedelta(days=1))

    assert not channel_events_due(db, ["lab", "team"], since=SINCE)


def test_a_skipped_post_gives_its_updates_back_and_one_without_room_keeps_only_what_it_shows(
    db: sqlite3.Connection,
) -> None:
    digest_of(db, [sighting(1), sighting(2)], FIRST_SEEN)
    post(db, "lab", FIRST_SEEN)
    later = FIRST_SEEN + timedelta(days=1)
    see(db, [sighting(1, PaperDetails(github_repo=REPO)), sighting(2, PaperDetails(
        project_page="https://b.example.org"))], later)  # fmt: skip

    digest_of(db, [sighting(3)], later)
    queue_channel_posts(db, ["lab"], later, follow_since=SINCE)
    [skipped] = open_channel_posts(db, "lab")
    assert len(post_events(db, [skipped.id])) == 2
    mark_channel_posts(db, [skipped.id], "skipped", later)
    assert post_events(db, [skipped.id]) == [] and channel_events_due(db, ["lab"], since=SINCE)

    digest_of(db, [sighting(4)], later + timedelta(days=1))
    queue_channel_posts(db, ["lab"], later + timedelta(days=1), follow_since=SINCE)
    [row] = open_channel_posts(db, "lab")
    first, _second = post_events(db, [row.id])
    record_posted(db, [row.id], [], [first.id])  # room for one line only
    assert post_events(db, [row.id]) == [first]
    assert channel_events_due(db, ["lab"], since=SINCE), "the other waits for the next post"


def test_the_hf_check_asks_the_papers_asked_least_recently_first(db: sqlite3.Connection) -> None:
    # Seven papers in the window, a day apart; three asked a day.
    for n in range(1, 8):
        see(db, [sighting(n)], FIRST_SEEN + timedelta(days=n))
    start = FIRST_SEEN + timedelta(days=10)
    asked: list[list[str]] = []
    for day in range(4):
        now = start + timedelta(days=day)
        turn = hf_check_turn(db, since=SINCE, before=now, limit=3)
        mark_hf_checked(db, turn, now)
        asked.append([arxiv_id[-1] for arxiv_id in turn])

    assert asked[0] == ["7", "6", "5"], "never asked: the newest first"
    assert asked[1] == ["4", "3", "2"]
    assert asked[2] == ["1", "7", "6"], "then the oldest answers"
    assert asked[3] == ["5", "4", "3"]
    first_round = {n for day in asked[: math.ceil(7 / 3)] for n in day}
    assert first_round == {str(n) for n in range(1, 8)}, "each within ceil(N / per day) days"
    assert hf_check_turn(db, since=SINCE, before=start, limit=0) == []
