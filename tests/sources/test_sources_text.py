"""Saved text renderings of HF listing pages (digest.sources.text).

The three fixtures follow the three layouts of the real saves in ../shared/seeds,
with invented papers: blank-line pairs, pairs plus meta blocks, and alternating
lines with the first title glued to "Subscribe".
"""

from __future__ import annotations

import unicodedata

import pytest

from digest.errors import ParseError
from digest.sources.text import looks_like_text_listing, parse
from tests.support import fixture

TEXT_FIXTURES = ["hf_text_blank_lines.txt", "hf_text_with_meta.txt", "hf_text_alternating.txt"]
URL = "file:///saved/listing.txt"
HEADER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
    "byAK and the research community\n\nApr 3\n\n"
)
ABSTRACT = (
    "We study a problem that matters. Our method is simple and it works well on every "
    "benchmark we tried, including several that were designed to break methods like ours, "
    "and it costs less than the baselines to train and to run. We release code and data so "
    "that others can check the claims and build on them, and we discuss the limitations."
)


def titles(payload: bytes) -> list[str]:
    return [paper.title for paper in parse(payload, URL).papers]


def listing(*entries: str) -> bytes:
    return (HEADER + "\n\n".join(entries)).encode()


# --- the three layouts ----------------------------------------------------------------


def test_blank_line_layout_pairs_titles_with_abstracts() -> None:
    page = parse(fixture("hf_text_blank_lines.txt"), URL)

    assert page.empty_reason is None
    assert [paper.title for paper in page.papers] == [
        "Top-k Sparse Attention for Long-Context Retrieval",  # TeX made readable
        "Escaping <script>: Measuring Prompt Injection Through Rendered Web Pages",
        "Curriculum Pre-training for Low-Resource Speech Recognition in Māori and Yorùbá",
        "What Makes a Good Reward Model? An Empirical Study of Preference Data",
        "Pre-training Small Language Models on Synthetic Textbooks",
    ]
    first = page.papers[0]
    assert first.abstract.startswith("Attention over long contexts is dominated by a few keys")
    assert first.abstract.endswith("release fused kernels for two GPU generations.")


def test_tex_is_made_readable_and_markup_stays_text() -> None:
    top_k, script = parse(fixture("hf_text_blank_lines.txt"), URL).papers[:2]

    assert "with k = 64 matches" in top_k.abstract
    assert top_k.details.abstract_tex is not None
    assert "with $k = 64$ matches" in top_k.details.abstract_tex  # the source's text, kept
    assert "hidden <script> blocks" in script.abstract


def test_meta_layout_reads_authors_organisation_date_and_count() -> None:
    papers = parse(fixture("hf_text_with_meta.txt"), URL).papers
    meta = [(p.author_count, p.organization, p.listed_on, p.upvotes) for p in papers]

    assert meta == [
        (7, None, "Mar 28", 3),
        (None, "Northbay AI", "Feb 19", None),  # "northbay-ai Northbay AI": slug, display name
        (None, None, None, None),  # no meta block at all
        (1, None, "Nov 2, 2024", 12),  # the page really says "1 authors"
        (4, None, "Jan 7, 2025", None),
    ]
    assert papers[2].title == "Token Merging for Efficient Video Diffusion"
    assert papers[2].abstract.endswith("merging in the temporal layers alone is a safe default.")


def test_alternating_layout_unglues_the_first_title_from_subscribe() -> None:
    page = parse(fixture("hf_text_alternating.txt"), URL)

    assert [paper.title for paper in page.papers] == [
        "Self-Supervised Pre-training for Tabular Anomaly Detection",
        "Graph Transformers Are Secretly Message Passers: A Unified View",
        "Learning to Cite: Grounded Generation with Top-k Evidence Selection",
        "Distilling Pre-trained Code Models into 50 MB",
    ]
    assert all(paper.abstract for paper in page.papers)


def test_a_title_starting_with_subscribe_is_not_unglued_after_a_subscribe_line() -> None:
    payload = listing("Subscriber Churn Prediction with Survival Transformers", ABSTRACT)

    assert titles(payload) == ["Subscriber Churn Prediction with Survival Transformers"]


@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_renderings_carry_no_ids_urls_or_times(name: str) -> None:
    for paper in parse(fixture(name), URL).papers:
        assert (paper.arxiv_id, paper.version, paper.url, paper.published) == (None,) * 4
        assert paper.authors == ()  # only a count is shown


# --- title or abstract: by content, not by position -----------------------------------


def test_entry_without_abstract_does_not_shift_the_following_pairs() -> None:
    payload = listing("A Paper Whose Abstract Was Lost", "Second Paper Title", ABSTRACT)

    papers = parse(payload, URL).papers

    assert [(p.title, bool(p.abstract)) for p in papers] == [
        ("A Paper Whose Abstract Was Lost", False),
        ("Second Paper Title", True),
    ]


def test_short_one_sentence_abstract_after_a_title_is_an_abstract() -> None:
    short = "We show that tiny models can be useful."

    papers = parse(listing("Tiny Paper", short, "Next", ABSTRACT), URL).papers

    # A full stop ends a sentence, rarely a title: read as the abstract the title awaits.
    assert [(p.title, p.abstract) for p in papers] == [("Tiny Paper", short), ("Next", ABSTRACT)]


def test_short_text_with_two_sentence_breaks_is_prose() -> None:
    short = "We do X. It works. Code is public."

    assert [p.abstract for p in parse(listing("Short Abstract Paper", short), URL).papers] == [
        short
    ]


def test_titles_with_question_or_exclamation_marks_stay_titles() -> None:
    payload = listing(
        "Skill-it! A Data-Driven Skills Framework", ABSTRACT, "When to Pre-Train? Now!", ABSTRACT
    )

    assert titles(payload) == [
        "Skill-it! A Data-Driven Skills Framework",
        "When to Pre-Train? Now!",
    ]


def test_abstract_split_into_two_paragraphs_is_joined() -> None:
    payload = listing("Two Paragraphs", ABSTRACT, ABSTRACT)

    (paper,) = parse(payload, URL).papers
    assert paper.abstract == f"{ABSTRACT} {ABSTRACT}"


def test_prose_after_a_closed_entry_is_skipped_not_glued_on() -> None:
    payload = listing("Closed", ABSTRACT, "  • 2 authors\n·\nFeb 1", ABSTRACT, "Next", ABSTRACT)

    papers = parse(payload, URL).papers

    assert [p.title for p in papers] == ["Closed", "Next"]
    assert papers[0].abstract == ABSTRACT


def test_a_line_holding_only_an_arxiv_link_gives_the_id() -> None:
    payload = listing("Linked Paper", ABSTRACT, "https://arxiv.org/abs/2504.01234v2")

    (paper,) = parse(payload, URL).papers
    assert (paper.arxiv_id, paper.version) == ("2504.01234", 2)
    assert paper.url == "https://arxiv.org/abs/2504.01234v2"


def test_an_id_mentioned_inside_an_abstract_is_not_the_papers_id() -> None:
    payload = listing("Citing Paper", ABSTRACT + " We extend arXiv:2301.00001 further.")

    assert parse(payload, URL).papers[0].arxiv_id is None


# --- dedupe and re-saved copies -------------------------------------------------------


def test_duplicate_titles_in_one_payload_keep_the_first() -> None:
    payload = listing("Same Paper", ABSTRACT, "SAME  paper", "Another abstract. " + ABSTRACT)

    (paper,) = parse(payload, URL).papers
    assert paper.title == "Same Paper"
    assert paper.abstract == ABSTRACT


def resave(payload: bytes, line_end: str) -> bytes:
    """What an editor or a second browser may do: BOM, other line ends, NFD, trailing spaces."""
    text = unicodedata.normalize("NFD", payload.decode())
    lines = [line + "   " if line else line for line in text.split("\n")]
    return "\ufeff".encode() + line_end.join(lines).encode()


@pytest.mark.parametrize("name", TEXT_FIXTURES)
@pytest.mark.parametrize("line_end", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_a_resaved_copy_yields_the_same_papers(name: str, line_end: str) -> None:
    original = parse(fixture(name), URL).papers
    copy = parse(resave(fixture(name), line_end), URL).papers

    assert [p.title_key for p in copy] == [p.title_key for p in original]
    assert copy == original  # titles and abstracts are stored NFC, whitespace-normalised


def test_nfd_and_nfc_copies_have_equal_titles() -> None:
    nfd = resave(fixture("hf_text_blank_lines.txt"), "\n")

    assert "Māori and Yorùbá" in titles(nfd)[2]


def test_windows_1252_bytes_are_not_utf8() -> None:
    with pytest.raises(ParseError, match="not UTF-8"):
        parse("Caf\u00e9 Paper\n\n".encode("cp1252") + ABSTRACT.encode(), URL)


# --- empty and broken -----------------------------------------------------------------


def test_header_only_page_is_an_empty_listing() -> None:
    page = parse(HEADER.encode(), URL)

    assert page.papers == ()
    assert page.empty_reason == "the saved listing shows no papers"


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\n\n  \n",
        ABSTRACT.encode(),  # prose with no title
        b"Just a Title\n\nAnother Title\n\nA Third Title",  # titles with no abstracts
        b"<!doctype html><html><body><h3>Title</h3></body></html>",
        b'[{"paper": {"id": "2503.08123"}}]',
        b"\x00\x01binary",
    ],
    ids=["empty", "blank", "prose-only", "titles-only", "html", "json", "binary"],
)
def test_payload_without_entries_is_an_error(payload: bytes) -> None:
    with pytest.raises(ParseError):
        parse(payload, URL)


def test_error_names_what_was_missing_and_the_source() -> None:
    with pytest.raises(ParseError, match="no recognisable title/abstract entries") as caught:
        parse(b"Only\n\nShort\n\nLines", URL)

    assert caught.value.source == URL


# --- sniffing -------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_sniff_recognises_every_layout(name: str) -> None:
    assert looks_like_text_listing(fixture(name))


def test_sniff_recognises_alternation_without_the_header() -> None:
    body = "\n".join(f"Title Number {n}\n{ABSTRACT}" for n in range(4))

    assert looks_like_text_listing(body.encode())


@pytest.mark.parametrize(
    "name",
    ["hf_daily_papers_2025-03-12.json", "hf_papers_date_2025-03-12.html", "hf_api_error.json"],
)
def test_sniff_rejects_json_and_html(name: str) -> None:
    assert not looks_like_text_listing(fixture(name))


def test_sniff_rejects_ordinary_prose_and_short_lines() -> None:
    assert not looks_like_text_listing(((ABSTRACT + "\n") * 5).encode())
    assert not looks_like_text_listing(b"one\ntwo\nthree\nfour\nfive\n")
