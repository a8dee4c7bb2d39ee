"""JSON Feed and the feed stylesheet over real HTTP, and the Atom feed as a page in Chromium."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import feedparser
import httpx
import pytest
from playwright.sync_api import Browser

from digest.web import create_app
from tests.render.test_render_jsonfeed import check_json_feed_1_1
from tests.support import OUTPUT
from tests.web.test_web_feeds import NOW, fill_history, served
from tests.web_server import Clock, live_server

TOPICS = '\n[[topics]]\nslug = "ml"\ntitle = "Machine learning"\n'


def test_feed_json_is_served_like_the_atom_feed_with_the_same_ids(tmp_path: Path) -> None:
    with (
        served(tmp_path, site={"language": "de"}) as server,
        httpx.Client(base_url=server.base) as client,
    ):
        fill_history(server.config)
        atom = client.get("/feed.atom")
        answer = client.get("/feed.json", headers={"Accept-Encoding": "gzip"})
        again = client.get("/feed.json", headers={"If-None-Match": answer.headers["etag"]})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/feed+json; charset=utf-8"
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert again.status_code == 304
    document = json.loads(answer.content)
    check_json_feed_1_1(document)
    assert document["feed_url"] == server.url("/feed.json")
    assert document["language"] == "de"
    assert [item["id"] for item in document["items"]] == [
        entry.id for entry in feedparser.parse(atom.content).entries
    ]
    assert (
        gzip.decompress(gzip.compress(answer.content))
        == (server.settings.data_dir / "feed.json").read_bytes()
    )
    assert b'xml:lang="de"' in atom.content
    assert (
        b'<?xml-stylesheet type="text/xsl" href="' + server.url("/feed.xsl").encode()
        in atom.content
    )


def test_topic_json_feeds_and_the_stylesheet_are_files_beside_the_atom_ones(tmp_path: Path) -> None:
    with (
        live_server(
            tmp_path, lambda s: create_app(s, clock=Clock(NOW)), extra_config=TOPICS
        ) as server,
        httpx.Client(base_url=server.base) as client,
    ):
        data = server.settings.data_dir
        topic = client.get("/topics/ml.json")
        missing = client.get("/topics/nope.json")
        xsl = client.get("/feed.xsl")
        home = client.get("/")

    assert (data / "topics" / "ml.json").exists() and (data / "feed.xsl").exists()
    assert topic.status_code == 200 and topic.content == (data / "topics" / "ml.json").read_bytes()
    assert json.loads(topic.content)["feed_url"] == server.url("/topics/ml.json")
    assert missing.status_code == 404
    assert xsl.status_code == 200 and xsl.headers["content-type"].startswith("text/xsl")
    assert xsl.content == (data / "feed.xsl").read_bytes()
    assert (
        f'type="application/feed+json" title="Paper digest (JSON Feed)" href="{server.url("/feed.json")}"'
        in home.text
    )


@pytest.mark.browser
def test_the_atom_feed_reads_as_a_page_in_a_browser(tmp_path: Path, browser: Browser) -> None:
    with served(tmp_path) as server:
        fill_history(server.config)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        try:
            page.goto(server.url("/feed.atom"))
            page.wait_for_selector("article")
            OUTPUT.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT / "feed-in-browser.png"), full_page=True)
            heading = page.inner_text("h1")
            note = page.inner_text(".note")
            titles = page.locator("article h2 a").all_inner_texts()
        finally:
            page.close()

    assert heading == "Paper digest"
    assert server.url("/feed.atom") in note and server.url("/feed.json") in note
    assert "Paper number 7" in titles and len(titles) >= 1


def test_a_405_names_every_method_the_address_takes(tmp_path: Path) -> None:
    with served(tmp_path) as server, httpx.Client(base_url=server.base) as client:
        subscribe = client.delete("/subscribe")
        feed = client.post("/feed.json")

    assert subscribe.status_code == 405
    assert subscribe.headers["allow"] == "GET, HEAD, POST"
    assert feed.status_code == 405 and feed.headers["allow"] == "GET, HEAD, OPTIONS"
