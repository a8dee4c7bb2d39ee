"""Topics end to end: the real CLI in a subprocess, digest.toml with topics, readers, a Maildir.

Readers are added with `digest subscribers add --topics`, `digest run` reads
the offline examples, and the test reads what arrived in data/outbox and the
topic feeds in data/topics — checked against the papers table read directly.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner

from digest.cli import main
from tests.e2e.test_end_to_end import EXAMPLES, digest_cli, outbox, run_json

CONFIG = """
[mail]
min_papers = 2

[[topics]]
slug = "diffusion"
title = "Diffusion"
query = "diffusion"

[[topics]]
slug = "language-models"
title = "Language models"
query = '"language model"*'

[[topics]]
slug = "meridian"
title = "Meridian ML"
organizations = ["Meridian ML"]

[[topics]]
slug = "seismology"
title = "Seismology"
query = "seismic*"
"""
READERS = {
    "ada@example.org": "diffusion,language-models",
    "bob@example.org": "meridian",
    "carol@example.org": "",
    "dan@example.org": "seismology",
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One `digest run` over the examples, for readers of different topics."""
    home = tmp_path_factory.mktemp("topics")
    (home / "digest.toml").write_text(CONFIG)
    for address, topics in READERS.items():
        done = digest_cli(home, "subscribers", "add", address, "--topics", topics)
        assert done.returncode == 0, done.stderr
    report = run_json(home, "--source", str(EXAMPLES))
    mail = {str(m["To"]): text_of(m) for m in outbox(home)}
    with sqlite3.connect(home / "data" / "digest.db") as db:
        papers = db.execute("SELECT title, abstract, organization FROM papers").fetchall()
    return {"home": home, "report": report, "mail": mail, "papers": papers}


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content()).replace("\r\n", "\n")


def titles_where(ran: dict[str, Any], pattern: str) -> set[str]:
    found = re.compile(pattern, re.IGNORECASE)
    return {title for title, abstract, _ in ran["papers"] if found.search(f"{title}\n{abstract}")}


def shown(ran: dict[str, Any], mail_text: str) -> list[str]:
    """The titles a text part shows, once per time shown (titles wrap, so compare words)."""
    flat = " ".join(mail_text.split())
    return sorted(
        title for title, _, _ in ran["papers"] for _ in range(flat.count(" ".join(title.split())))
    )


def test_each_reader_gets_the_papers_of_their_topics_once(ran: dict[str, Any]) -> None:
    diffusion = titles_where(ran, r"\bdiffusion")
    language = titles_where(ran, r"\blanguage\W+model")
    assert diffusion & language, "the examples have a paper in both of ada's topics"

    ada = ran["mail"]["ada@example.org"]
    assert shown(ran, ada) == sorted(diffusion | language)
    assert "Diffusion\n=========" in ada and "Language models\n===============" in ada
    # Each entry's meta line ends with its reason, said once.
    assert " ".join(ada.split()).count(" matches \u201c") == len(diffusion | language)


def test_an_organisation_topic_gets_that_organisations_papers(ran: dict[str, Any]) -> None:
    meridian = {title for title, _, organization in ran["papers"] if organization == "Meridian ML"}
    bob = ran["mail"]["bob@example.org"]
    assert shown(ran, bob) == sorted(meridian) and len(meridian) == 2
    assert "from Meridian ML" in " ".join(bob.split())


def test_a_reader_without_topics_gets_everything_ranked(ran: dict[str, Any]) -> None:
    carol = ran["mail"]["carol@example.org"]
    assert shown(ran, carol) == sorted(title for title, _, _ in ran["papers"])
    assert len(ran["papers"]) == 28 and "====" not in carol
    most_upvoted = "Sparse Autoencoders Find Shared Features Across Language Models"  # 64
    assert f"1. {most_upvoted}" in " ".join(carol.split())


def test_below_min_papers_the_reader_gets_no_mail_and_the_ledger_says_why(
    ran: dict[str, Any],
) -> None:
    assert len(titles_where(ran, r"\bseismic")) == 1
    assert "dan@example.org" not in ran["mail"]
    assert ran["report"]["deliveries"]["sent"] == 3
    assert ran["report"]["deliveries"]["skipped"] == 1
    with sqlite3.connect(ran["home"] / "data" / "digest.db") as db:
        ((status, why),) = db.execute(
            "SELECT status, last_error FROM deliveries WHERE recipient = 'dan@example.org'"
        ).fetchall()
    assert (status, why) == (
        "skipped",
        "1 paper(s) for this reader, fewer than mail.min_papers = 2",
    )


def test_every_topic_has_its_own_feed_with_every_match_and_reasons(ran: dict[str, Any]) -> None:
    topics = ran["home"] / "data" / "topics"
    slugs = ["diffusion", "language-models", "meridian", "seismology"]
    # Each topic is an Atom feed and its JSON Feed twin.
    assert sorted(path.name for path in topics.iterdir()) == sorted(
        f"{slug}.{kind}" for slug in slugs for kind in ("atom", "json")
    )
    feed = feedparser.parse((topics / "diffusion.atom").read_bytes())
    assert not feed.bozo
    assert feed.feed.id == "http://localhost:8000/topics/diffusion.atom"
    assert feed.feed.title == "Paper digest \u2014 Diffusion"
    assert {entry.title for entry in feed.entries} == titles_where(ran, r"\bdiffusion")
    assert all("matches \u201cdiffusion\u201d" in entry.summary for entry in feed.entries)


def test_the_main_feed_carries_a_reason_for_every_paper(ran: dict[str, Any]) -> None:
    feed = feedparser.parse((ran["home"] / "data" / "feed.atom").read_bytes())
    assert len(feed.entries) == 28
    reasons = re.compile(r"(new on|cross-listed on|updated on|seen on|seen in) |upvotes? on HF")
    assert all(reasons.search(entry.summary) for entry in feed.entries)
    assert any("new on arXiv cs.LG" in entry.summary for entry in feed.entries)


def test_topics_test_and_search_show_what_a_query_would_pick(ran: dict[str, Any]) -> None:
    home = ran["home"]
    tried = digest_cli(home, "topics", "test", "diffusion", "--days", "3650")
    assert tried.returncode == 0, tried.stderr
    for title in titles_where(ran, r"\bdiffusion"):
        assert title in tried.stdout
    assert f"diffusion: {len(titles_where(ran, r'diffusion'))} paper(s)" in tried.stderr

    found = digest_cli(home, "search", '"language model"* NOT diffusion', "--limit", "50")
    assert found.returncode == 0, found.stderr
    expected = titles_where(ran, r"\blanguage\W+model") - titles_where(ran, r"\bdiffusion")
    assert sorted(re.findall(r"^ +\d+\. (.+)$", found.stdout, re.M)) == sorted(expected)


def test_the_cli_refuses_unknown_topics_and_bad_queries(
    ran: dict[str, Any], tmp_path: Path
) -> None:
    home = ran["home"]
    refused = digest_cli(home, "subscribers", "add", "eve@example.org", "--topics", "difusion")
    assert refused.returncode == 1
    assert (
        "unknown topic(s) difusion (configured topics: diffusion, language-models" in refused.stderr
    )

    assert digest_cli(home, "topics", "test", "nope").returncode == 2
    assert digest_cli(home, "search", "pre-train").returncode == 2

    (tmp_path / "digest.toml").write_text('[[topics]]\nslug = "x"\nquery = "pre-train"\n')
    failed = digest_cli(tmp_path, "run", "--source", str(EXAMPLES))
    assert failed.returncode == 2
    assert "[[topics]] slug = 'x'" in failed.stderr and "double quotes" in failed.stderr


def test_topics_list_shows_each_topic_its_readers_and_its_feed(ran: dict[str, Any]) -> None:
    listed = digest_cli(ran["home"], "topics", "list")
    assert listed.returncode == 0, listed.stderr
    feed = ran["home"] / "data" / "topics" / "meridian.atom"
    assert f"meridian\tMeridian ML\t1 reader(s)\t{feed}" in listed.stdout
    assert "query: (everything); organizations: Meridian ML" in listed.stdout


@pytest.mark.parametrize(
    "command", [("search",), ("topics",), ("topics", "list"), ("topics", "test")]
)
def test_every_topics_command_documents_itself_with_an_example(command: tuple[str, ...]) -> None:
    done = CliRunner().invoke(main, [*command, "--help"])
    assert done.exit_code == 0
    assert "Example" in done.output
    assert len(done.output.splitlines()) > 4
