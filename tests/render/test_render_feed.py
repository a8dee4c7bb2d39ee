"""The Atom feed, read back the way a feed reader reads it (feedparser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import feedparser
import pytest

from digest.errors import ConfigError
from digest.model import PaperDetails
from digest.render.feed import FeedMeta, render_feed
from digest.render.links import paper_link, safe_http_url
from tests.factories import FIRST_SEEN, make_stored_paper

META = FeedMeta(
    title="Daily papers",
    feed_id="tag:papers.example.org,2025:feed",
    self_url="https://papers.example.org/feed.atom",
    site_url="https://papers.example.org/",
    author_name="digest at example.org",
    subtitle="New papers, once each",
)


def parse(feed: bytes) -> Any:
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_entries_carry_permanent_ids_links_and_dates_in_the_given_order() -> None:
    later = FIRST_SEEN + timedelta(hours=5)
    papers = [
        make_stored_paper(id=2, first_seen=later, updated=later + timedelta(minutes=1)),
        make_stored_paper(id=1, uid="tag:papers.example.org,2025:title/abc", arxiv_id=None),
    ]

    parsed = parse(render_feed(papers, META))

    assert [e.id for e in parsed.entries] == [
        "https://arxiv.org/abs/2503.00002",
        "tag:papers.example.org,2025:title/abc",
    ]
    first, second = parsed.entries
    assert first.link == "https://arxiv.org/abs/2503.00002"
    assert first.links[0].rel == "alternate"
    assert second.link == "https://huggingface.co/papers/2503.00001"  # own url when no arXiv id
    assert first.published == "2025-03-12T11:00:00Z"
    assert first.updated == "2025-03-12T11:01:00Z"
    assert [t.term for t in first.tags] == ["cs.LG", "cs.CL"]


def test_feed_level_fields() -> None:
    newest = FIRST_SEEN + timedelta(days=1)
    papers = [make_stored_paper(id=1), make_stored_paper(id=2, updated=newest)]

    feed = parse(render_feed(papers, META)).feed

    assert feed.id == META.feed_id
    assert feed.title == "Daily papers"
    assert feed.subtitle == "New papers, once each"
    assert feed.author == "digest at example.org"
    assert feed.updated == "2025-03-13T06:00:00Z"
    links = {link.rel: (link.href, link.type) for link in feed.links}
    assert links["self"] == ("https://papers.example.org/feed.atom", "application/atom+xml")
    assert links["alternate"] == ("https://papers.example.org/", "text/html")


def test_authors_are_names_only_and_a_bare_count_goes_to_the_summary() -> None:
    papers = [
        make_stored_paper(id=1),
        make_stored_paper(id=2, authors=(), author_count=12),
        make_stored_paper(id=3, authors=(), author_count=None),
    ]

    tree = ElementTree.fromstring(render_feed(papers, META))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    names = [
        [name.text for name in entry.findall("a:author/a:name", ns)]
        for entry in tree.findall("a:entry", ns)
    ]

    # "12 authors" is a count, not a name: newsboat and rss2email's From line would show it.
    assert names == [["Ada Lovelace", "Alan Turing", "Grace Hopper"], [], []]
    parsed = parse(render_feed(papers, META))
    assert "author" not in parsed.entries[1]  # RFC 4287 §4.1.1: the feed's author stands in
    assert "author" not in parsed.entries[2]
    assert "12 authors" in parsed.entries[1].summary
    assert parsed.feed.author == "digest at example.org"


def test_summary_follows_the_mails_order_of_facts_with_the_whole_abstract() -> None:
    paper = make_stored_paper(id=1, abstract="Abstract with $k$ experts. It scales.")

    summary = parse(render_feed([paper], META, {1: "matches topic 'experts'"})).entries[0].summary

    # authors; the meta line; the abstract; the mail's link row, one link a line
    assert summary == (
        "Ada Lovelace, Alan Turing, Grace Hopper\n"
        "Example Lab \u00b7 42 upvotes \u00b7 cs.LG \u00b7 matches topic 'experts'\n\n"
        "Abstract with $k$ experts. It scales.\n\n"
        "arXiv: https://arxiv.org/abs/2503.00001\n"
        "PDF: https://arxiv.org/pdf/2503.00001\n"
        "Hugging Face: https://huggingface.co/papers/2503.00001"
    )


def test_empty_feed_is_valid_with_zero_entries_and_a_fixed_updated() -> None:
    feed = render_feed([], META)

    parsed = parse(feed)

    assert parsed.entries == []
    assert parsed.feed.updated == "1970-01-01T00:00:00Z"
    assert feed == render_feed([], META)


def test_same_input_gives_byte_identical_output() -> None:
    papers = [make_stored_paper(id=i) for i in range(1, 6)]

    first = render_feed(papers, META, {3: "a reason"})
    second = render_feed(list(papers), META, {3: "a reason"})

    assert first == second
    assert b"python-feedgen" not in first  # no generator version to change under us


def test_naive_and_non_utc_times_are_written_as_utc() -> None:
    naive = datetime(2025, 3, 12, 6, 0)
    aware = datetime(2025, 3, 12, 7, 0, tzinfo=UTC).astimezone()
    parsed = parse(render_feed([make_stored_paper(first_seen=naive, updated=aware)], META))

    assert parsed.entries[0].published == "2025-03-12T06:00:00Z"
    assert parsed.entries[0].updated == "2025-03-12T07:00:00Z"


def test_script_in_a_title_round_trips_as_text() -> None:
    title = "<script>alert('x')</script> & <b>bold</b> claims"
    feed = render_feed([make_stored_paper(title=title)], META)

    assert b"<script>" not in feed
    assert parse(feed).entries[0].title == title


def test_control_characters_from_a_source_do_not_break_the_xml() -> None:
    paper = make_stored_paper(title="Bell\x07 \x00states", authors=("A\x1bB",))

    parsed = parse(render_feed([paper], META))

    assert parsed.entries[0].title == "Bell states"
    assert parsed.entries[0].author == "AB"


def test_javascript_url_is_never_emitted() -> None:
    paper = make_stored_paper(arxiv_id=None, url="javascript:alert(1)", doi="10.1000/XYZ(1)")

    feed = render_feed([paper], META)

    assert b"javascript" not in feed
    assert parse(feed).entries[0].link == "https://doi.org/10.1000/XYZ%281%29"


def test_unsafe_feed_urls_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="self_url"):
        render_feed([], FeedMeta("t", "tag:x,2025:f", "/feed.atom", "https://x.org/", "me"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2401.01234", "https://arxiv.org/abs/2401.01234"),
        ("  http://example.org/p?q=1  ", "http://example.org/p?q=1"),
        ("HTTPS://Example.org/", "HTTPS://Example.org/"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("/papers/2401.01234", None),
        ("//example.org/x", None),
        ("https://", None),
        ("https://exa\nmple.org/", None),
        ("https://example.org/\x00", None),
        ("https://example.org/a b", None),
        ('https://example.org/"onmouseover="x', None),
        ("http://[::1", None),
        ("https://example.org/\ue000slot:view\ue001", None),
        ("ftp://example.org/", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_http_url(url: str | None, expected: str | None) -> None:
    assert safe_http_url(url) == expected


def test_paper_link_falls_back_from_arxiv_to_url_to_doi_to_search() -> None:
    paper = make_stored_paper(title="Ça & co?", doi="10.1/abc")

    assert paper_link(paper) == "https://arxiv.org/abs/2503.00001"
    assert paper_link(make_stored_paper(arxiv_id="hep-th/9901001")) == (
        "https://arxiv.org/abs/hep-th/9901001"
    )
    no_arxiv = make_stored_paper(title="Ça & co?", doi="10.1/abc", arxiv_id=None)
    assert paper_link(no_arxiv) == "https://huggingface.co/papers/2503.00001"
    no_url = make_stored_paper(title="Ça & co?", doi="10.1/abc", arxiv_id=None, url="data:x")
    assert paper_link(no_url) == "https://doi.org/10.1/abc"
    nothing = make_stored_paper(title="Ça & co?", doi=None, arxiv_id=None, url=None)
    assert paper_link(nothing) == "https://huggingface.co/papers?q=%C3%87a+%26+co%3F"


# --- what the sources said beyond the basics -----------------------------------------------

DETAILED = make_stored_paper(
    doi="10.1000/example.2025.1",
    categories=("cs.CL", "cs.LG"),
    details=PaperDetails(
        ai_summary="Sparse replay buffers recover most of the forgetting gap.",
        ai_keywords=("continual learning", "replay buffer"),
        github_repo="https://github.com/example-lab/sparse-replay",
        github_stars=128,
        project_page="https://sparse-replay.github.io",
        hf_url="https://huggingface.co/papers/2503.00001",
        primary_category="cs.LG",
        arxiv_comment="Accepted at ICML 2025; 14 pages",
        journal_ref="J. Example ML 3 (2025) 1-14",
        pdf_url="https://arxiv.org/pdf/2503.00001v2",
    ),
)


def test_an_entry_links_pdf_hugging_face_code_project_and_doi_with_titles() -> None:
    (entry,) = parse(render_feed([DETAILED], META)).entries

    assert entry.link == "https://arxiv.org/abs/2503.00001"
    assert [(link.rel, link.get("title"), link.href, link.get("type")) for link in entry.links] == [
        ("alternate", None, "https://arxiv.org/abs/2503.00001", "text/html"),
        ("related", "PDF", "https://arxiv.org/pdf/2503.00001v2", "application/pdf"),
        ("related", "Hugging Face", "https://huggingface.co/papers/2503.00001", "text/html"),
        ("related", "Code", "https://github.com/example-lab/sparse-replay", "text/html"),
        ("related", "Project page", "https://sparse-replay.github.io", "text/html"),
        # no type given for a DOI (its target varies): feedparser reads the default
        ("related", "DOI", "https://doi.org/10.1000/example.2025.1", "text/html"),
    ]


def test_categories_put_the_primary_first_and_keywords_in_their_own_scheme() -> None:
    (entry,) = parse(render_feed([DETAILED], META)).entries

    assert [(tag.term, tag.scheme) for tag in entry.tags] == [
        ("cs.LG", "http://arxiv.org/schemas/atom"),
        ("cs.CL", "http://arxiv.org/schemas/atom"),
        ("continual learning", "https://huggingface.co/papers#ai_keywords"),
        ("replay buffer", "https://huggingface.co/papers#ai_keywords"),
    ]


def test_the_summary_has_the_tldr_comments_journal_and_every_link() -> None:
    (entry,) = parse(render_feed([DETAILED], META)).entries

    for line in (
        "Comments: Accepted at ICML 2025; 14 pages",
        "Journal-ref: J. Example ML 3 (2025) 1-14",
        "TL;DR (AI summary by Hugging Face): Sparse replay buffers recover most of the "
        "forgetting gap.",
        "PDF: https://arxiv.org/pdf/2503.00001v2",
        "Code (\u2605 128): https://github.com/example-lab/sparse-replay",
        "Project: https://sparse-replay.github.io",
    ):
        assert line in entry.summary


def test_unsafe_detail_links_are_left_out() -> None:
    paper = make_stored_paper(
        details=PaperDetails(
            github_repo="javascript:alert(1)",
            project_page="//relative.example.org/x",
            hf_url="https://huggingface.co/papers/2503.00001",
        )
    )

    feed = render_feed([paper], META)
    (entry,) = parse(feed).entries

    assert b"javascript:" not in feed and b"relative.example.org" not in feed
    assert [link.get("title") for link in entry.links if link.rel == "related"] == [
        "PDF",  # every arXiv paper has one
        "Hugging Face",
    ]


def test_a_paper_without_details_or_arxiv_id_has_only_its_own_link() -> None:
    paper = make_stored_paper(arxiv_id=None, uid="tag:papers.example.org,2025:title/abc")

    (entry,) = parse(render_feed([paper], META)).entries

    assert [link.rel for link in entry.links] == ["alternate"]
    assert "TL;DR" not in entry.summary and "PDF:" not in entry.summary
