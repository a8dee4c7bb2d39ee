"""Hugging Face API and listing-page parsing (digest.sources.hf).

Fixtures follow docs/formats.md §1 and §2: invented papers in the real shapes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from digest.errors import LayoutError, ParseError
from digest.model import Paper, PaperDetails
from digest.sources.hf import page_count, parse_api, parse_page
from tests.support import fixture

DAILY_API = "https://huggingface.co/api/daily_papers?date=2025-03-12&limit=100"
SEARCH_API = "https://huggingface.co/api/papers/search?q=replay"
PAPER_API = "https://huggingface.co/api/papers/2503.08123"
DAY_PAGE = "https://huggingface.co/papers/date/2025-03-12"
SEARCH_PAGE = "https://huggingface.co/papers?q=routing"


def daily_items() -> list[dict[str, object]]:
    items = json.loads(fixture("hf_daily_papers_2025-03-12.json"))
    assert isinstance(items, list)
    return items


def api(items: object) -> bytes:
    return json.dumps(items).encode()


def by_id(papers: tuple[Paper, ...]) -> dict[str | None, Paper]:
    return {paper.arxiv_id: paper for paper in papers}


# --- /api/daily_papers ----------------------------------------------------------------


def test_api_maps_every_field_of_a_daily_item() -> None:
    page = parse_api(fixture("hf_daily_papers_2025-03-12.json"), DAILY_API)

    assert page.empty_reason is None
    first = page.papers[0]
    assert first == Paper(
        # "Continual\n  Instruction" in the payload: hard-wrapped arXiv text is normalised.
        title="Sparse Replay Buffers for Continual Instruction Tuning",
        abstract=(
            "Continual instruction tuning forgets earlier tasks. We study replay under a "
            "fixed memory budget and show that sparse buffers holding <1% of past data "
            "recover 92% of the forgetting gap."
        ),
        arxiv_id="2503.08123",
        version=None,
        authors=("Mina Okafor", "Tomás Ruiz-Delgado"),  # Wen Li is hidden
        author_count=3,  # hidden authors still count
        organization="Example Lab",
        published=datetime(2025, 3, 11, 17, 58, 2, tzinfo=UTC),
        listed_on="2025-03-12",
        upvotes=41,  # paper.upvotes
        comments=2,  # outer numComments
        url="https://huggingface.co/papers/2503.08123",
        details=PaperDetails(
            ai_summary=(
                "Sparse replay buffers recover most of the forgetting gap in continual "
                "instruction tuning."
            ),
            ai_keywords=("continual learning", "instruction tuning", "replay buffer"),
            github_repo="https://github.com/example-lab/sparse-replay",
            github_stars=128,
            project_page="https://sparse-replay.github.io",
            thumbnail="https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2503.08123.png",
            featured_at=datetime(2025, 3, 12, 1, 2, 47, 318000, tzinfo=UTC),
            hf_url="https://huggingface.co/papers/2503.08123",
        ),
    )


def test_api_item_without_organization_has_none() -> None:
    second = parse_api(fixture("hf_daily_papers_2025-03-12.json"), DAILY_API).papers[1]

    assert second.arxiv_id == "2503.07911"
    assert second.organization is None
    assert second.authors == ("Jonas Berg", "Priya N. Rao")
    assert (second.upvotes, second.comments) == (7, 0)


def test_published_is_aware_utc() -> None:
    for paper in parse_api(fixture("hf_daily_papers_2025-03-12.json"), DAILY_API).papers:
        assert paper.published is not None
        assert paper.published.utcoffset() is not None
        assert paper.published.tzinfo == UTC


def test_organization_falls_back_to_name_then_outer_object() -> None:
    items = daily_items()
    inner = items[0]["paper"]
    assert isinstance(inner, dict)
    inner["organization"] = {"name": "example-lab"}
    items[1]["organization"] = {"name": "jberg-lab", "fullname": "Berg Lab"}

    papers = parse_api(api(items), DAILY_API).papers

    assert [paper.organization for paper in papers] == ["example-lab", "Berg Lab"]


def test_optional_fields_may_be_missing_or_null() -> None:
    item = {"paper": {"id": "2503.00001", "title": "Bare", "summary": None, "upvotes": None}}

    (paper,) = parse_api(api([item]), DAILY_API).papers

    assert paper.title == "Bare"
    assert paper.abstract == ""
    assert paper.authors == ()
    assert paper.author_count is None
    assert (paper.published, paper.listed_on, paper.upvotes, paper.comments) == (None,) * 4


def test_duplicate_ids_in_one_payload_keep_the_first() -> None:
    items = daily_items()
    again = json.loads(json.dumps(items[0]))
    again["paper"]["upvotes"] = 999
    items.append(again)

    papers = parse_api(api(items), DAILY_API).papers

    assert [paper.arxiv_id for paper in papers] == ["2503.08123", "2503.07911"]
    assert papers[0].upvotes == 41


# --- empty and broken answers ---------------------------------------------------------


def test_empty_array_is_a_quiet_day_not_a_failure() -> None:
    page = parse_api(fixture("hf_daily_papers_empty.json"), DAILY_API)

    assert page.papers == ()
    assert page.empty_reason == "no papers listed for this date"


def test_empty_search_says_nothing_matched() -> None:
    assert parse_api(b"[]", SEARCH_API).empty_reason == "no papers matched the search"


def test_error_object_raises_with_the_error_text() -> None:
    with pytest.raises(ParseError, match=r"2025-13-40.*not a valid date") as caught:
        parse_api(fixture("hf_api_error.json"), DAILY_API)

    assert caught.value.source == DAILY_API


def test_html_answered_with_200_is_an_error_not_an_empty_day() -> None:
    login = b"<!doctype html><html><body><form action='/login'>Sign in</form></body></html>"

    with pytest.raises(ParseError, match="HTML page"):
        parse_api(login, DAILY_API)


def test_truncated_json_is_an_error() -> None:
    payload = fixture("hf_daily_papers_2025-03-12.json")

    with pytest.raises(ParseError, match="truncated or invalid JSON"):
        parse_api(payload[: len(payload) // 2], DAILY_API)


@pytest.mark.parametrize("payload", [b"", b"  \n", b'"a string"', b"42", b"null"])
def test_payloads_that_are_not_a_listing_are_errors(payload: bytes) -> None:
    with pytest.raises(ParseError):
        parse_api(payload, DAILY_API)


def test_item_without_id_names_the_item_and_the_field() -> None:
    items = daily_items()
    inner = items[1]["paper"]
    assert isinstance(inner, dict)
    del inner["id"]

    with pytest.raises(LayoutError, match=r"item 1: paper\.id is missing"):
        parse_api(api(items), DAILY_API)


def test_item_without_title_names_the_item_and_the_field() -> None:
    items = daily_items()
    inner = items[0]["paper"]
    assert isinstance(inner, dict)
    del inner["title"]
    del items[0]["title"]  # the outer copy would otherwise stand in

    with pytest.raises(LayoutError, match=r"item 0 \(2503\.08123\): paper\.title is missing"):
        parse_api(api(items), DAILY_API)


def test_item_whose_id_is_not_an_arxiv_id_is_an_error() -> None:
    items = [{"paper": {"id": "not-an-id", "title": "T"}}]

    with pytest.raises(LayoutError, match=r"item 0: paper\.id 'not-an-id' is not an arXiv id"):
        parse_api(api(items), DAILY_API)


def test_item_that_is_not_an_object_is_an_error() -> None:
    with pytest.raises(LayoutError, match="item 0 is not a JSON object"):
        parse_api(b'["2503.08123"]', DAILY_API)


# --- /api/papers/<id> and /api/papers/search ------------------------------------------


def test_single_paper_object_has_fields_at_top_level() -> None:
    page = parse_api(fixture("hf_paper_2503.08123.json"), PAPER_API)

    (paper,) = page.papers
    assert paper.arxiv_id == "2503.08123"
    assert paper.title == "Sparse Replay Buffers for Continual Instruction Tuning"
    assert paper.organization == "Example Lab"
    assert paper.upvotes == 41
    assert paper.comments is None  # numComments lives on the daily-list wrapper only


def test_search_answer_has_the_daily_item_shape() -> None:
    page = parse_api(fixture("hf_daily_papers_2025-03-12.json"), SEARCH_API)

    assert [paper.arxiv_id for paper in page.papers] == ["2503.08123", "2503.07911"]


# --- page_count: when pagination ends -------------------------------------------------


def test_page_count_counts_raw_items_including_duplicates() -> None:
    items = daily_items()

    assert page_count(fixture("hf_daily_papers_2025-03-12.json")) == 2
    assert page_count(api([*items, items[0]])) == 3
    assert page_count(fixture("hf_daily_papers_empty.json")) == 0


def test_page_count_of_a_non_array_answer_is_zero_so_paging_stops() -> None:
    assert page_count(fixture("hf_api_error.json")) == 0
    assert page_count(fixture("hf_paper_2503.08123.json")) == 0


def test_page_count_of_non_json_raises() -> None:
    with pytest.raises(ParseError):
        page_count(b"<html>rate limited</html>")


# --- /papers/date/... pages -----------------------------------------------------------


def test_page_reads_the_embedded_props_like_the_api() -> None:
    page = parse_page(fixture("hf_papers_date_2025-03-12.html"), DAY_PAGE)
    from_api = parse_api(fixture("hf_daily_papers_2025-03-12.json"), DAILY_API)

    assert page.empty_reason is None
    for seen, expected in zip(page.papers, from_api.papers, strict=True):
        assert seen.arxiv_id == expected.arxiv_id
        assert seen.title == expected.title
        assert (seen.upvotes, seen.comments) == (expected.upvotes, expected.comments)
        assert (seen.published, seen.listed_on) == (expected.published, expected.listed_on)
        assert seen.url == expected.url


def test_page_unescapes_html_exactly_once() -> None:
    first, second = parse_page(fixture("hf_papers_date_2025-03-12.html"), DAY_PAGE).papers

    # &amp; → &, \&quot; → \" → ", &lt; → <; nothing is left escaped or unescaped twice.
    assert first.abstract == (
        'We study replay under a fixed memory budget & show "sparse" buffers <1% suffice.'
    )
    assert second.abstract == "A byte-level speech LM that needs no tokenizer; it's 2x faster."


def test_empty_day_page_is_empty_not_broken() -> None:
    page = parse_page(fixture("hf_papers_date_empty.html"), DAY_PAGE)

    assert page.papers == ()
    assert page.empty_reason == "no papers listed for this date"


def test_page_without_props_is_layout_drift_even_with_visible_titles() -> None:
    with pytest.raises(LayoutError, match="layout changed: no data-props found") as caught:
        parse_page(fixture("hf_papers_no_props.html"), DAY_PAGE)

    assert caught.value.source == DAY_PAGE


@pytest.mark.parametrize(
    "opening",
    [
        '<div data-props="{props}" data-target="DailyPapers">',
        "<div data-target='DailyPapers' class='contents' data-props='{props}'>",
        '<section id="x" data-target=DailyPapers data-props="{props}">',
    ],
    ids=["props-first", "single-quoted", "no-class-unquoted-target"],
)
def test_attribute_order_quoting_and_class_do_not_matter(opening: str) -> None:
    original = fixture("hf_papers_date_2025-03-12.html").decode()
    start = original.index('data-props="') + len('data-props="')
    # &#39; keeps the single-quoted variant well formed ("it's" is in the props).
    props = original[start : original.index('">', start)].replace("'", "&#39;")
    tag_start = original.index('<div class="SVELTE_HYDRATER')
    tag_end = original.index('">', start) + 2
    variant = original[:tag_start] + opening.replace("{props}", props) + original[tag_end:]

    papers = parse_page(variant.encode(), DAY_PAGE).papers

    assert [paper.arxiv_id for paper in papers] == ["2503.08123", "2503.07911"]
    assert papers[0].abstract.endswith('& show "sparse" buffers <1% suffice.')


def test_props_that_are_not_json_are_layout_drift() -> None:
    page = b'<html><div data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;:["></div>'

    with pytest.raises(LayoutError, match="data-props is not JSON"):
        parse_page(page, DAY_PAGE)


def test_props_without_a_paper_list_are_layout_drift() -> None:
    page = b'<html><div data-target="DailyPapers" data-props="{&quot;papers&quot;:[]}"></div>'

    with pytest.raises(LayoutError, match="no dailyPapers or searchResults list"):
        parse_page(page, DAY_PAGE)


def test_json_fed_to_the_page_parser_is_not_html() -> None:
    with pytest.raises(ParseError, match="not an HTML page"):
        parse_page(fixture("hf_daily_papers_2025-03-12.json"), DAY_PAGE)


def test_broken_item_in_page_names_the_list_and_index() -> None:
    page = b'<html><div data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;:[{}]}">'

    with pytest.raises(LayoutError, match=r"dailyPapers item 0: paper\.id is missing"):
        parse_page(page, DAY_PAGE)


# --- /papers?q=... search pages -------------------------------------------------------


def test_search_page_reads_search_results_and_ignores_trending() -> None:
    page = parse_page(fixture("hf_papers_search.html"), SEARCH_PAGE)

    # dailyPapers on a search page is the trending list (2503.10420, 2503.10111): not matches.
    assert [paper.arxiv_id for paper in page.papers] == ["2502.11873", "2410.05521", "2311.04412"]


def test_search_page_makes_tex_readable_and_unescapes_markup_once() -> None:
    papers = by_id(parse_page(fixture("hf_papers_search.html"), SEARCH_PAGE).papers)

    routing = papers["2502.11873"]
    assert routing.title == "Top-k Routing Without Auxiliary Losses in Sparse Mixture-of-Experts"
    assert routing.details.title_tex == (
        "Top-$k$ Routing Without Auxiliary Losses in Sparse Mixture-of-Experts"
    )
    assert routing.organization == "Northbay AI"
    assert (routing.upvotes, routing.comments, routing.author_count) == (23, 3, 4)

    script = papers["2410.05521"]
    assert script.title == "Sanitising <script> Tags in LLM-Generated HTML: A Benchmark"
    # The JSON holds the literal text "&lt;"; one unescape of the attribute must keep it.
    assert "replace < with &lt; miss" in script.abstract
    assert "a live <script> element & that" in script.abstract
    assert '"event handler"' in script.abstract
    assert "it's released" in script.abstract
    assert script.authors == ("Maya Lindqvist", "Sam Okoro")
    assert script.author_count == 3


def test_search_page_with_a_query_but_no_results_list_is_layout_drift() -> None:
    props = "{&quot;query&quot;:{&quot;q&quot;:&quot;x&quot;},&quot;dailyPapers&quot;:[]}"
    page = f'<html><div data-target="DailyPapers" data-props="{props}"></div>'.encode()

    # Falling back to dailyPapers would report trending papers as search matches.
    with pytest.raises(LayoutError, match="no searchResults list"):
        parse_page(page, SEARCH_PAGE)


def test_search_page_with_no_matches_is_empty() -> None:
    props = "{&quot;query&quot;:{&quot;q&quot;:&quot;x&quot;},&quot;searchResults&quot;:[]}"
    page = f'<html><div data-target="DailyPapers" data-props="{props}"></div>'.encode()

    assert parse_page(page, SEARCH_PAGE).empty_reason == "no papers matched the search"


def test_duplicate_ids_within_one_page_keep_the_first() -> None:
    items = daily_items()
    props = json.dumps({"dailyPapers": [items[1], items[0], items[1]]})
    escaped = props.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    page = f'<html><div data-target="DailyPapers" data-props="{escaped}"></div>'.encode()

    papers = parse_page(page, DAY_PAGE).papers

    assert [paper.arxiv_id for paper in papers] == ["2503.07911", "2503.08123"]


# --- a June 2025 day: TL;DR, code, TeX titles, and fields that are missing or wrong ---------

JUNE_API = "https://huggingface.co/api/daily_papers?date=2025-06-18&limit=100"
JUNE_PAGE = "https://huggingface.co/papers/date/2025-06-18"


def june() -> dict[str | None, Paper]:
    return by_id(parse_api(fixture("hf_daily_papers_2025-06-18.json"), JUNE_API).papers)


def test_the_outer_title_wins_when_paper_title_lost_its_tex() -> None:
    papers = june()

    # paper.title says "LLMtimesMapReduce-V2" and "nabla^2DFT": HF stripped the backslashes
    assert papers["2506.14201"].title.startswith("LLM×MapReduce-V2: Entropy-Driven")  # noqa: RUF001
    assert papers["2506.14201"].details.title_tex is not None
    assert papers["2506.14201"].details.title_tex.startswith(r"LLM$\times$MapReduce-V2")
    assert papers["2506.13850"].title.startswith("∇^2DFT: A Universal")
    # same text inside and out: paper.title, made readable
    assert papers["2506.12077"].title == (
        "Reading the Boletín Oficial: Legal Text Retrieval for Spanish"
    )


def test_abstract_tex_is_readable_and_its_plain_text_intact() -> None:
    abstract = june()["2506.14201"].abstract

    assert "{\\it" not in abstract and "$" not in abstract
    assert "least certain, vs. uniform allocation" in abstract
    assert "With rank-r adapters (r ≤ 16) the method" in abstract
    assert (
        "on 50% of the tasks while using 18% of its compute; R&D_cost and latency_p95" in abstract
    )


def test_tldr_keywords_code_and_stars_are_kept() -> None:
    details = june()["2506.14201"].details

    assert details.ai_summary is not None and details.ai_summary.startswith(
        "An entropy-driven scheduler for LLM×MapReduce"  # noqa: RUF001
    )
    assert details.ai_keywords[:2] == ("test-time scaling", "MapReduce")
    assert (details.github_repo, details.github_stars) == (
        "https://github.com/example-org/llm-x-mapreduce",
        412,
    )
    assert details.project_page is None
    assert details.hf_url == "https://huggingface.co/papers/2506.14201"
    assert details.featured_at == datetime(2025, 6, 18, 2, 11, 56, 482000, tzinfo=UTC)


def test_a_fresh_paper_has_a_project_page_but_no_tldr_or_repo() -> None:
    details = june()["2506.13850"].details

    assert details.ai_summary is None  # the freshest papers have none yet
    assert details.github_repo is None  # null in the payload
    assert details.project_page == "https://github.com/example-chem/nabla2dft"
    assert details.github_stars is None


def test_zero_stars_are_a_count_not_nothing() -> None:
    assert june()["2506.12077"].details.github_stars == 0


def test_wrong_or_unsafe_optional_fields_are_dropped_not_fatal() -> None:
    odd = june()["2506.11002"]

    assert odd.details.github_repo is None  # javascript: is never a link
    assert odd.details.github_stars is None  # "12" is a string, not a count
    assert odd.details.project_page is None  # ""
    assert (odd.details.ai_summary, odd.details.ai_keywords) == (None, ())  # nulls
    assert odd.details.thumbnail is None  # absent
    assert odd.organization is None
    assert (
        odd.abstract == "Unbalanced braces and a lone $ sign: metadata as authors really type it."
    )


def test_the_day_page_carries_the_same_papers_as_the_api() -> None:
    page = parse_page(fixture("hf_papers_date_2025-06-18.html"), JUNE_PAGE)

    assert by_id(page.papers) == june()
