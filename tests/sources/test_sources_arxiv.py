"""arXiv listing pages, API Atom and rss.arxiv.org feeds (digest.sources.arxiv).

Fixtures follow docs/formats.md §4, §5 and §6: invented papers in the real layouts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.errors import LayoutError, ParseError
from digest.model import Page, Paper, PaperDetails
from digest.sources import arxiv
from digest.sources.arxiv import (
    looks_like_api,
    looks_like_listing,
    looks_like_rss,
    parse_api,
    parse_listing,
    parse_rss,
)
from tests.support import fixture

NEW = "https://arxiv.org/list/cs.LG/new"
PASTWEEK = "https://arxiv.org/list/cs.CL/pastweek"
API = "https://export.arxiv.org/api/query?id_list=2503.08123,hep-th/9901001"
RSS = "https://rss.arxiv.org/rss/cs.LG"
ATOM = "https://rss.arxiv.org/atom/cs.LG"


def edited(name: str, old: str, new: str, count: int = -1) -> bytes:
    text = fixture(name).decode()
    assert old in text, f"{old!r} not in {name}"
    return text.replace(old, new, count).encode()


def by_id(page: Page) -> dict[str | None, Paper]:
    return {paper.arxiv_id: paper for paper in page.papers}


# --- listing: /new -------------------------------------------------------------------------


def test_new_listing_reads_every_field_of_a_new_submission() -> None:
    page = parse_listing(fixture("arxiv_list_cs.LG_new.html"), NEW)

    assert page.empty_reason is None
    assert page.papers[0] == Paper(
        title="Sparse Replay Buffers for Continual Instruction Tuning",  # "Title:" stripped
        abstract=(
            "Continual instruction tuning forgets earlier tasks. We study replay under a "
            "fixed memory budget and show that sparse buffers holding <1% of past data "
            "recover 92% of the forgetting gap."
        ),
        arxiv_id="2503.08123",
        version=None,  # listings never show a version
        doi=None,
        authors=("Mina Okafor", "Tomás Ruiz-Delgado", "Wen Li"),
        categories=("cs.LG", "cs.CL"),
        announce_type="new",
        listed_on="2025-03-12",  # "Showing new listings for Wednesday, 12 March 2025"
        url="https://arxiv.org/abs/2503.08123",
        details=PaperDetails(
            primary_category="cs.LG",
            # arXiv's "this https URL" link text gives way to the link itself
            arxiv_comment="14 pages, 5 figures. Code: https://github.com/example-lab/sparse-replay",
            pdf_url="https://arxiv.org/pdf/2503.08123",
            listed_in="cs.LG",
        ),
    )


def test_new_listing_classifies_each_section_in_page_order() -> None:
    page = parse_listing(fixture("arxiv_list_cs.LG_new.html"), NEW)

    assert [(p.arxiv_id, p.announce_type) for p in page.papers] == [
        ("2503.08123", "new"),
        ("2503.07911", "cross"),  # "Cross submissions"
        ("2411.01234", "replace"),  # "Replacement submissions", primary cs.LG
        ("hep-th/9901001", "replace-cross"),  # replaced, primary hep-th is not cs.LG
    ]
    assert {p.listed_on for p in page.papers} == {"2025-03-12"}


def test_cross_list_keeps_its_primary_category_first() -> None:
    cross = by_id(parse_listing(fixture("arxiv_list_cs.LG_new.html"), NEW))["2503.07911"]

    assert cross.categories == ("eess.AS", "cs.LG")
    assert cross.authors == ("Jonas Berg", "Priya N. Rao")


def test_old_style_id_keeps_its_slash_in_id_and_url() -> None:
    old = by_id(parse_listing(fixture("arxiv_list_cs.LG_new.html"), NEW))["hep-th/9901001"]

    assert old.url == "https://arxiv.org/abs/hep-th/9901001"
    assert old.title == "Learning Dualities from Data"
    assert old.authors == ("A. Vogel", "K. Sato")  # separated by " and ", not ", "
    assert old.categories == ("hep-th", "cs.LG")


def test_replacement_stays_under_its_original_id_with_tex_made_readable() -> None:
    replaced = by_id(parse_listing(fixture("arxiv_list_cs.LG_new.html"), NEW))["2411.01234"]

    assert replaced.title == "Bounds on k-Sparse Attention"
    assert replaced.abstract == "We prove tight bounds for k-sparse attention."
    assert replaced.details.title_tex == "Bounds on $k$-Sparse Attention"  # as sent, kept
    assert replaced.details.abstract_tex == "We prove tight bounds for $k$-sparse attention."


def test_listing_category_comes_from_the_page_when_the_url_has_none() -> None:
    # A saved page: the URL is a file name, the page's own /list/cs.LG/recent link names it.
    page = parse_listing(fixture("arxiv_list_cs.LG_new.html"), "/tmp/saved-listing.html")

    assert by_id(page)["hep-th/9901001"].announce_type == "replace-cross"


def test_replacement_without_a_known_category_is_a_plain_replace() -> None:
    payload = edited("arxiv_list_cs.LG_new.html", 'href="/list/cs.LG/recent"', 'href="#"')

    page = parse_listing(payload, "/tmp/saved-listing.html")

    assert by_id(page)["hep-th/9901001"].announce_type == "replace"


def test_archive_listing_counts_its_categories_as_inside() -> None:
    page = parse_listing(fixture("arxiv_list_cs.LG_new.html"), "https://arxiv.org/list/hep-th/new")

    assert by_id(page)["hep-th/9901001"].announce_type == "replace"
    assert by_id(page)["2411.01234"].announce_type == "replace-cross"


def test_headings_hoisted_out_of_the_dl_still_classify_the_items() -> None:
    # An HTML cleaner may move the invalid <h3>-in-<dl> before the <dl>: order is what counts.
    payload = edited(
        "arxiv_list_cs.LG_new.html",
        "<dl id='articles'>\n    <h3>Cross submissions (showing 1 of 1 entries)</h3>",
        "<h3>Cross submissions (showing 1 of 1 entries)</h3>\n<dl id='articles'>",
    )

    page = parse_listing(payload, NEW)

    assert by_id(page)["2503.07911"].announce_type == "cross"


def test_markers_classify_items_when_headings_say_nothing() -> None:
    payload = fixture("arxiv_list_cs.LG_new.html").decode()
    for heading in ("New submissions", "Cross submissions", "Replacement submissions"):
        payload = payload.replace(f"<h3>{heading}", "<h3>Listing")

    page = parse_listing(payload.encode(), NEW)

    assert [p.announce_type for p in page.papers] == ["new", "cross", "replace", "replace-cross"]


# --- listing: /recent and /pastweek --------------------------------------------------------


def test_pastweek_listing_dates_each_item_by_its_day_heading() -> None:
    page = parse_listing(fixture("arxiv_list_cs.CL_pastweek.html"), PASTWEEK)

    assert page.papers == (
        Paper(
            title="Sparse Replay Buffers for Continual Instruction Tuning",
            abstract="",  # recent/pastweek pages carry no abstracts
            arxiv_id="2503.08123",
            authors=("Mina Okafor",),
            categories=("cs.LG", "cs.CL"),
            announce_type="cross",  # "(cross-list from cs.LG)"
            listed_on="2025-03-12",  # "Wed, 12 Mar 2025 (showing 2 of 2 entries )"
            url="https://arxiv.org/abs/2503.08123",
            details=PaperDetails(
                primary_category="cs.LG",
                pdf_url="https://arxiv.org/pdf/2503.08123",
                listed_in="cs.CL",  # the listing it was cross-listed into
            ),
        ),
        Paper(
            title="Counting Tokens Is Hard",
            arxiv_id="2503.08201",
            authors=("Elise Moreau",),
            categories=("cs.CL",),
            announce_type="new",
            listed_on="2025-03-12",
            url="https://arxiv.org/abs/2503.08201",
            details=PaperDetails(
                primary_category="cs.CL",
                pdf_url="https://arxiv.org/pdf/2503.08201",
                listed_in="cs.CL",
            ),
        ),
    )


def test_pastweek_items_under_an_earlier_day_get_that_day() -> None:
    later_day = (
        "<dl id='articles'><h3>Tue, 11 Mar 2025 (showing 1 of 1 entries )</h3>"
        "<dt><a href='/abs/2503.07002' title='Abstract' id='2503.07002'>arXiv:2503.07002</a></dt>"
        "<dd><div class='meta'><div class='list-title mathjax'>"
        "<span class='descriptor'>Title:</span> Yesterday's Paper</div></div></dd></dl>"
    )
    payload = edited(
        "arxiv_list_cs.CL_pastweek.html",
        "<dl id='articles'><h3>Tue, 11 Mar 2025</h3><p>No updates for this time period.</p></dl>",
        later_day,
    )

    page = parse_listing(payload, PASTWEEK)

    assert by_id(page)["2503.07002"].listed_on == "2025-03-11"
    assert by_id(page)["2503.08201"].listed_on == "2025-03-12"


# --- listing: the pre-2024 layout ----------------------------------------------------------


def test_legacy_listing_reads_list_identifier_links_and_authors_descriptor() -> None:
    page = parse_listing(fixture("arxiv_list_legacy.html"), "https://arxiv.org/list/cs.LG/new")

    assert page.papers[0] == Paper(
        title="Gradient Noise as a Curriculum",
        # the <br /> arXiv puts for line breaks becomes a space
        abstract=(
            "We read gradient noise as an implicit curriculum and show that annealing it "
            "matches hand-designed schedules on five benchmarks."
        ),
        arxiv_id="2202.05011",
        authors=("Hanna Lindqvist", "Chidi Obi"),  # no "Authors:" descriptor
        categories=("cs.LG", "math.OC"),
        announce_type="new",
        listed_on="2022-02-14",  # "New submissions for Mon, 14 Feb 22"
        url="https://arxiv.org/abs/2202.05011",
        details=PaperDetails(
            primary_category="cs.LG",
            arxiv_comment="9 pages, 3 figures",
            pdf_url="https://arxiv.org/pdf/2202.05011",
            listed_in="cs.LG",
        ),
    )


def test_legacy_listing_classifies_cross_lists_and_replacements() -> None:
    page = parse_listing(fixture("arxiv_list_legacy.html"), "https://arxiv.org/list/cs.LG/new")

    assert [(p.arxiv_id, p.announce_type) for p in page.papers] == [
        ("2202.05011", "new"),
        ("2202.04980", "cross"),  # "Cross-lists for Mon, 14 Feb 22"
        ("2106.00042", "replace"),  # "Replacements for Mon, 14 Feb 22"
        ("math.GT/0309136", "replace-cross"),  # old-style id with a subject class
    ]
    assert by_id(page)["2202.04980"].authors == ("Luísa Ferreira",)


# --- listing: empty versus broken ----------------------------------------------------------


def test_no_updates_today_is_an_empty_page_not_an_error() -> None:
    page = parse_listing(fixture("arxiv_list_empty.html"), NEW)

    assert page == Page((), empty_reason="No updates today.")


def test_recent_page_with_every_day_empty_is_an_empty_page() -> None:
    text = fixture("arxiv_list_cs.CL_pastweek.html").decode()
    start, end = text.index("<dl id='articles'>"), text.index("</dl>") + len("</dl>")
    quiet = (
        "<dl id='articles'><h3>Wed, 12 Mar 2025</h3><p>No updates for this time period.</p></dl>"
    )

    page = parse_listing((text[:start] + quiet + text[end:]).encode(), PASTWEEK)

    assert page == Page((), empty_reason="No updates for this time period.")


def test_drifted_page_with_visible_titles_but_no_dl_is_layout_drift() -> None:
    with pytest.raises(LayoutError, match=r"no dl#articles"):
        parse_listing(fixture("arxiv_list_drifted.html"), NEW)


def test_renamed_list_title_is_layout_drift_naming_the_item() -> None:
    payload = edited("arxiv_list_cs.LG_new.html", "list-title", "paper-title")

    with pytest.raises(LayoutError, match=r"item 1 \(2503\.08123\): no \.list-title"):
        parse_listing(payload, NEW)


def test_one_item_without_list_title_fails_the_page_even_if_others_parse() -> None:
    text = fixture("arxiv_list_cs.LG_new.html").decode()
    last = text.rindex("list-title")  # only item 4 drifts; items 1-3 are intact
    payload = (text[:last] + "paper-title" + text[last + len("list-title") :]).encode()

    with pytest.raises(LayoutError, match=r"item 4 \(hep-th/9901001\): no \.list-title"):
        parse_listing(payload, NEW)


def test_dt_without_an_arxiv_id_is_layout_drift() -> None:
    payload = edited(
        "arxiv_list_cs.LG_new.html",
        '<a href ="/abs/2503.07911" title="Abstract" id="2503.07911">',
        '<a href ="#" title="Summary">',
    )

    with pytest.raises(LayoutError, match=r"item 2: no arXiv id in its dt"):
        parse_listing(payload, NEW)


def test_dt_without_its_dd_is_layout_drift() -> None:
    payload = edited("arxiv_list_cs.LG_new.html", "<dd>", "<div>", count=1)

    with pytest.raises(LayoutError, match=r"item 1: a dt without its dd"):
        parse_listing(payload, NEW)


def test_dl_without_items_or_notice_is_layout_drift() -> None:
    payload = b"<html><body><div id='dlpage'><dl id='articles'></dl></div></body></html>"

    with pytest.raises(LayoutError, match=r"no dt items in dl#articles"):
        parse_listing(payload, NEW)


def test_login_page_is_a_parse_error_not_an_empty_day() -> None:
    with pytest.raises(ParseError, match=r"login or captcha page") as caught:
        parse_listing(fixture("login_page.html"), NEW)

    assert not isinstance(caught.value, LayoutError)
    assert caught.value.source == NEW


def test_captcha_page_is_a_parse_error() -> None:
    payload = (
        b"<html><head><title>Just a moment</title></head><body>Solve the CAPTCHA</body></html>"
    )

    with pytest.raises(ParseError, match=r"login or captcha page"):
        parse_listing(payload, NEW)


def test_arxiv_looking_page_without_dlpage_or_dl_articles_is_layout_drift() -> None:
    payload = edited("arxiv_list_cs.LG_new.html", "id='dlpage'", "id='listing-page'")
    payload = payload.replace(b"<dl id='articles'>", b"<dl>")

    with pytest.raises(LayoutError, match=r"no div#dlpage"):
        parse_listing(payload, NEW)


def test_a_page_holding_dl_articles_is_read_without_its_dlpage_wrapper() -> None:
    payload = edited("arxiv_list_cs.LG_new.html", "id='dlpage'", "id='listing-page'")

    assert parse_listing(payload, NEW) == parse_listing(fixture("arxiv_list_cs.LG_new.html"), NEW)


def test_a_month_listing_reads_like_recent() -> None:
    page = parse_listing(fixture("arxiv_list_cs.LG_2503.html"), "https://arxiv.org/list/cs.LG/2503")

    assert [paper.arxiv_id for paper in page.papers] == ["2503.00017", "2503.00102", "2503.00240"]
    assert [paper.announce_type for paper in page.papers] == ["new", "cross", "new"]
    assert page.papers[1].categories == ("stat.ML", "cs.LG")


@pytest.mark.parametrize("name", ["arxiv_rss_cs.LG.xml", "hf_jsonfeed.json"])
def test_other_formats_are_not_listings(name: str) -> None:
    with pytest.raises(ParseError, match=r"not an arXiv listing page"):
        parse_listing(fixture(name), NEW)


def test_empty_payload_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"empty payload"):
        parse_listing(b"  \n", NEW)


# --- export.arxiv.org API ------------------------------------------------------------------


def test_api_entry_reads_every_field() -> None:
    page = parse_api(fixture("arxiv_api_id_list.xml"), API)

    assert page.papers[0] == Paper(
        title="Sparse Replay Buffers for Continual Instruction Tuning",
        # the summary is hard-wrapped and starts with two spaces
        abstract=(
            "Continual instruction tuning forgets earlier tasks. We study replay under a "
            "fixed memory budget and show that sparse buffers holding <1% of past data "
            "recover 92% of the forgetting gap."
        ),
        arxiv_id="2503.08123",
        version=1,  # from http://arxiv.org/abs/2503.08123v1
        authors=("Mina Okafor", "Tomás Ruiz-Delgado"),  # affiliations are not names
        published=datetime(2025, 3, 11, 17, 58, 2, tzinfo=UTC),
        categories=("cs.LG", "cs.CL"),
        url="https://arxiv.org/abs/2503.08123",
        details=PaperDetails(
            primary_category="cs.LG",
            arxiv_comment="14 pages, 5 figures. Code: https://github.com/example-lab/sparse-replay",
            pdf_url="https://arxiv.org/pdf/2503.08123v1",
        ),
    )


def test_api_old_style_entry_keeps_version_and_doi() -> None:
    old = parse_api(fixture("arxiv_api_id_list.xml"), API).papers[1]

    assert (old.arxiv_id, old.version) == ("hep-th/9901001", 2)
    assert old.title == "Learning Dualities from Data"  # "from\n  Data" normalised
    assert old.doi == "10.1000/example.2001.012"
    assert old.details.journal_ref == "J. Example Phys. 12 (2001) 1-20"
    assert old.details.primary_category == "hep-th"
    assert old.details.pdf_url == "https://arxiv.org/pdf/hep-th/9901001v2"
    assert old.published == datetime(1999, 1, 4, 21, 0, tzinfo=UTC)  # v1 submission time
    assert old.announce_type is None
    assert old.listed_on is None


def test_api_puts_the_primary_category_first() -> None:
    payload = edited(
        "arxiv_api_id_list.xml",
        '<arxiv:primary_category term="cs.LG"/> <category term="cs.LG"/> <category term="cs.CL"/>',
        '<category term="cs.LG"/> <category term="cs.CL"/> <arxiv:primary_category term="cs.CL"/>',
    )

    assert parse_api(payload, API).papers[0].categories == ("cs.CL", "cs.LG")


def test_api_reads_namespaces_not_prefixes() -> None:
    payload = b"""<?xml version="1.0"?>
<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:os="http://a9.com/-/spec/opensearch/1.1/"
        xmlns:ax="http://arxiv.org/schemas/atom" xmlns:arxiv="urn:not-arxiv">
  <os:totalResults>1</os:totalResults>
  <a:entry>
    <a:id>http://arxiv.org/abs/2503.08123v2</a:id>
    <a:published>2025-03-11T13:58:02-04:00</a:published>
    <a:title>Prefixes Are Not Names</a:title>
    <ax:doi>10.1000/REAL</ax:doi>
    <arxiv:doi>10.1000/decoy</arxiv:doi>
  </a:entry>
</a:feed>"""

    paper = parse_api(payload, API).papers[0]

    assert (paper.arxiv_id, paper.version, paper.doi) == ("2503.08123", 2, "10.1000/real")
    assert paper.published == datetime(2025, 3, 11, 17, 58, 2, tzinfo=UTC)  # offset -> UTC


def test_api_error_entry_is_a_parse_error_with_its_message() -> None:
    with pytest.raises(ParseError, match=r"incorrect id format for 2503\.0812x"):
        parse_api(fixture("arxiv_api_error.xml"), API)


def test_api_with_zero_results_is_an_empty_page() -> None:
    page = parse_api(fixture("arxiv_api_empty.xml"), API)

    assert page.papers == ()
    assert page.empty_reason == "the arXiv API found no results for this query"


def test_api_without_entries_but_a_positive_total_is_an_error_to_retry() -> None:
    # arXiv answers short when called faster than every 3 s: not "no papers".
    payload = edited(
        "arxiv_api_empty.xml", "<opensearch:totalResults>0", "<opensearch:totalResults>57"
    )

    with pytest.raises(ParseError, match=r"totalResults is 57; retry later"):
        parse_api(payload, API)


def test_api_paging_past_the_end_is_an_empty_page() -> None:
    payload = edited(
        "arxiv_api_empty.xml", "<opensearch:totalResults>0", "<opensearch:totalResults>57"
    ).replace(b"<opensearch:startIndex>0", b"<opensearch:startIndex>100")

    assert parse_api(payload, API).empty_reason == "start index 100 is past the last of 57 results"


def test_api_entry_without_an_arxiv_id_is_layout_drift() -> None:
    payload = edited("arxiv_api_id_list.xml", "http://arxiv.org/abs/2503.08123v1</id>", "</id>")

    with pytest.raises(LayoutError, match=r"entry 1: no arXiv id"):
        parse_api(payload, API)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (fixture("arxiv_api_id_list.xml")[:700], r"not well-formed XML"),
        (b"<html><body>Service Unavailable</body></html>", r"root element is html"),
        (b"", r"empty payload"),
        (b'{"error": "rate limited"}', r"not well-formed XML"),
    ],
    ids=["truncated", "html", "empty", "json"],
)
def test_api_payload_that_is_not_atom_is_a_parse_error(payload: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_api(payload, API)


# --- rss.arxiv.org: RSS 2.0 ----------------------------------------------------------------


def test_rss_fixture_keeps_the_real_trailing_space_after_the_announce_type() -> None:
    assert b"Announce Type: new \nAbstract:" in fixture("arxiv_rss_cs.LG.xml")


def test_rss_item_reads_every_field() -> None:
    page = parse_rss(fixture("arxiv_rss_cs.LG.xml"), RSS)

    assert page.papers[0] == Paper(
        title="Sparse Replay Buffers for Continual Instruction Tuning",
        abstract=(  # only the abstract: the "arXiv:… Announce Type: …" prefix is dropped
            "Continual instruction tuning forgets earlier tasks. We study replay under a "
            "fixed memory budget and show that sparse buffers holding <1% of past data "
            "recover 92% of the forgetting gap."
        ),
        arxiv_id="2503.08123",
        version=1,  # from the guid oai:arXiv.org:2503.08123v1; the link has none
        authors=("Mina Okafor", "Tomás Ruiz-Delgado", "Wen Li"),  # Tom\'as converted
        categories=("cs.LG", "cs.CL"),
        announce_type="new",
        listed_on="2025-03-12",  # pubDate Wed, 12 Mar 2025 00:00:00 -0400
        url="https://arxiv.org/abs/2503.08123",
        details=PaperDetails(primary_category="cs.LG", listed_in="cs.LG"),
    )


def test_rss_keeps_each_announce_type_version_and_doi() -> None:
    page = parse_rss(fixture("arxiv_rss_cs.LG.xml"), RSS)

    assert [(p.arxiv_id, p.version, p.announce_type, p.doi) for p in page.papers] == [
        ("2503.08123", 1, "new", None),
        ("2503.07911", 1, "cross", None),
        ("2411.01234", 3, "replace", None),
        ("hep-th/9901001", 2, "replace-cross", "10.1000/example.2001.012"),
    ]
    assert by_id(page)["2503.07911"].categories == ("eess.AS", "cs.LG")
    old = by_id(page)["hep-th/9901001"].details
    assert (old.primary_category, old.listed_in) == ("hep-th", "cs.LG")
    assert old.journal_ref == "J. Example Phys. 12 (2001) 1-20"


def test_multi_category_feed_names_the_queried_category_a_cross_list_carries() -> None:
    both = "https://rss.arxiv.org/rss/cs.CL+cs.LG"
    page = parse_rss(fixture("arxiv_rss_cs.LG.xml"), both)

    # eess.AS primary, cs.LG cross-list: it was listed under cs.LG, not cs.CL (the URL's first)
    assert by_id(page)["2503.07911"].details.listed_in == "cs.LG"
    assert by_id(page)["2503.08123"].details.listed_in == "cs.LG"  # its primary was queried


def test_rss_unknown_announce_type_is_none_not_a_failure() -> None:
    payload = edited(
        "arxiv_rss_cs.LG.xml", "<arxiv:announce_type>new<", "<arxiv:announce_type>absonly<"
    )

    assert parse_rss(payload, RSS).papers[0].announce_type is None


def test_rss_announce_type_falls_back_to_the_description() -> None:
    payload = edited("arxiv_rss_cs.LG.xml", "<arxiv:announce_type>cross</arxiv:announce_type>", "")

    assert by_id(parse_rss(payload, RSS))["2503.07911"].announce_type == "cross"


@pytest.mark.parametrize(
    ("creator", "authors"),
    [
        (r"Paulo Andr\'e Lima de Castro", ("Paulo André Lima de Castro",)),
        (r"{\"O}zlem T\"urk, Fran\c{c}ois Roy", ("Özlem Türk", "François Roy")),
        (r"\v{S}imon Dvo\v r\'ak, Sof\'{\i}a Ruiz", ("Šimon Dvořák", "Sofía Ruiz")),
        (r"S{\o}ren Strau\ss, \AA sa Bj\o rk", ("Søren Strauß", "Åsa Bjørk")),
        ("A. Vogel (Univ. Example, Berlin), K. Sato (MIT)", ("A. Vogel", "K. Sato")),
    ],
)
def test_rss_creators_are_split_and_tex_accents_become_unicode(
    creator: str, authors: tuple[str, ...]
) -> None:
    payload = edited("arxiv_rss_cs.LG.xml", "Mina Okafor, Tom\\'as Ruiz-Delgado, Wen Li", creator)

    assert parse_rss(payload, RSS).papers[0].authors == authors


def test_rss_tex_is_made_readable_and_kept_as_sent() -> None:
    payload = edited(
        "arxiv_rss_cs.LG.xml",
        "Abstract: We prove tight bounds for $k$-sparse attention.",
        r"Abstract: For $\alpha^2 \le x$, 50% of Schr\"odinger bridges.",
    )

    replaced = by_id(parse_rss(payload, RSS))["2411.01234"]

    assert replaced.title == "Bounds on k-Sparse Attention"
    assert replaced.abstract == "For α^2 ≤ x, 50% of Schrödinger bridges."  # noqa: RUF001
    assert replaced.details.abstract_tex == r"For $\alpha^2 \le x$, 50% of Schr\"odinger bridges."


def test_rss_weekend_channel_without_items_is_an_empty_page() -> None:
    page = parse_rss(fixture("arxiv_rss_weekend.xml"), RSS)

    assert page.papers == ()
    assert page.empty_reason == "no announcement: the feed for 2025-03-15 has no items"


def test_rss_feed_error_is_a_parse_error_with_the_description() -> None:
    with pytest.raises(ParseError, match=r"Bad subject class 'XY'"):
        parse_rss(fixture("arxiv_rss_feed_error.xml"), "https://rss.arxiv.org/rss/cs.XY")


def test_rss_item_without_any_arxiv_id_is_layout_drift() -> None:
    text = fixture("arxiv_rss_cs.LG.xml").decode()
    for old in ("oai:arXiv.org:2503.08123v1", "arXiv:2503.08123v1 ", "/abs/2503.08123<"):
        text = text.replace(old, "<" if old.endswith("<") else "")

    with pytest.raises(LayoutError, match=r"item 1: no arXiv id"):
        parse_rss(text.encode(), RSS)


@pytest.mark.parametrize(
    "payload",
    [fixture("arxiv_rss_cs.LG.xml")[:900], fixture("login_page.html"), b""],
    ids=["truncated", "html", "empty"],
)
def test_rss_payload_that_is_not_a_feed_is_a_parse_error(payload: bytes) -> None:
    with pytest.raises(ParseError):
        parse_rss(payload, RSS)


# --- rss.arxiv.org: Atom -------------------------------------------------------------------


def test_atom_flavour_reads_the_same_fields() -> None:
    page = parse_rss(fixture("arxiv_atom_cs.LG.xml"), ATOM)

    assert page.papers[0] == Paper(
        title="Monotone Probes for Reward Models",
        # arXiv escapes the abstract as text: "x<y and y>z" must survive (feedparser eats it)
        abstract=(
            "We fit probes that stay monotone for all x<y and y>z, and show they transfer "
            "across reward models."
        ),
        arxiv_id="2503.09317",
        version=1,
        authors=("René Dubois", "Ana Lima"),  # "(Universit\'e Example, Lyon)" dropped
        categories=("cs.LG", "cs.AI"),
        announce_type="new",
        listed_on="2025-03-13",  # published 2025-03-13T00:00:00-04:00
        url="https://arxiv.org/abs/2503.09317",
        details=PaperDetails(primary_category="cs.LG", listed_in="cs.LG"),  # from the feed id
    )


def test_atom_flavour_keeps_types_versions_and_doi() -> None:
    page = parse_rss(fixture("arxiv_atom_cs.LG.xml"), ATOM)

    assert [(p.arxiv_id, p.version, p.announce_type, p.doi) for p in page.papers] == [
        ("2503.09317", 1, "new", None),
        ("2503.08877", 1, "cross", None),  # "cross\nAbstract": no trailing space here
        ("2409.11111", 4, "replace", "10.1000/example.icr.2025.7"),
        ("cond-mat/0207001", 3, "replace-cross", None),
    ]
    assert by_id(page)["2503.08877"].authors == ("Jürgen Klein", "Sofía Ortega")
    assert by_id(page)["2503.08877"].abstract == (
        "Contact-map priors improve zero-shot fitness prediction."
    )


def test_atom_flavour_without_entries_is_an_empty_page() -> None:
    text = fixture("arxiv_atom_cs.LG.xml").decode()
    empty = text[: text.index("<entry>")] + "</feed>\n"

    page = parse_rss(empty.encode(), ATOM)

    assert page == Page((), empty_reason="no announcement: the feed for 2025-03-13 has no items")


# --- sniffers ------------------------------------------------------------------------------

SNIFFERS: dict[str, Callable[[bytes], bool]] = {
    "listing": looks_like_listing,
    "api": looks_like_api,
    "rss": looks_like_rss,
}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("arxiv_list_cs.LG_new.html", "listing"),
        ("arxiv_list_cs.CL_pastweek.html", "listing"),
        ("arxiv_list_legacy.html", "listing"),
        ("arxiv_list_empty.html", "listing"),
        ("arxiv_list_drifted.html", "listing"),  # so that it fails loudly as drift
        ("arxiv_api_id_list.xml", "api"),
        ("arxiv_api_error.xml", "api"),
        ("arxiv_api_empty.xml", "api"),
        ("arxiv_rss_cs.LG.xml", "rss"),
        ("arxiv_atom_cs.LG.xml", "rss"),
        ("arxiv_rss_weekend.xml", "rss"),
        ("arxiv_rss_feed_error.xml", "rss"),
        ("third_party_hf_rss.xml", None),
        ("generic_atom_with_doi.xml", None),
        ("hf_jsonfeed.json", None),
        ("login_page.html", None),
    ],
)
def test_each_sniffer_claims_only_its_own_format(name: str, kind: str | None) -> None:
    payload = fixture(name)

    claimed = {sniffer for sniffer, looks_like in SNIFFERS.items() if looks_like(payload)}

    assert claimed == ({kind} if kind else set())


def test_sniffers_claim_the_examples_for_new_users() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"

    assert looks_like_listing((examples / "arxiv-cs.LG-new.html").read_bytes())
    assert looks_like_rss((examples / "arxiv-cs.LG.rss").read_bytes())


def test_module_exports_exactly_the_parsers_and_sniffers() -> None:
    assert sorted(arxiv.__all__) == [
        "looks_like_api",
        "looks_like_listing",
        "looks_like_rss",
        "parse_api",
        "parse_listing",
        "parse_rss",
    ]


# --- the examples shipped for new users ----------------------------------------------------


def test_examples_overlap_on_one_paper_and_each_has_a_cross_list() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    listing = parse_listing((examples / "arxiv-cs.LG-new.html").read_bytes(), "example")
    feed = parse_rss((examples / "arxiv-cs.LG.rss").read_bytes(), "example")

    assert 5 <= len(listing.papers) <= 8 and 5 <= len(feed.papers) <= 8
    assert set(by_id(listing)) & set(by_id(feed)) == {"2503.09577"}
    assert "cross" in {p.announce_type for p in listing.papers}
    assert "cross" in {p.announce_type for p in feed.papers}
    fixture_ids = set(by_id(parse_listing(fixture("arxiv_list_cs.LG_new.html"), NEW)))
    assert not fixture_ids & (set(by_id(listing)) | set(by_id(feed)))
