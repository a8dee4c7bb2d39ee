"""Every parser, fed hostile values: a validated page whose papers history can store, or a SourceError.

The payloads are recorded pages with some of their values replaced by
arbitrary ones (any JSON value in a JSON field, any text in an XML or HTML text
node, any line of a text listing), plus raw bytes. Whatever comes out of a
parser passes the boundary (:mod:`digest.sources.validate`), and what passes
it is recorded in a real SQLite history and read back. Nothing else may
happen: no RecursionError, OverflowError, UnicodeEncodeError, ValueError.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.errors import SourceError
from digest.history import open_history, record_sightings
from digest.history.papers import load_papers
from digest.sources.detect import KINDS, kind_from_content, parser_for
from digest.sources.validate import validated_page, violations
from tests.support import fixture

NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
HOSTILE_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# The values of issue #12, beside whatever hypothesis invents.
SPECIAL_VALUES: list[object] = [
    -1,
    -1_000_000,
    -5,
    2**63,
    2**64 + 1,
    1e30,
    float("nan"),
    float("inf"),
    True,
    "0001-01-01T00:00:00.000Z",
    "0999-12-31T23:59:59Z",
    "9999-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "\ud800",
    "a\udfffb",
    "\u202egpj.exe",
    "zero\u200bwidth\ufeff",
    "x" * 30_000,
    "javascript:alert(1)",
    "",
]
SPECIAL_TEXT = [value for value in SPECIAL_VALUES if isinstance(value, str)]

ANY_CHAR = st.characters(codec=None, categories=None)  # surrogates and controls included
TEXT = st.one_of(st.text(ANY_CHAR, max_size=40), st.sampled_from(SPECIAL_TEXT))
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    TEXT,
    st.sampled_from(SPECIAL_VALUES),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "title", "name", "upvotes", "x"]), children, max_size=3
        )
    ),
    max_leaves=8,
)


# --- one history for all examples: what passed the boundary must store and load ---------


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Any:
    database = open_history(tmp_path_factory.mktemp("hostile") / "digest.db")
    yield database
    database.close()


def check(history: Any, kind: str, payload: bytes, url: str) -> None:
    """The property: SourceError, or valid papers that SQLite takes and gives back."""
    try:
        page = validated_page(parser_for(kind)(payload, url), source=url, now=NOW)
    except SourceError:
        return
    for paper in page.papers:
        assert violations(paper, now=NOW) == [], paper
    result = record_sightings(
        history, page.papers, source=url, run_id=None, now=NOW, tag_authority="example.org"
    )
    assert len(load_papers(history, [p.id for p in result.novel])) == len(result.novel)


def detected(payload: bytes) -> None:
    with contextlib.suppress(SourceError):
        kind_from_content(payload, "http://127.0.0.1/x")


# --- mutations of recorded pages ------------------------------------------------------------


def json_paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    paths = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            paths += json_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += json_paths(child, (*path, index))
    return paths


def replaced(document: Any, path: tuple[object, ...], value: object) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(document, dict):
        return {**document, head: replaced(document[head], tuple(rest), value)}
    copy = list(document)
    copy[head] = replaced(copy[head], tuple(rest), value)  # type: ignore[index]
    return copy


@st.composite
def mutated_json(draw: st.DrawFn, document: object) -> Any:
    for _ in range(draw(st.integers(1, 4))):
        paths = json_paths(document)[1:] or [()]  # anew: a replacement may remove a subtree
        # Half the time a field the parsers read, so the values reach the boundary.
        read = [path for path in paths if path and path[-1] in READ_KEYS] or paths
        path = draw(st.sampled_from(read) | st.sampled_from(paths))
        document = replaced(document, path, draw(JSON_VALUE))
    return document


READ_KEYS = {
    "id", "title", "summary", "authors", "name", "hidden", "organization", "fullname",
    "publishedAt", "submittedOnDailyAt", "upvotes", "numComments", "paper", "items", "url",
    "content_text", "content_html", "date_published", "tags", "dailyPapers",
}  # fmt: skip
_TEXT_NODE = re.compile(r">([^<]+)<")


@st.composite
def mutated_markup(draw: st.DrawFn, page: str) -> bytes:
    """A page with some text nodes replaced by arbitrary text, escaped or (sometimes) raw."""
    spans = [match.span(1) for match in _TEXT_NODE.finditer(page)]
    chosen = sorted(set(draw(st.lists(st.sampled_from(spans), min_size=1, max_size=4))))
    out, last = [], 0
    for start, end in chosen:
        text = draw(TEXT)
        out += [page[last:start], html.escape(text) if draw(st.booleans()) else text]
        last = end
    out.append(page[last:])
    return "".join(out).encode("utf-8", errors="surrogatepass")


def dumps(document: object) -> bytes:
    return json.dumps(document).encode()  # ensure_ascii: a lone surrogate travels as \ud800


HF_DAILY = json.loads(fixture("hf_daily_papers_2025-03-12.json"))
HF_PAPER = json.loads(fixture("hf_paper_2503.08123.json"))
JSON_FEED = json.loads(fixture("hf_jsonfeed.json"))
MARKUP: dict[str, list[str]] = {
    "arxiv-api": ["arxiv_api_id_list.xml", "arxiv_atom_cs.LG.xml"],
    "arxiv-rss": ["arxiv_rss_cs.LG.xml", "arxiv_atom_cs.LG.xml"],
    "arxiv-list": ["arxiv_list_cs.LG_new.html", "arxiv_list_legacy.html"],
    "feed": ["generic_atom_with_doi.xml", "third_party_hf_rss.xml", "arxiv_rss_cs.LG.xml"],
}
API_URL = "http://127.0.0.1/api/daily_papers?date=2025-03-12"


def hf_page(props: object) -> bytes:
    quoted = html.escape(json.dumps(props), quote=True)
    return f'<html><body><div data-target="DailyPapers" data-props="{quoted}"></div></body></html>'.encode()


@HOSTILE_SETTINGS
@given(mutated_json(HF_DAILY) | mutated_json(HF_PAPER))
def test_hf_api_answers_with_any_values_in_any_field(history: Any, document: object) -> None:
    check(history, "hf-api", dumps(document), API_URL)
    detected(dumps(document))


@HOSTILE_SETTINGS
@given(mutated_json({"dailyPapers": HF_DAILY, "query": {}}))
def test_hf_pages_with_any_values_in_their_data_props(history: Any, props: object) -> None:
    check(history, "hf-page", hf_page(props), "http://127.0.0.1/papers/date/2025-03-12")


@HOSTILE_SETTINGS
@given(mutated_json(JSON_FEED))
def test_json_feeds_with_any_values(history: Any, document: object) -> None:
    check(history, "feed", dumps(document), "http://127.0.0.1/feed.json")


@HOSTILE_SETTINGS
@given(st.sampled_from(sorted(MARKUP)), st.data())
def test_xml_and_html_pages_with_any_text(history: Any, kind: str, data: st.DataObject) -> None:
    page = fixture(data.draw(st.sampled_from(MARKUP[kind]))).decode()
    payload = data.draw(mutated_markup(page))
    check(history, kind, payload, "http://127.0.0.1/listing")
    detected(payload)


@HOSTILE_SETTINGS
@given(st.data())
def test_text_listings_with_any_lines(history: Any, data: st.DataObject) -> None:
    lines = fixture("hf_text_with_meta.txt").decode().splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        lines[data.draw(st.integers(0, len(lines) - 1))] = data.draw(TEXT)
    payload = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    check(history, "text", payload, "http://127.0.0.1/papers.txt")


@HOSTILE_SETTINGS
@given(st.sampled_from(sorted(KINDS)), st.binary(max_size=300) | JSON_VALUE.map(dumps))
def test_any_bytes_to_any_parser(history: Any, kind: str, payload: bytes) -> None:
    check(history, kind, payload, "http://127.0.0.1/api/daily_papers")
    detected(payload)


# --- the named hostile values, one by one --------------------------------------------------


def hf_item(**paper: object) -> dict[str, object]:
    outer = {key: paper.pop(key) for key in ("numComments",) if key in paper}
    return {"paper": {"id": "2503.08123", "title": "A paper", **paper}, **outer}


NESTED = b"[" * 200_000 + b"]" * 200_000

NAMED: dict[str, Callable[[], bytes]] = {
    "upvotes -1": lambda: dumps([hf_item(upvotes=-1)]),
    "upvotes -1000000": lambda: dumps([hf_item(upvotes=-1_000_000)]),
    "numComments -5": lambda: dumps([hf_item(numComments=-5)]),
    "upvotes 2**63": lambda: dumps([hf_item(upvotes=2**63)]),
    "numComments 1e30": lambda: dumps([hf_item(numComments=1e30)]),
    "numComments 10**30 as an integer": lambda: dumps([hf_item(numComments=10**30)]),
    "publishedAt year 1": lambda: dumps([hf_item(publishedAt="0001-01-01T00:00:00.000Z")]),
    "publishedAt year 999": lambda: dumps([hf_item(publishedAt="0999-06-01T00:00:00.000Z")]),
    "publishedAt next year": lambda: dumps([hf_item(publishedAt="2026-03-12T00:00:00.000Z")]),
    "lone surrogate in the title": lambda: dumps([hf_item(title="Bad \ud800 title")]),
    "bidi override in the title": lambda: dumps([hf_item(title="\u202eevil\u202c title")]),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_each_named_hostile_value_is_dropped_and_the_paper_kept(history: Any, name: str) -> None:
    page = validated_page(parser_for("hf-api")(NAMED[name](), API_URL), source="hf", now=NOW)
    [paper] = page.papers
    assert violations(paper, now=NOW) == []
    assert (paper.upvotes, paper.comments, paper.published) == (None, None, None)
    check(history, "hf-api", NAMED[name](), API_URL)


@pytest.mark.parametrize("kind", ["hf-api", "feed"])
def test_json_nested_200000_deep_is_a_parse_error(kind: str) -> None:
    with pytest.raises(SourceError, match="nested too deeply"):
        parser_for(kind)(NESTED if kind == "hf-api" else b'{"a":' * 200_000, API_URL)


def test_a_surrogate_title_is_stored_with_a_replacement_character(tmp_path: Path) -> None:
    page = validated_page(
        parser_for("hf-api")(NAMED["lone surrogate in the title"](), API_URL), source="hf", now=NOW
    )
    database = open_history(tmp_path / "digest.db")
    record_sightings(database, page.papers, source="hf", run_id=None, now=NOW, tag_authority="x")
    assert database.execute("SELECT title FROM papers").fetchone()[0] == "Bad \ufffd title"
    database.close()
    # The file is plain UTF-8 that any SQLite client reads.
    assert sqlite3.connect(tmp_path / "digest.db").execute(
        "SELECT count(*) FROM papers"
    ).fetchone() == (1,)
