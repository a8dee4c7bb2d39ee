"""Each reader's mail holds their topics' papers, in sections, each paper once — or is not sent.

The newsletter composes from a real history database and drains into an
in-memory transport (the one piece of I/O faked here); the ledger is real.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.config import Settings, load_settings
from digest.history import create_digest, record_sightings
from digest.history.deliveries import deliveries_with_status
from digest.history.subscribers import add_subscriber
from digest.model import Digest, Paper
from digest.pipeline.drain import DrainReport, drain
from digest.pipeline.newsletter import Newsletter
from digest.pipeline.readers import SubscriberError, parse_preferences
from digest.pipeline.site import site_tokens
from digest.render.mail import MailMeta, Section, render_digest
from tests.conftest import NOW
from tests.factories import make_stored_paper

TOPICS = """
[[topics]]
slug = "pretraining"
title = "Pre-training"
query = 'pretrain* OR "pre train"*'

[[topics]]
slug = "agents"
title = "Agents"
query = "agent*"
"""
DAY_ONE = [
    Paper("Pretraining Web Agents", abstract="Agents pretrained on browsing traces."),
    Paper("Scaling Pretraining Data"),
    Paper("Agents That Plan"),
    Paper("Protein Folding at Scale"),
]


class MemoryTransport:
    """Keeps what it is handed, per recipient, as a parsed message."""

    def __init__(self) -> None:
        self.sent: dict[str, EmailMessage] = {}

    def send(self, message: bytes, *, sender: str, recipient: str, message_id: str) -> str:
        parsed = message_from_bytes(message, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.sent[recipient] = parsed
        return "250 OK"

    def close(self) -> None:
        pass


def configure(tmp_path: Path, mail: str = "") -> Settings:
    config = tmp_path / "digest.toml"
    config.write_text(f"[mail]\n{mail}\n{TOPICS}")
    return load_settings(config, environ={}, overrides={"data_dir": str(tmp_path)})


def readers(db: sqlite3.Connection, **topics_by_name: tuple[str, ...]) -> None:
    for name, topics in topics_by_name.items():
        add_subscriber(db, f"{name}@example.org", now=NOW - timedelta(days=1), topics=topics)


def run_day(
    settings: Settings, db: sqlite3.Connection, papers: list[Paper], now: datetime
) -> tuple[DrainReport, dict[str, str]]:
    """One day of the pipeline's digest half: record, digest, queue, drain. Returns text parts."""
    record_sightings(db, papers, source="test", run_id=None, now=now, tag_authority="example.org")
    digest = create_digest(db, run_id=None, now=now, day=now.date().isoformat())
    newsletter = Newsletter(settings, db, site_tokens(settings))
    newsletter.queue(digest, now)
    transport = MemoryTransport()
    report = drain(db, transport, newsletter.compose, sender="digest@localhost", clock=lambda: now)
    return report, {
        address.split("@")[0]: text(message) for address, message in transport.sent.items()
    }


def text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_each_reader_gets_their_topics_in_sections_and_a_shared_paper_once(
    tmp_path: Path, db: sqlite3.Connection
) -> None:
    settings = configure(tmp_path)
    readers(db, ada=("agents", "pretraining"), bob=("agents",), carol=())

    report, mail = run_day(settings, db, DAY_ONE, NOW)

    assert report.sent == 3 and report.skipped == 0
    ada = mail["ada"]
    assert (
        "Pre-training\n============\nFeed of this topic: http://localhost:8000/topics/pretraining.atom"
        in ada
    )
    assert "Agents\n======" in ada
    assert ada.count("Pretraining Web Agents") == 1
    assert ada.index("Pre-training\n===") < ada.index("Agents\n===")  # config order
    assert "Protein Folding" not in ada
    assert "matches “pretraining”, “pretrained”" in " ".join(ada.split())
    bob = mail["bob"]
    assert "Pretraining Web Agents" in bob and "Agents That Plan" in bob
    assert "Scaling Pretraining Data" not in bob and "Protein Folding" not in bob
    carol = mail["carol"]
    assert all(paper.title in carol for paper in DAY_ONE)
    assert "====" not in carol  # everything, in the one untitled section


def test_below_min_papers_no_mail_is_sent_and_the_papers_come_with_the_next_one(
    tmp_path: Path, db: sqlite3.Connection
) -> None:
    settings = configure(tmp_path, mail="min_papers = 2")
    readers(db, dora=("agents",), carol=())

    report, mail = run_day(settings, db, [Paper("Agents That Plan"), Paper("Other")], NOW)

    assert (report.sent, report.skipped, report.ok) == (1, 1, True)
    assert set(mail) == {"carol"}
    (skipped,) = deliveries_with_status(db, "skipped")
    assert skipped.recipient == "dora@example.org"
    assert skipped.last_error == "1 paper(s) for this reader, fewer than mail.min_papers = 2"

    # A second run the same day, with nothing new, does not retry the skipped mail.
    assert run_day(settings, db, [], NOW + timedelta(hours=2))[0] == DrainReport()

    later = NOW + timedelta(days=1)
    report, mail = run_day(settings, db, [Paper("Agents That Remember")], later)
    assert report.sent == 1 and "Agents That Plan" in mail["dora"]
    assert "Agents That Remember" in mail["dora"]
    assert "2 new papers" in mail["dora"]


def test_a_reader_of_a_removed_topic_gets_nothing_by_default_and_is_warned_about(
    tmp_path: Path, db: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    settings = configure(tmp_path)
    readers(db, erin=("gone",))

    with caplog.at_level(logging.WARNING):
        report, mail = run_day(settings, db, DAY_ONE, NOW)

    assert "erin" not in mail and report.skipped == 1  # never silently everything
    assert "erin@example.org: topic(s) gone no longer configured" in caplog.text
    assert "mail.orphaned_topics = none" in caplog.text


def test_orphaned_topics_all_gives_the_reader_every_paper(
    tmp_path: Path, db: sqlite3.Connection
) -> None:
    settings = configure(tmp_path, mail='orphaned_topics = "all"')
    readers(db, erin=("gone",))

    _, mail = run_day(settings, db, DAY_ONE, NOW)

    assert all(paper.title in mail["erin"] for paper in DAY_ONE)


def test_the_cap_keeps_the_best_papers_whichever_section_they_are_in() -> None:
    papers = tuple(make_stored_paper(id=i) for i in range(1, 7))  # best first
    sections = [
        Section("Alpha", (4, 5, 1)),
        Section("Beta", (2, 3)),
        Section("Gamma", (6,)),
    ]

    rendered = render_digest(
        Digest(id=1, created=NOW, papers=papers), meta(max_papers=3), day=NOW.date(),
        sections=sections,
    )  # fmt: skip

    assert (rendered.shown, rendered.more) == (3, 3)
    assert "Alpha\n=====" in rendered.text and "Beta\n====" in rendered.text
    assert "Gamma" not in rendered.text  # none of its papers made the cut
    assert "1.  Sparse Experts at Scale, Part 1\n" in rendered.text
    assert "3.  Sparse Experts at Scale, Part 3\n" in rendered.text
    assert "Part 4" not in rendered.text
    assert "Alpha" in rendered.html and "Beta" in rendered.html


def test_thirty_long_papers_in_three_sections_stay_under_100_kb() -> None:
    long_abstract = "Sparse mixtures of experts route tokens to experts. " * 40
    papers = tuple(
        make_stored_paper(id=i, abstract=long_abstract, authors=("A B",) * 12) for i in range(1, 31)
    )
    sections = [Section(f"Topic {n}", tuple(range(n, 31, 3)), None) for n in (1, 2, 3)]
    reasons = {i: "matches “experts”, 41 upvotes on HF, new on arXiv cs.LG" for i in range(1, 31)}

    rendered = render_digest(
        Digest(id=1, created=NOW, papers=papers), meta(), day=NOW.date(), reasons=reasons,
        sections=sections,
    )  # fmt: skip

    assert len(rendered.html.encode()) + len(rendered.text.encode()) < 100_000


@pytest.mark.parametrize(
    ("known", "message"),
    [
        (["agents", "pretraining"], "unknown topic(s) rl (configured topics: agents, pretraining)"),
        ([], "unknown topic(s) agents, rl (digest.toml configures no [[topics]] yet)"),
    ],
)
def test_a_reader_can_only_pick_configured_topics(known: list[str], message: str) -> None:
    with pytest.raises(SubscriberError) as caught:
        parse_preferences("agents,rl", "daily", "mon", known_topics=known)
    assert str(caught.value) == message


def meta(max_papers: int = 30) -> MailMeta:
    return MailMeta(
        site_title="Papers",
        site_url="https://papers.example.org/",
        feed_url="https://papers.example.org/feed.atom",
        archive_url=None,
        from_address="Papers <papers@example.org>",
        list_id="daily.papers.example.org",
        message_domain="example.org",
        max_papers=max_papers,
    )
