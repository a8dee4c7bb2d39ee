"""The chat post: title line, linked papers with TL;DR, the day page, and the service's size limit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from digest.config import load_settings
from digest.errors import ConfigError
from digest.model import PaperDetails
from digest.render.channel import escape_markdown, post_title, render_post
from digest.render.entry import first_sentences
from digest.render.follow_ups import UpdateLine
from tests.factories import make_stored_paper

DAY = date(2026, 12, 1)
URL = "https://papers.example.org/digests/2026-12-01"
PAPERS = [make_stored_paper(id=i) for i in range(1, 13)]


def test_the_title_line_counts_the_papers_and_names_the_day() -> None:
    assert post_title(12, DAY, DAY) == "12 new papers \u2014 Tue 1 Dec"
    assert post_title(1, date(2026, 11, 29), DAY) == "1 new paper \u2014 Sun 29 Nov to Tue 1 Dec"


def test_top_papers_are_linked_titles_with_tldr_and_links_then_the_day_page() -> None:
    made = render_post(
        PAPERS, first_day=DAY, last_day=DAY, day_url=URL, max_papers=10, limit=100_000
    )

    assert (made.shown, made.more) == (10, 2)
    first = made.body.split("\n\n")[0].split("\n")
    assert first[0] == "**[Sparse Experts at Scale, Part 1](https://arxiv.org/abs/2503.00001)**"
    # the mail's TL;DR: the abstract's first sentence or two
    assert first[1] == escape_markdown(first_sentences(PAPERS[0].abstract))
    assert first[2] == (
        "[arXiv](https://arxiv.org/abs/2503.00001) \u00b7 [PDF](https://arxiv.org/pdf/2503.00001)"
        " \u00b7 [Hugging Face](https://huggingface.co/papers/2503.00001)"
    )
    assert made.body.endswith(f"and 2 more on [the day page]({URL})")


def test_a_paper_has_the_same_tldr_and_links_as_in_the_mail() -> None:
    paper = make_stored_paper(
        details=PaperDetails(
            ai_summary="Sparse experts scale.",
            github_repo="https://github.com/example-lab/experts",
            github_stars=1234,
        )
    )

    made = render_post([paper], first_day=DAY, last_day=DAY, day_url=URL, max_papers=10, limit=9999)

    block = made.body.split("\n\n")[0].split("\n")
    assert block[1] == "_TL;DR \\(AI summary by Hugging Face\\):_ Sparse experts scale."
    assert "[Code \\(\u2605 1,234\\)](https://github.com/example-lab/experts)" in block[2]


def test_a_post_is_cut_to_the_service_limit_with_and_n_more() -> None:
    made = render_post(PAPERS, first_day=DAY, last_day=DAY, day_url=URL, max_papers=10, limit=2000)

    assert len(made.body) <= 2000
    assert made.shown + made.more == 12 and made.more > 2
    assert made.body.endswith(f"and {made.more} more on [the day page]({URL})")
    with_title = render_post(
        PAPERS, first_day=DAY, last_day=DAY, day_url=URL, max_papers=10, limit=2000,
        title_in_body=True,
    )  # fmt: skip
    assert len(with_title.title) + 2 + len(with_title.body) <= 2000


def test_untrusted_titles_cannot_open_links_or_html() -> None:
    hostile = make_stored_paper(title="[click](javascript:alert(1)) <img src=x> *now*", url=None)
    made = render_post(
        [hostile], first_day=DAY, last_day=DAY, day_url=URL, max_papers=10, limit=10_000
    )

    assert "](javascript:" not in made.body
    assert "<img" not in made.body and "&lt;img" in made.body
    assert escape_markdown("a_b") == "a\\_b"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_channels_are_read_with_their_defaults_and_url_from_the_environment(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        '[[topics]]\nslug = "graphs"\n'
        '[[channels]]\nname = "a"\nurl = "json://127.0.0.1:9/x"\n'
        '[[channels]]\nname = "b"\nurl_env = "HOOK"\ntopics = ["graphs"]\nmax_papers = 3\n'
        "combine_missed = true\n"
        '[[channels]]\nname = "c"\nurl_env = "UNSET"\n',
    )
    a, b, c = load_settings(path, environ={"HOOK": "slack://T/B/C"}).channels

    assert (a.url, a.topics, a.max_papers, a.combine_missed) == (
        "json://127.0.0.1:9/x",
        (),
        10,
        False,
    )
    assert (b.url, b.topics, b.max_papers, b.combine_missed) == (
        "slack://T/B/C",
        ("graphs",),
        3,
        True,
    )
    assert c.url is None and c.url_env == "UNSET"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "a"', "either url"),
        ('name = "a"\nurl = "x"\nurl_env = "Y"', "either url"),
        ('name = "A B"\nurl = "json://h/x"', "name = 'A B'"),
        ('name = "a"\nurl = "not a url"', "Apprise URL"),
        ('name = "a"\nurl = "json://h/x"\nmax_papers = 0', "max_papers = 0"),
        ('name = "a"\nurl = "json://h/x"\ntopics = ["nope"]', "unknown topic(s) nope"),
        (
            'name = "a"\nurl = "json://h/x"\nchannel = "x"',
            "unknown key(s) in [[channels]]: 'channel'",
        ),
    ],
)
def test_bad_channel_tables_are_config_errors_naming_the_line(
    tmp_path: Path, table: str, message: str
) -> None:
    path = write(tmp_path, f"# comment\n[[channels]]\n{table}\n")
    with pytest.raises(ConfigError, match=r"digest\.toml") as raised:
        load_settings(path, environ={})
    assert message in str(raised.value)


UPDATE = UpdateLine(
    title="Sparse Experts at Scale, Part 40",
    paper_link="https://arxiv.org/abs/2503.00040",
    text="Code released: \u2605 1.2k \u2014 github.com/example-lab/sparse",
    link="https://github.com/example-lab/sparse",
)


def test_updates_come_after_the_new_papers_and_the_title_counts_them() -> None:
    made = render_post(
        PAPERS[:2], first_day=DAY, last_day=DAY, day_url=URL, max_papers=10, limit=100_000,
        updates=[UPDATE],
    )  # fmt: skip

    assert made.title == "2 new papers, 1 update \u2014 Tue 1 Dec"
    assert made.updates == 1
    papers_part, updates_part = made.body.split("\n\n**Updates**\n")
    assert papers_part.endswith(f"All of it on [the day page]({URL})")
    assert updates_part == (
        "- [Sparse Experts at Scale, Part 40](https://arxiv.org/abs/2503.00040): "
        "[Code released: \u2605 1.2k \u2014 github.com/example-lab/sparse]"
        "(https://github.com/example-lab/sparse)"
    )


def test_a_post_of_updates_alone_says_so_and_points_to_no_day_page() -> None:
    made = render_post(
        [], first_day=DAY, last_day=DAY, day_url=URL, max_papers=10, limit=100_000,
        updates=[UPDATE, UPDATE],
    )  # fmt: skip

    assert made.title == "2 updates \u2014 Tue 1 Dec"
    assert made.body.startswith("**Updates**\n- [")
    assert "day page" not in made.body
    assert post_title(0, DAY, DAY, updates=1) == "1 update \u2014 Tue 1 Dec"


def test_to_fit_papers_go_first_down_to_one_then_updates_wait_for_the_next_post() -> None:
    updates = [UPDATE] * 30
    made = render_post(
        PAPERS, first_day=DAY, last_day=DAY, day_url=URL, max_papers=10, limit=2000,
        updates=updates,
    )  # fmt: skip

    assert len(made.body) <= 2000
    assert made.shown == 1, "one paper stays: the post is still about the day"
    assert 0 < made.updates < 30
    assert made.body.count("\n- [") == made.updates
    assert made.title == f"12 new papers, {made.updates} updates \u2014 Tue 1 Dec"


def test_an_update_is_escaped_like_any_untrusted_text() -> None:
    hostile = UpdateLine(
        title="[x](javascript:alert(1)) <b>", paper_link="https://arxiv.org/abs/1",
        text="Accepted at *ICLR* [2026](javascript:y)", link="https://arxiv.org/abs/1",
    )  # fmt: skip
    made = render_post(
        [], first_day=DAY, last_day=DAY, day_url=URL, max_papers=10, limit=10_000,
        updates=[hostile],
    )  # fmt: skip

    assert "](javascript" not in made.body and "<b>" not in made.body
    assert "Accepted at \\*ICLR\\* \\[2026\\]\\(javascript:y\\)" in made.body
