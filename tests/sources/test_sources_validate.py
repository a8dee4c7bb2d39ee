"""The boundary where source data becomes a Paper (digest.sources.validate)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.errors import ParseError
from digest.model import Page, Paper, PaperDetails
from digest.sources.validate import (
    ELLIPSIS,
    MAX_ABSTRACT,
    MAX_FIELD,
    MAX_TITLE,
    _names,
    clean,
    valid_paper,
    validated_page,
    violations,
)

NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)


def checked(**fields: object) -> Paper:
    paper = valid_paper(Paper(**{"title": "A title", **fields}), source="hf-daily", now=NOW)  # type: ignore[arg-type]
    assert paper is not None
    assert violations(paper, now=NOW) == []
    return paper


@pytest.mark.parametrize("value", [-1, -1_000_000, 10**9 + 1, 2**63, True, 1e30, "12"])
@pytest.mark.parametrize("field", ["upvotes", "comments", "author_count"])
def test_a_count_outside_0_to_a_billion_is_dropped_with_a_warning_naming_source_and_field(
    field: str, value: object, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert getattr(checked(**{field: value}), field) is None
    assert "hf-daily" in caplog.text and field in caplog.text


@pytest.mark.parametrize("value", [0, 1, 41, 10**9])
def test_counts_in_range_are_kept(value: int) -> None:
    assert checked(upvotes=value, comments=value).upvotes == value


def test_version_zero_is_not_a_version() -> None:
    assert checked(version=0).version is None
    assert checked(version=3).version == 3


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 6, 1, tzinfo=UTC),
        datetime(1990, 12, 31, 23, 59, tzinfo=UTC),
        NOW + timedelta(days=2, seconds=1),
        datetime(9999, 12, 31, tzinfo=UTC),
    ],
)
def test_a_date_before_1991_or_past_now_plus_two_days_is_dropped(moment: datetime) -> None:
    assert checked(published=moment).published is None


@pytest.mark.parametrize("moment", [datetime(1991, 1, 1, tzinfo=UTC), NOW, NOW + timedelta(days=2)])
def test_dates_within_the_window_are_kept(moment: datetime) -> None:
    assert checked(published=moment).published == moment


def test_a_naive_date_is_read_as_utc() -> None:
    assert checked(published=datetime(2025, 3, 11, 17, 58)).published == datetime(
        2025, 3, 11, 17, 58, tzinfo=UTC
    )


def test_a_long_title_is_cut_at_a_word_and_marked() -> None:
    title = checked(title="word " * 400).title
    assert len(title) <= MAX_TITLE
    assert title.endswith("word" + ELLIPSIS)


def test_a_long_abstract_is_cut_at_a_word_and_marked() -> None:
    abstract = checked(abstract="abstract " * 5000).abstract
    assert len(abstract) <= MAX_ABSTRACT and abstract.endswith("abstract" + ELLIPSIS)


def test_one_giant_word_is_cut_where_it_must_be() -> None:
    assert clean("x" * 5000, 100) == "x" * 99 + ELLIPSIS


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("\u202eevil\u202c title", "evil title"),  # bidi override and pop
        ("Pre\u200btraining\ufeff", "Pretraining"),  # zero-width space, BOM
        ("a\u2066b\u2069c", "abc"),  # isolates
        ("bell\x07 and \x1b[31mescape", "bell and [31mescape"),  # C0 controls
        ("c1\x85\x9bcontrols", "c1controls"),  # C1 controls
        ("Bad \ud800 surrogate", "Bad \ufffd surrogate"),
        ("tab\tand\nnewline", "tab and newline"),  # whitespace collapses, as everywhere
    ],
)
def test_invisible_and_reordering_characters_are_removed(raw: str, stored: str) -> None:
    assert checked(title=raw, abstract=raw, authors=(raw,)).title == stored
    assert checked(abstract=raw).abstract == stored
    assert checked(authors=(raw,), organization=raw).authors == (stored,)


def test_a_title_of_only_invisible_characters_drops_the_paper(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        assert valid_paper(Paper(title="\u200b\u202e\x00"), source="hf-daily", now=NOW) is None
    assert "hf-daily" in caplog.text


def test_a_page_whose_every_title_is_unusable_is_a_parse_error_not_a_quiet_day() -> None:
    with pytest.raises(ParseError, match=r"^hf: none of the 2 paper\(s\) has a usable title"):
        validated_page(Page((Paper(title="\u200b"), Paper(title="\x00"))), source="hf", now=NOW)
    assert validated_page(Page((), "no papers listed"), source="hf", now=NOW) == Page(
        (), "no papers listed"
    )


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd"])
def test_only_http_and_https_links_are_kept(url: str) -> None:
    assert checked(url=url).url is None
    assert checked(url="https://arxiv.org/abs/2503.08123").url == "https://arxiv.org/abs/2503.08123"


def test_an_id_too_long_to_be_one_is_dropped_not_cut() -> None:
    assert checked(doi="10.1000/" + "x" * 2000).doi is None


def test_violations_names_what_is_wrong() -> None:
    bad = Paper(title="", upvotes=-1, published=datetime(1, 1, 1, tzinfo=UTC), url="ftp://x")
    assert violations(bad, now=NOW) == [
        "empty title",
        "upvotes -1 out of range",
        f"published {bad.published!r} out of range",
        "url 'ftp://x' is not http(s)",
    ]


def test_details_follow_the_same_rules_links_counts_dates_and_text() -> None:
    hostile = PaperDetails(
        ai_summary="A TL;DR\u202e with a bidi override\x00",
        ai_keywords=("ok", "\u200b", "x" * 2_000),
        github_repo="javascript:alert(1)",
        github_stars=-5,
        project_page="https://example.org/project",
        thumbnail="data:image/png;base64,AAAA",
        featured_at=datetime(1, 1, 1, tzinfo=UTC),
        pdf_url="https://arxiv.org/pdf/2503.08123",
        arxiv_comment="c" * (MAX_ABSTRACT + 10),
        title_tex="A $k$ title\u2066",
    )

    details = checked(details=hostile).details

    assert details.ai_summary == "A TL;DR with a bidi override"
    assert details.ai_keywords[0] == "ok" and len(details.ai_keywords) == 2
    assert (details.github_repo, details.github_stars, details.thumbnail) == (None, None, None)
    assert details.featured_at is None
    assert details.project_page == "https://example.org/project"
    assert details.pdf_url == "https://arxiv.org/pdf/2503.08123"
    assert details.arxiv_comment is not None and details.arxiv_comment.endswith(ELLIPSIS)
    assert details.title_tex == "A $k$ title"


def test_violations_see_a_bad_link_in_the_details() -> None:
    bad = Paper("A title", details=PaperDetails(github_repo="javascript:alert(1)"))

    assert violations(bad, now=NOW) == ["github_repo 'javascript:alert(1)' is not http(s)"]


def test_a_paper_that_needs_nothing_is_handed_on_as_it_is() -> None:
    paper = Paper(
        "A clean title", abstract="Plain words.", authors=("Ada Lovelace",),
        published=NOW - timedelta(days=1), url="https://arxiv.org/abs/2503.00001",
    )  # fmt: skip

    assert valid_paper(paper, source="feed", now=NOW) is paper


def test_a_name_with_nothing_left_is_dropped_and_the_others_kept() -> None:
    paper = Paper("A clean title", authors=("Ada Lovelace", "\u200b", "Alan Turing"),
                  categories=("cs.LG", ""))  # fmt: skip

    valid = valid_paper(paper, source="feed", now=NOW)

    assert valid is not None and valid is not paper
    assert (valid.authors, valid.categories) == (("Ada Lovelace", "Alan Turing"), ("cs.LG",))
    assert replace(valid, authors=paper.authors, categories=paper.categories) == paper


def test_text_a_parser_left_uncleaned_is_still_cleaned() -> None:
    paper = checked(
        title="  Two  spaces ", abstract="tab\there", authors=(" Ada  Lovelace",),
        categories=("cs.LG ",),
    )  # fmt: skip

    assert (paper.title, paper.abstract) == ("Two spaces", "tab here")
    assert (paper.authors, paper.categories) == (("Ada Lovelace",), ("cs.LG",))


def test_a_date_in_another_zone_is_moved_to_utc_even_when_nothing_else_changes() -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2025, 3, 11, 9, 0, tzinfo=paris)

    published = checked(published=moment).published

    assert published == moment and published is not None and published.tzinfo is UTC


@given(
    st.lists(
        st.sampled_from(["Ada Lovelace", "", " a", "a  b", "Tom\u00e1s", "\u200b", "x" * 1_001])
        | st.text(max_size=5),
        max_size=5,
    ).map(tuple)
)
def test_names_are_each_cleaned_and_the_empty_ones_dropped(names: tuple[str, ...]) -> None:
    expected = tuple(name for value in names if (name := clean(value, MAX_FIELD)))
    assert _names(names) == expected
