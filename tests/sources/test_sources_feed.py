"""Generic RSS / Atom / RDF / JSON Feed parsing (digest.sources.feed).

Fixtures: docs/formats.md §7 (third-party Hugging Face feeds) and a journal-like Atom
feed with DOIs; hostile inputs are written inline next to the rule they test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from digest.errors import LayoutError, ParseError
from digest.identity import clean_text
from digest.model import Page, Paper, PaperDetails
from digest.sources import feed
from digest.sources.feed import html_to_text, looks_like_feed, looks_like_json_feed, parse
from tests.support import fixture

RSSHUB = "https://rsshub.app/huggingface/daily-papers"
JOURNAL = "https://journal.example.org/feeds/latest.atom"
JSON_FEED = "https://example.org/feed.json"


def rss(*items: str) -> bytes:
    body = "".join(f"<item>{item}</item>" for item in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test</title>'
        f"<link>https://example.org/</link><description>test</description>{body}</channel></rss>"
    ).encode()


def json_feed(
    *items: dict[str, object], version: str = "https://jsonfeed.org/version/1.1"
) -> bytes:
    return json.dumps({"version": version, "title": "Test", "items": list(items)}).encode()


def only(page: Page) -> Paper:
    assert len(page.papers) == 1
    return page.papers[0]


# --- third-party Hugging Face feeds (docs/formats.md §7) ----------------------------------


def test_rsshub_item_reads_every_field_and_the_arxiv_id_from_its_link() -> None:
    page = parse(fixture("third_party_hf_rss.xml"), RSSHUB)

    assert page.empty_reason is None
    assert page.papers[0] == Paper(
        title="Sparse Replay Buffers for Continual Instruction Tuning",  # line break collapsed
        abstract=(  # CDATA "<1%" is text, not a tag
            "Continual instruction tuning forgets earlier tasks. We study replay under a "
            "fixed memory budget and show that sparse buffers holding <1% of past data "
            "recover 92% of the forgetting gap."
        ),
        arxiv_id="2503.08123",  # from https://arxiv.org/abs/2503.08123
        authors=("Mina Okafor", "Tomás Ruiz-Delgado", "Wen Li"),  # one comma-joined <author>
        published=datetime(2025, 3, 12, 1, 2, 47, tzinfo=UTC),
        url="https://arxiv.org/abs/2503.08123",
    )


def test_huggingface_paper_links_carry_the_arxiv_id() -> None:
    second = parse(fixture("third_party_hf_rss.xml"), RSSHUB).papers[1]

    assert second.arxiv_id == "2503.07911"
    assert second.url == "https://huggingface.co/papers/2503.07911"
    assert second.authors == ()
    assert second.published == datetime(2025, 3, 12, 6, 0, 3, tzinfo=UTC)


def test_ai_generated_summary_is_not_taken_for_the_abstract() -> None:
    # MichaelMarkert/rss: AI summary, a marker, then the abstract.
    description = (
        "Guru, a diverse RL corpus, highlights domain needs.  \t\t\t\t\tAI-generated summary "
        "\t\t\t\t Reinforcement learning (RL) has emerged as a way to train reasoning."
    )
    payload = rss(
        "<title>Revisiting RL for LLM Reasoning from A Cross-Domain\n  Perspective</title>"
        "<link>https://huggingface.co/papers/2506.14965</link>"
        f"<description>{description}</description>"
        "<pubDate>Fri, 20 Jun 2025 07:55:47 GMT</pubDate>"
        '<guid isPermaLink="true">https://huggingface.co/papers/2506.14965</guid>'
    )

    paper = only(parse(payload, "https://example.org/hf_papers.xml"))

    assert paper.title == "Revisiting RL for LLM Reasoning from A Cross-Domain Perspective"
    assert paper.abstract == "Reinforcement learning (RL) has emerged as a way to train reasoning."
    assert paper.arxiv_id == "2506.14965"


def test_capjamesg_json_feed_items_become_papers() -> None:
    page = parse(fixture("hf_jsonfeed.json"), JSON_FEED)

    assert page.papers == (
        Paper(
            title="Sparse Replay Buffers for Continual Instruction Tuning",
            abstract=(
                "Continual instruction tuning forgets earlier tasks. We study replay under a "
                "fixed memory budget and show that sparse buffers holding <1% of past data "
                "recover 92% of the forgetting gap."
            ),
            arxiv_id="2503.08123",
            published=datetime(2025, 3, 12, 1, 2, 47, tzinfo=UTC),
            url="https://huggingface.co/papers/2503.08123",
            details=PaperDetails(hf_url="https://huggingface.co/papers/2503.08123"),
        ),
        Paper(
            title="Scaling Laws for Data Mixtures",  # scraped whitespace collapsed
            abstract=(
                "We fit a joint law over mixture weights and compute, and predict the best "
                "mixture at 7B from 300M runs."
            ),
            arxiv_id="2503.09040",
            published=None,  # capjamesg items may have no date
            url="https://huggingface.co/papers/2503.09040",
            details=PaperDetails(hf_url="https://huggingface.co/papers/2503.09040"),
        ),
    )


def test_json_feed_1_1_authors_tags_and_html_content() -> None:
    payload = json_feed(
        {
            "id": "42",
            "title": "Attention <i>Is</i> Not Explanation",  # plain text by the spec
            "content_html": "<p>We test.</p><script>steal()</script><p>It is not.</p>",
            "url": "https://arxiv.org/abs/1902.10186v3",
            "date_published": "2019-02-26T18:00:00-05:00",
            "authors": [{"name": "Sarthak Jain"}, {"name": "Byron C. Wallace"}],
            "tags": ["cs.CL", "attention"],
        }
    )

    paper = only(parse(payload, JSON_FEED))

    assert paper.title == "Attention <i>Is</i> Not Explanation"
    assert paper.abstract == "We test. It is not."
    assert (paper.arxiv_id, paper.version) == ("1902.10186", 3)
    assert paper.published == datetime(2019, 2, 26, 23, 0, tzinfo=UTC)
    assert paper.authors == ("Sarthak Jain", "Byron C. Wallace")
    assert paper.categories == ("cs.CL", "attention")


def test_json_feed_1_single_author_object() -> None:
    payload = json_feed(
        {"id": "1", "title": "T", "author": {"name": "Ada Lovelace"}},
        version="https://jsonfeed.org/version/1",
    )

    assert only(parse(payload, JSON_FEED)).authors == ("Ada Lovelace",)


# --- a journal-like Atom feed: DOIs, HTML, hostile links -----------------------------------


def test_journal_entry_reads_doi_html_title_and_relative_link() -> None:
    first = parse(fixture("generic_atom_with_doi.xml"), JOURNAL).papers[0]

    assert first == Paper(
        title="Calibrated Uncertainty for Graph Neural Networks",  # type="html": tags dropped
        abstract=(
            "We calibrate GNN predictions with a post-hoc temperature per node degree. "
            "Code is online."
        ),
        arxiv_id=None,
        doi="10.5555/jeml.2025.0042",  # prism:doi, lower-cased
        authors=("Ingrid Solberg", "Kwame Mensah"),
        published=datetime(2025, 3, 11, 8, 30, tzinfo=UTC),  # +01:00 -> UTC
        categories=("Graph learning",),
        url="https://journal.example.org/articles/2025/0042",  # resolved against the feed URL
    )


def test_script_in_a_description_never_reaches_the_abstract() -> None:
    first = parse(fixture("generic_atom_with_doi.xml"), JOURNAL).papers[0]

    assert "document.cookie" not in first.abstract
    assert "<" not in first.abstract


def test_doi_from_dc_identifier_and_xhtml_content() -> None:
    second = parse(fixture("generic_atom_with_doi.xml"), JOURNAL).papers[1]

    assert second.doi == "10.5555/jeml.2025.0043"
    assert second.abstract == (
        "We study bandits whose rewards arrive late. Regret grows with the mean delay only."
    )
    assert second.authors == ("Lucía Fernández",)


def test_javascript_link_is_dropped_and_plain_text_is_not_unescaped_twice() -> None:
    editorial = parse(fixture("generic_atom_with_doi.xml"), JOURNAL).papers[2]

    assert editorial.url is None
    assert editorial.abstract == "Plain text, not HTML: a < b && c > d stays as written."
    assert editorial.published == datetime(2025, 3, 9, 12, 0, tzinfo=UTC)  # <updated> only


def test_relative_links_are_dropped_when_the_feed_is_a_local_file() -> None:
    first = parse(fixture("generic_atom_with_doi.xml"), "tests/fixtures/journal.atom").papers[0]

    assert first.url is None


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/no-scheme",
    ],
)
def test_only_http_and_https_links_are_kept(link: str) -> None:
    payload = rss(f"<title>T</title><link>{link}</link>")

    assert only(parse(payload, "feed.xml")).url is None


def test_html_description_comes_out_as_plain_text() -> None:
    description = (
        "&lt;p&gt;Results: H&lt;sub&gt;2&lt;/sub&gt;O &amp;amp; "
        "CO&lt;sub&gt;2&lt;/sub&gt;&lt;/p&gt;"
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;style&gt;p{color:red}&lt;/style&gt;"
        "&lt;iframe src='https://evil.example'&gt;frame&lt;/iframe&gt;"
        "&lt;ul&gt;&lt;li&gt;one&lt;/li&gt;&lt;li&gt;two&lt;/li&gt;&lt;/ul&gt;"
    )

    paper = only(parse(rss(f"<title>T</title><description>{description}</description>"), "x"))

    assert paper.abstract == "Results: H2O & CO2 one two"


def test_html_to_text_unescapes_entities_exactly_once() -> None:
    assert html_to_text("a &amp;lt; b") == "a &lt; b"
    assert html_to_text("<b>bold</b>&nbsp;text<br>next") == "bold text next"
    assert html_to_text("holding <1% of data") == "holding <1% of data"


def test_rdf_feed_with_several_dc_creators_and_prism_doi() -> None:
    payload = b"""<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">
  <channel rdf:about="https://journal.example.org/rss"><title>Example Letters</title>
    <link>https://journal.example.org/</link><description>Latest</description></channel>
  <item rdf:about="https://journal.example.org/articles/s41-025-0001">
    <title>Quantum Kernels in Practice</title>
    <link>https://journal.example.org/articles/s41-025-0001</link>
    <description>&lt;p&gt;We benchmark quantum kernels.&lt;/p&gt;</description>
    <dc:creator>Hannah Ott</dc:creator><dc:creator>Ravi Menon</dc:creator>
    <dc:identifier>doi:10.5555/S41-025-0001</dc:identifier>
    <prism:doi>10.5555/s41-025-0001</prism:doi>
    <dc:date>2025-03-11T00:00:00Z</dc:date>
  </item>
</rdf:RDF>"""

    paper = only(parse(payload, "https://journal.example.org/rss"))

    assert paper.authors == ("Hannah Ott", "Ravi Menon")
    assert paper.doi == "10.5555/s41-025-0001"
    assert paper.abstract == "We benchmark quantum kernels."
    assert paper.published == datetime(2025, 3, 11, tzinfo=UTC)


# --- arXiv ids: links, guids, text ---------------------------------------------------------


def test_arxiv_rss_read_generically_takes_the_version_from_the_guid() -> None:
    # detect sends these to digest.sources.arxiv, but a generic read must still be right.
    page = parse(fixture("arxiv_rss_cs.LG.xml"), "https://rss.arxiv.org/rss/cs.LG")

    assert [(p.arxiv_id, p.version) for p in page.papers] == [
        ("2503.08123", 1),
        ("2503.07911", 1),
        ("2411.01234", 3),
        ("hep-th/9901001", 2),
    ]
    assert page.papers[3].doi == "10.1000/example.2001.012"
    assert page.papers[3].abstract == "Revised version with new experiments."


def test_old_arxiv_rss_title_with_an_explicit_arxiv_prefix_gives_the_id() -> None:
    payload = rss("<title>Deep Sets. (arXiv:1703.06114v3 [cs.LG] UPDATED)</title>")

    assert only(parse(payload, "x")).arxiv_id == "1703.06114"
    assert only(parse(payload, "x")).version == 3


def test_ids_cited_in_an_abstract_are_not_taken_for_the_papers_own() -> None:
    # They cite other papers: taking one would merge two papers into one.
    payload = rss(
        "<title>Follow-up Study</title><link>https://blog.example.org/follow-up</link>"
        "<description>We extend 2301.01234, hep-th/9901001 and arXiv:2302.00001.</description>"
    )

    assert only(parse(payload, "x")).arxiv_id is None


def test_arxiv_rss_description_read_generically_gives_id_and_a_clean_abstract() -> None:
    payload = rss(
        "<title>T</title><description>arXiv:2503.08123v2 Announce Type: replace \n"
        "Abstract: Holding &amp;lt;1% of past data.</description>"
    )

    paper = only(parse(payload, "x"))

    assert (paper.arxiv_id, paper.version) == ("2503.08123", 2)
    assert paper.abstract == "Holding <1% of past data."


def test_guid_with_an_old_style_arxiv_id() -> None:
    payload = rss("<title>T</title><guid>oai:arXiv.org:math.GT/0309136v2</guid>")

    paper = only(parse(payload, "x"))

    assert (paper.arxiv_id, paper.version) == ("math.GT/0309136", 2)
    assert paper.url == "https://arxiv.org/abs/math.GT/0309136"


def test_arxiv_link_with_query_string_still_gives_the_id() -> None:
    payload = rss("<title>T</title><link>https://arxiv.org/abs/2503.08123v2?context=cs</link>")

    assert only(parse(payload, "x")).arxiv_id == "2503.08123"


def test_comma_joined_last_first_name_is_not_split() -> None:
    payload = rss("<title>T</title><author>Smith, John</author>")

    assert only(parse(payload, "x")).authors == ("Smith, John",)


# --- empty versus broken -------------------------------------------------------------------


def test_channel_without_items_is_an_empty_page() -> None:
    assert parse(rss(), "x") == Page((), empty_reason="the feed has no items")


def test_json_feed_without_items_is_an_empty_page() -> None:
    assert parse(json_feed(), JSON_FEED) == Page((), empty_reason="the feed has no items")


def test_truncated_feed_keeps_the_items_that_parsed() -> None:
    payload = fixture("third_party_hf_rss.xml")
    cut = payload[: payload.index(b"<title>Tokenizer-Free")]

    page = parse(cut, RSSHUB)

    assert [p.arxiv_id for p in page.papers] == ["2503.08123"]


def test_truncated_feed_without_any_item_is_an_error_not_an_empty_day() -> None:
    payload = fixture("third_party_hf_rss.xml")
    cut = payload[: payload.index(b"<item>") + 3]

    with pytest.raises(ParseError, match=r"broken feed with no usable items"):
        parse(cut, RSSHUB)


def test_html_page_is_a_parse_error_naming_its_title() -> None:
    with pytest.raises(ParseError, match=r"an HTML page, not a feed \('Log in \| Example"):
        parse(fixture("login_page.html"), RSSHUB)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"Service temporarily unavailable", r"not an RSS, Atom or RDF feed"),
        (b"<?xml version='1.0'?><html><p>hi</p></html>", r"not an RSS, Atom or RDF feed"),
        (b"   ", r"empty payload"),
        (b'[{"paper": {"id": "2503.08123"}}]', r"not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": ', r"not valid JSON"),
        (b'{"error": "Invalid date"}', r"not a JSON Feed"),
    ],
    ids=["text", "xhtml", "blank", "hf-api-json", "truncated-json", "json-error"],
)
def test_payload_that_is_not_a_feed_is_a_parse_error(payload: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(payload, "https://example.org/feed")


def test_json_feed_without_an_items_array_is_layout_drift() -> None:
    payload = b'{"version": "https://jsonfeed.org/version/1.1", "title": "T"}'

    with pytest.raises(LayoutError, match=r"no items array"):
        parse(payload, JSON_FEED)


def test_items_without_titles_are_layout_drift() -> None:
    payload = rss("<description>no title</description>", "<link>https://example.org/a</link>")

    with pytest.raises(LayoutError, match=r"none of the feed's 2 items has a title"):
        parse(payload, "x")


def test_a_payload_that_names_a_file_is_never_read_from_disk(tmp_path: Path) -> None:
    # feedparser opens a bytes argument as a path when it can; parse must not.
    secret = tmp_path / "feed.xml"
    secret.write_bytes(rss("<title>Read From Disk</title>"))

    with pytest.raises(ParseError):
        parse(str(secret).encode(), "x")


# --- sniffers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "is_feed", "is_json_feed"),
    [
        ("third_party_hf_rss.xml", True, False),
        ("generic_atom_with_doi.xml", True, False),
        ("arxiv_rss_cs.LG.xml", True, False),  # a feed; detect asks the arXiv sniffers first
        ("arxiv_atom_cs.LG.xml", True, False),
        ("arxiv_api_id_list.xml", True, False),
        ("hf_jsonfeed.json", False, True),
        ("arxiv_list_cs.LG_new.html", False, False),
        ("login_page.html", False, False),
    ],
)
def test_sniffers_on_the_fixtures(name: str, is_feed: bool, is_json_feed: bool) -> None:
    payload = fixture(name)

    assert (looks_like_feed(payload), looks_like_json_feed(payload)) == (is_feed, is_json_feed)


@pytest.mark.parametrize(
    "payload",
    [
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<?xml-stylesheet href="s.xsl"?>\n<!-- c -->\n<rss/>',
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        b'<!DOCTYPE feed>\n<feed xmlns="http://www.w3.org/2005/Atom"/>',
    ],
    ids=["bom-stylesheet-comment", "rdf", "doctype"],
)
def test_looks_like_feed_sees_past_the_prolog(payload: bytes) -> None:
    assert looks_like_feed(payload)


def test_looks_like_json_feed_accepts_escaped_slashes_and_rejects_other_json() -> None:
    assert looks_like_json_feed(b'{"version":"https:\\/\\/jsonfeed.org\\/version\\/1.1"}')
    assert not looks_like_json_feed(b'[{"paper": {"id": "2503.08123"}}]')
    assert not looks_like_json_feed(b'{"error": "not found"}')


def test_module_exports_the_parser_and_sniffers() -> None:
    assert sorted(feed.__all__) == [
        "html_to_text",
        "looks_like_feed",
        "looks_like_json_feed",
        "parse",
    ]


# Links of every shape the shortcut must tell apart: hosts or none, queries, fragments and
# ;params empty or not, tabs, brackets, other schemes, capitals, non-ASCII.
_LINKS = st.tuples(
    st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "//", "/", "", "javascript:"]),
    st.sampled_from(["x.org", "", "\t", "[::1]", "[", "a]", "h\u00e9.org", "x.org:80", "@"]),
    st.lists(st.sampled_from(["/", "?", "#", ";", "a", "=", "\t", "%20", " ", ":", "\\", "."])),
).map(lambda parts: parts[0] + parts[1] + "".join(parts[2]))
_BASES = st.sampled_from(
    ["https://journal.example.org/feeds/latest", "http://127.0.0.1:8000/feed.atom",
     "/srv/feeds/saved.xml", "file:///srv/feeds/saved.xml", ""]
)  # fmt: skip


@settings(max_examples=500)
@given(_LINKS, _BASES)
@example("http://x.org/a;", "http://127.0.0.1:8000/feed.atom")  # an empty ;params dropped
@example("http://x.org/a?", "http://127.0.0.1:8000/feed.atom")  # an empty query dropped
@example("https://x.org/a#", "https://journal.example.org/feeds/latest")  # an empty fragment
@example("https://\t/x", "http://127.0.0.1:8000/feed.atom")  # the tab goes, and the host with it
@example("https://?x", "http://127.0.0.1:8000/feed.atom")  # no host
@example("https://x.org]/", "http://127.0.0.1:8000/feed.atom")  # urlsplit raises
@example("https://a\uff0fb/", "http://127.0.0.1:8000/feed.atom")  # NFKC makes a "/": it raises
def test_a_link_is_kept_as_splitting_and_joining_it_would_keep_it(link: str, base: str) -> None:
    def outcome(function: Callable[[str, str], str | None], value: str) -> object:
        try:
            return function(value, base)
        except ValueError as error:  # urlsplit's, for an unbalanced IPv6 bracket
            return type(error)

    assert outcome(feed._safe_url, link) == outcome(feed._joined_url, link.strip())


_BYLINE = st.lists(
    st.sampled_from(["Ada Lovelace", "Alan Turing", "Mina Okafor, Tom\u00e1s Ruiz", "Smith, John",
                     "Ada Lovelace, Alan Turing",
                     "", " ", "a  b", "Grace Hopper ", "cs.LG", "cs.LG", "a|b", "x\u00a0y"])
    | st.text(alphabet=st.sampled_from("a ,|\t\u00e9"), max_size=6),
    max_size=6,
)  # fmt: skip


@given(_BYLINE)
def test_names_and_tags_come_out_as_cleaning_each_one_would_make_them(names: list[str]) -> None:
    split: list[str] = []
    for name in names:
        parts = [clean_text(part) for part in name.split(",")]
        if "," in name and all(" " in part for part in parts):
            split.extend(parts)
        elif cleaned := clean_text(name):
            split.append(cleaned)
    assert feed._split_names(names) == tuple(dict.fromkeys(split))
    tags = tuple(dict.fromkeys(tag for name in names if (tag := clean_text(name))))
    assert feed._clean_tags(names) == tags
