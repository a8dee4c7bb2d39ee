"""Follow-ups in chat channels, in process: the real ledger and composer, a recording poster.

A channel hears of news on a paper one of its sent posts showed, in its next
post, once. A post that would hold only updates waits unless ``send_alone``;
updates a post has no room for wait for the next post rather than vanish.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from digest.config import Settings, load_settings
from digest.deliver.channels import Service
from digest.history import create_digest, record_sightings
from digest.history.channels import channel_posts
from digest.history.follow_ups import Watch
from digest.model import Paper, PaperDetails
from digest.pipeline.channels import Poster, drain_channels, queue_channels
from tests.conftest import NOW

CHANNELS = """
[[topics]]
slug = "agents"
title = "Agents"
query = "agent*"

[[channels]]
name = "team"
url = "json://127.0.0.1:9/team"
topics = ["agents"]
"""
WATCH = Watch(since=NOW - timedelta(days=30))


class Recorder:
    """A poster that keeps each (title, body) and allows ``limit`` characters of body."""

    def __init__(self, limit: int = 100_000) -> None:
        self.posts: list[tuple[str, str]] = []
        self.limit = limit

    def poster(self) -> Poster:
        return Poster(
            service=lambda url: Service("json", self.limit, 250, url),
            post=lambda url, title, body: self.posts.append((title, body)),
        )


def configure(tmp_path: Path, follow_ups: str = "") -> Settings:
    config = tmp_path / "digest.toml"
    config.write_text(f"[follow_ups]\n{follow_ups}\n{CHANNELS}")
    return load_settings(config, environ={}, overrides={"data_dir": str(tmp_path)})


def day(
    settings: Settings, db: sqlite3.Connection, papers: list[Paper], now: datetime, to: Recorder
) -> None:
    """One run's channel half: record the listing, make the digest, queue and drain the posts."""
    record_sightings(
        db, papers, source="test", run_id=None, now=now, tag_authority="example.org", watch=WATCH
    )
    create_digest(db, run_id=None, now=now, day=now.date().isoformat())
    queue_channels(settings, db, now)
    drain_channels(settings, db, clock=lambda: now, poster=to.poster())


def with_code(title: str, n: int = 1) -> Paper:
    return Paper(title, details=PaperDetails(github_repo=f"https://github.com/lab/repo{n}"))


def updates_in(body: str) -> list[str]:
    if "**Updates**\n" not in body:
        return []
    return body.split("**Updates**\n", 1)[1].splitlines()


def test_updates_alone_wait_for_a_post_with_papers_then_go_once(
    tmp_path: Path, db: sqlite3.Connection
) -> None:
    settings, team = configure(tmp_path), Recorder()
    day(settings, db, [Paper("Agents That Plan"), Paper("Protein Folding")], NOW, team)
    # Day 2: the agents paper gets code; the day's only new paper is not for this channel.
    day2 = NOW + timedelta(days=1)
    day(settings, db, [with_code("Agents That Plan"), Paper("Protein Design")], day2, team)
    day(settings, db, [Paper("Agents That Code")], day2 + timedelta(days=1), team)
    day(settings, db, [Paper("Agents That Rest")], day2 + timedelta(days=2), team)

    assert [title for title, _ in team.posts] == [
        "1 new paper \u2014 Wed 12 Mar",
        "1 new paper, 1 update \u2014 Fri 14 Mar",
        "1 new paper \u2014 Sat 15 Mar",
    ]
    [line] = updates_in(team.posts[1][1])
    assert line.startswith("- [Agents That Plan](") and "Code released" in line
    skipped = [row for row in channel_posts(db, "team") if row.status == "skipped"]
    assert [row.last_error for row in skipped] == [
        "no papers for its topics (its updates wait: follow_ups.send_alone is false)"
    ]


def test_with_send_alone_a_post_of_updates_alone_goes(
    tmp_path: Path, db: sqlite3.Connection
) -> None:
    settings, team = configure(tmp_path, "send_alone = true"), Recorder()
    day(settings, db, [Paper("Agents That Plan")], NOW, team)
    day(settings, db, [with_code("Agents That Plan"), Paper("Protein Design")], NOW + timedelta(days=1), team)  # fmt: skip

    assert [title for title, _ in team.posts][1:] == ["1 update \u2014 Thu 13 Mar"]


def test_updates_without_room_wait_for_the_next_post_and_none_comes_twice(
    tmp_path: Path, db: sqlite3.Connection
) -> None:
    settings, team = configure(tmp_path), Recorder(limit=900)
    agents = [Paper(f"Agents That Plan, Part {n}") for n in range(1, 9)]
    day(settings, db, agents[:4], NOW, team)
    day(settings, db, agents[4:], NOW + timedelta(hours=1), team)
    news = [with_code(paper.title, n) for n, paper in enumerate(agents, start=1)]
    later = NOW + timedelta(days=1)
    for n in range(4):
        day(settings, db, [*news, Paper(f"Agents That Rest {n}")], later + timedelta(days=n), team)

    lines = [line for _, body in team.posts[2:] for line in updates_in(body)]
    assert all(len(body) <= 900 for _, body in team.posts)
    assert len(updates_in(team.posts[2][1])) < 8, "no room for all eight at once"
    assert sorted(lines) == sorted(set(lines)) and len(lines) == 8, "each once, none lost"
