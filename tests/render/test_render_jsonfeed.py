"""JSON Feed 1.1 beside Atom: the spec's required fields, the Atom ids, read back by a parser.

feedparser 6.0 reads no JSON Feed; fastfeedparser (feedparser's API, JSON Feed
included) reads it as a reader would, and feedparser's view of the Atom twin is
what it must agree with.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import fastfeedparser
import feedparser
import pytest

from digest.errors import ConfigError
from digest.model import FollowUp
from digest.render.feed import FeedMeta, render_feed
from digest.render.jsonfeed import VERSION, render_json_feed
from tests.factories import FIRST_SEEN, make_stored_paper

META = FeedMeta(
    title="Daily papers",
    feed_id="https://papers.example.org/feed.atom",
    self_url="https://papers.example.org/feed.atom",
    site_url="https://papers.example.org/",
    author_name="digest at example.org",
    subtitle="New papers, once each",
    json_url="https://papers.example.org/feed.json",
    language="en",
)

PAPERS = [
    make_stored_paper(id=2, first_seen=FIRST_SEEN + timedelta(hours=5)),
    make_stored_paper(id=1, uid="tag:papers.example.org,2025:title/abc", arxiv_id=None),
    make_stored_paper(id=3, authors=(), author_count=120, categories=(), abstract=""),
]


def check_json_feed_1_1(document: dict[str, Any]) -> None:
    """The spec's MUSTs: version, title, items; each item an id (a string) and some content."""
    assert document["version"] == VERSION
    assert isinstance(document["title"], str) and document["title"]
    assert isinstance(document["items"], list)
    for key in ("home_page_url", "feed_url"):
        assert document[key].startswith(("https://", "http://"))
    assert all(isinstance(author["name"], str) for author in document.get("authors", []))
    ids = [item["id"] for item in document["items"]]
    assert len(set(ids)) == len(ids)
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item.get("content_html") or item.get("content_text")
        for key in ("date_published", "date_modified"):
            assert item[key].endswith("Z")  # RFC 3339
        assert isinstance(item.get("tags", []), list)
        # 1.1 replaced "author" with "authors"; a 1.1 feed must not use the old key.
        assert "author" not in item


def test_json_feed_meets_the_spec_and_carries_the_atom_ids() -> None:
    body = render_json_feed(PAPERS, META)
    document = json.loads(body)

    check_json_feed_1_1(document)
    atom = feedparser.parse(render_feed(PAPERS, META))
    assert [item["id"] for item in document["items"]] == [entry.id for entry in atom.entries]
    assert document["language"] == "en"


def test_items_have_authors_tags_dates_summary_and_escaped_content() -> None:
    hostile = make_stored_paper(
        id=9, title="<script>alert(1)</script> Experts", abstract="A & B <b>bold</b>. Second."
    )
    item = json.loads(render_json_feed([hostile, PAPERS[2]], META))["items"]

    first, headcount = item
    assert first["title"] == "<script>alert(1)</script> Experts"  # plain text, JSON-escaped
    assert "<script>" not in first["content_html"] and "&lt;b&gt;bold" in first["content_html"]
    assert first["summary"] == "A & B <b>bold</b>. Second."  # the mail's TL;DR: two short sentences
    assert first["authors"] == [
        {"name": n} for n in ("Ada Lovelace", "Alan Turing", "Grace Hopper")
    ]
    assert first["tags"] == ["cs.LG", "cs.CL"]
    assert first["date_published"] == "2025-03-12T06:00:00Z"
    assert "authors" not in headcount, "an author count is never an author's name"
    assert "tags" not in headcount and "summary" not in headcount


def test_each_item_says_what_feedparser_reads_in_its_atom_entry() -> None:
    # feedparser 6.0 reads no JSON Feed itself; the Atom twin, as it reads it, is the reference.
    atom = feedparser.parse(render_feed(PAPERS, META))
    items = json.loads(render_json_feed(PAPERS, META))["items"]

    assert not atom.bozo
    for entry, item in zip(atom.entries, items, strict=True):
        assert (item["id"], item["url"], item["title"]) == (entry.id, entry.link, entry.title)
        assert (item["date_published"], item["date_modified"]) == (entry.published, entry.updated)
        assert [a["name"] for a in item.get("authors", [])] == [
            a.name for a in entry.get("authors", [])
        ]
        assert item.get("tags", []) == [tag.term for tag in entry.get("tags", [])]


def test_a_json_feed_parser_reads_what_feedparser_reads_in_the_atom_twin() -> None:
    papers = [*PAPERS, make_stored_paper(id=4, title="Sparse <b>experts</b> & more")]
    atom = feedparser.parse(render_feed(papers, META))
    parsed = fastfeedparser.parse(render_json_feed(papers, META).decode())

    assert (parsed.feed.title, parsed.feed.link) == (atom.feed.title, atom.feed.link)
    assert len(parsed.entries) == len(atom.entries) == len(papers)
    for item, entry in zip(parsed.entries, atom.entries, strict=True):
        assert (item.id, item.title, item.link) == (entry.id, entry.title, entry.link)
        first_author = entry.authors[0].name if entry.get("authors") else ""
        assert item.get("author", "") == first_author
        assert item.content[0]["type"] == "text/html"


def test_same_papers_give_the_same_bytes() -> None:
    assert render_json_feed(PAPERS, META) == render_json_feed(list(PAPERS), replace(META))


def test_a_non_http_feed_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="json_url"):
        render_json_feed(PAPERS, replace(META, json_url="ftp://papers.example.org/feed.json"))


def test_atom_links_its_json_twin_names_its_language_and_its_stylesheet() -> None:
    meta = replace(META, language="de", stylesheet_url="https://papers.example.org/feed.xsl")
    body = render_feed(PAPERS, meta)

    head = body.split(b"\n")[:3]
    assert (
        head[1] == b'<?xml-stylesheet type="text/xsl" href="https://papers.example.org/feed.xsl"?>'
    )
    assert b'xml:lang="de"' in head[2]
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert {(link.rel, link.type, link.href) for link in parsed.feed.links} >= {
        ("alternate", "application/feed+json", "https://papers.example.org/feed.json")
    }


def test_a_follow_up_opens_the_item_as_it_opens_the_atom_entry() -> None:
    found = FIRST_SEEN + timedelta(days=2)
    paper = replace(PAPERS[0], updated=found)
    code = FollowUp(1, paper.id, "code", "https://github.com/a/b", "1234", "hf", found)
    version = FollowUp(
        2, paper.id, "version", "2", "adds <b>ImageNet</b>", "arxiv", found - timedelta(hours=1)
    )
    news = {paper.id: [version, code]}  # oldest first, as history gives them

    item = json.loads(render_json_feed([paper], META, updates=news))["items"][0]
    entry = feedparser.parse(render_feed([paper], META, updates=news)).entries[0]

    assert item["id"] == entry.id == paper.uid, "the same item, not a new one"
    assert item["date_modified"] == "2025-03-14T06:00:00Z" != item["date_published"]
    lines = [
        "Update: Code released: \u2605 1.2k \u2014 github.com/a/b",
        "Update: v2 on arXiv: \u2018adds <b>ImageNet</b>\u2019",
    ]
    assert item["summary"].startswith("\n".join(lines) + "\n\n")
    assert entry.summary.startswith("\n".join(lines) + "\n\n")
    assert item["content_html"].startswith(
        "<p>Update: Code released: \u2605 1.2k \u2014 github.com/a/b</p>\n"
        "<p>Update: v2 on arXiv: \u2018adds &lt;b&gt;ImageNet&lt;/b&gt;\u2019</p>\n"
    )
    plain_item = json.loads(render_json_feed([paper], META))["items"][0]
    assert "Update:" not in plain_item["summary"] + plain_item["content_html"]
