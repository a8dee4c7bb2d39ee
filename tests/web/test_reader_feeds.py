"""Private reader feeds: a signed URL per reader holding their newsletter's papers, revoked on leaving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import feedparser
import httpx

from digest.history import open_history
from digest.history.subscribers import add_subscriber, find_subscriber, set_status
from digest.pipeline.reader_feeds import feed_urls
from digest.pipeline.site import site_tokens
from digest.web import create_app
from tests.conftest import NOW
from tests.pipeline.test_topics_mail import DAY_ONE, TOPICS, run_day
from tests.web_server import Clock, LiveServer, live_server

ADA, BOB = "ada@example.org", "bob@example.org"


@contextmanager
def served(tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """A server whose history has DAY_ONE mailed to Ada (agents) and Bob (everything)."""
    with live_server(
        tmp_path,
        lambda s: create_app(s, clock=Clock(NOW + timedelta(hours=1))),
        extra_config=TOPICS,
    ) as server:
        db = open_history(server.settings.data_dir / "digest.db")
        try:
            add_subscriber(db, ADA, now=NOW - timedelta(days=1), topics=("agents",))
            add_subscriber(db, BOB, now=NOW - timedelta(days=1))
            _, mails = run_day(server.settings, db, DAY_ONE, NOW)
        finally:
            db.close()
        yield server, mails


def url_of(server: LiveServer, email: str, kind: int = 0) -> str:
    db = open_history(server.settings.data_dir / "digest.db")
    try:
        reader = find_subscriber(db, email)
        assert reader is not None
        return feed_urls(server.settings, site_tokens(server.settings), reader)[kind]
    finally:
        db.close()


def test_a_reader_feed_holds_exactly_their_newsletters_papers(tmp_path: Path) -> None:
    with served(tmp_path) as (server, mails), httpx.Client() as client:
        ada = client.get(url_of(server, ADA))
        ada_json = client.get(url_of(server, ADA, kind=1))
        bob = client.get(url_of(server, BOB))

    assert ada.status_code == 200 and ada.headers["x-robots-tag"] == "noindex"
    assert ada.headers["cache-control"].startswith("private")
    titles = {entry.title for entry in feedparser.parse(ada.content).entries}
    assert titles == {"Pretraining Web Agents", "Agents That Plan"}
    assert all(title in mails["ada"] for title in titles)
    assert "Protein Folding at Scale" not in mails["ada"]
    assert [item["id"] for item in json.loads(ada_json.content)["items"]] == [
        entry.id for entry in feedparser.parse(ada.content).entries
    ]
    assert len(feedparser.parse(bob.content).entries) == len(DAY_ONE)


def test_the_newsletter_footer_and_the_preferences_page_show_the_feed(tmp_path: Path) -> None:
    with served(tmp_path) as (server, mails), httpx.Client() as client:
        address = url_of(server, ADA)
        db = open_history(server.settings.data_dir / "digest.db")
        reader = find_subscriber(db, ADA)
        db.close()
        assert reader is not None
        token = site_tokens(server.settings).for_subscriber(reader.id)
        preferences = client.get(server.url(f"/preferences/{token}"))

    assert f"Your feed: {address}" in mails["ada"]
    assert address in preferences.text and url_of(server, ADA, kind=1) in preferences.text


def test_a_forged_or_revoked_feed_is_not_found_and_coming_back_gives_a_new_one(
    tmp_path: Path,
) -> None:
    with served(tmp_path) as (server, _), httpx.Client() as client:
        address = url_of(server, ADA)
        token = address.split("/readers/")[1].split("/")[0]
        forged = address.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
        other_kind = address.replace("feed.atom", "feed.rss")
        assert client.get(forged).status_code == 404
        assert client.get(other_kind).status_code == 404
        db = open_history(server.settings.data_dir / "digest.db")
        try:
            reader = find_subscriber(db, ADA)
            assert reader is not None
            set_status(db, reader.id, "unsubscribed", NOW)
            revoked = client.get(address)
            add_subscriber(db, ADA, now=NOW, topics=("agents",))  # comes back
        finally:
            db.close()
        again = url_of(server, ADA)
        assert client.get(address).status_code == 404
        assert client.get(again).status_code == 200

    assert revoked.status_code == 404
    assert again != address


def test_digest_subscribers_feed_prints_the_address(tmp_path: Path) -> None:
    with served(tmp_path) as (server, _):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        command = [
            sys.executable,
            "-m",
            "digest",
            "--config",
            str(server.config),
            "subscribers",
            "feed",
        ]
        printed = subprocess.run(
            [*command, ADA.upper()], capture_output=True, text=True, env=environment, timeout=60
        )
        as_json = subprocess.run(
            [*command, ADA, "--json"], capture_output=True, text=True, env=environment, timeout=60
        )
        nobody = subprocess.run(
            [*command, "nobody@example.org"],
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
        )
        expected = url_of(server, ADA), url_of(server, ADA, kind=1)

    assert printed.returncode == 0 and printed.stdout.strip() == expected[0]
    assert json.loads(as_json.stdout) == {"email": ADA, "atom": expected[0], "json": expected[1]}
    assert nobody.returncode == 1 and "not an active reader" in nobody.stderr
