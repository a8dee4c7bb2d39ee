"""Which parser reads a payload: every kind has one, found by name (docs/sources.md)."""

from __future__ import annotations

import pytest

from digest.sources import arxiv, feed, hf, text
from digest.sources.detect import KINDS, kind_from_url, parser_for

PARSER_OF_KIND = {
    "hf-api": hf.parse_api,
    "hf-page": hf.parse_page,
    "text": text.parse,
    "arxiv-list": arxiv.parse_listing,
    "arxiv-api": arxiv.parse_api,
    "arxiv-rss": arxiv.parse_rss,
    "feed": feed.parse,
}


def test_every_kind_has_its_parser() -> None:
    assert set(KINDS) == set(PARSER_OF_KIND)
    for kind in KINDS:
        assert parser_for(kind) is PARSER_OF_KIND[kind]


def test_an_unknown_kind_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        parser_for("gopher")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://huggingface.co/api/daily_papers?date=2026-12-01", "hf-api"),
        ("https://huggingface.co/papers/date/2026-12-01", "hf-page"),
        ("https://arxiv.org/list/cs.LG/new", "arxiv-list"),
        ("http://export.arxiv.org/api/query?search_query=cat:cs.LG", "arxiv-api"),
        ("https://rss.arxiv.org/rss/cs.LG", None),  # told from the content
        ("file:///srv/papers/today.json", None),
    ],
)
def test_the_url_path_names_the_kind_when_it_can(url: str, kind: str | None) -> None:
    assert kind_from_url(url) == kind
