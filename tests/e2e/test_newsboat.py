"""A real feed reader reads the served feed: newsboat (Debian package `newsboat`), headless.

newsboat reloads with ``-x reload`` into a cache database in tmp, and we read
that database the way newsboat's own UI would: every entry of the feed must be
there, once. A logging wrapper around the app records what newsboat sent, so
the test sees its conditional requests get 304.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import feedparser
import httpx
import pytest

from digest.web import create_app
from tests.web.test_reader_feeds import ADA, served, url_of
from tests.web_server import EXAMPLES, RequestLog, digest_run, live_server

pytestmark = pytest.mark.skipif(
    shutil.which("newsboat") is None,
    reason="newsboat is not installed (Debian: apt-get install -y newsboat)",
)


def newsboat(home: Path, *commands: str) -> str:
    environment = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                   "XDG_DATA_HOME": str(home / ".local" / "share")}  # fmt: skip
    done = subprocess.run(
        ["newsboat", "-u", str(home / "urls"), "-c", str(home / "cache.db"),
         "-C", str(home / "config"), "-x", *commands],
        env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def cached_items(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "cache.db") as db:
        return sorted(db.execute("SELECT guid, title FROM rss_item").fetchall())


def test_newsboat_reads_the_feed_and_then_asks_conditionally(tmp_path: Path) -> None:
    log = RequestLog()
    home = tmp_path / "reader"
    home.mkdir()
    with live_server(tmp_path, lambda settings: log.wrap(create_app(settings))) as server:
        digest_run(
            server.config, EXAMPLES / "hf-daily-2025-03-12.json", EXAMPLES / "arxiv-cs.LG.rss"
        )
        feed = feedparser.parse(server.settings.data_dir / "feed.atom")
        expected = sorted((entry.id, entry.title) for entry in feed.entries)
        assert expected
        (home / "urls").write_text(server.url("/feed.atom") + "\n")
        (home / "config").write_text("download-retries 1\n")

        for _ in range(3):
            newsboat(home, "reload")
        assert f"{len(expected)} unread articles" in newsboat(home, "print-unread")
        assert cached_items(home) == expected

        fetches = log.for_path("/feed.atom")
        assert [seen.status for seen in fetches] == [200, 200, 304]
        # newsboat 2.21 writes the first response's validators before it has a row
        # for the feed, so they are lost; from the second response on it keeps them.
        conditional = fetches[2].headers
        assert "if-none-match" in conditional and "if-modified-since" in conditional
        assert "gzip" in fetches[0].headers["accept-encoding"]

        digest_run(server.config, EXAMPLES / "hf-papers-2025-03-13.html")
        newsboat(home, "reload")
        assert log.for_path("/feed.atom")[-1].status == 200, "a changed feed is sent again"
        newer = feedparser.parse(server.settings.data_dir / "feed.atom")
        assert len(newer.entries) > len(expected)
        assert cached_items(home) == sorted((entry.id, entry.title) for entry in newer.entries)


def test_newsboat_reads_a_readers_private_feed(tmp_path: Path) -> None:
    home = tmp_path / "reader"
    home.mkdir()
    with served(tmp_path) as (server, _):
        address = url_of(server, ADA)
        (home / "urls").write_text(address + "\n")
        (home / "config").write_text("download-retries 1\n")
        newsboat(home, "reload")
        expected = sorted(
            (entry.id, entry.title) for entry in feedparser.parse(httpx_get(address)).entries
        )

    assert [title for _, title in expected] == sorted(
        ["Agents That Plan", "Pretraining Web Agents"]
    )
    assert cached_items(home) == expected


def httpx_get(url: str) -> bytes:

    return httpx.get(url).content
