"""The boundary: every paper a parser hands on is checked here, once, before history sees it.

Parsers read what a page says; this module decides what of it digest will
keep. A value that cannot be right is dropped (with a warning naming the
source and the field), never stored: a negative upvote count or a year-1 date
would otherwise sit in history and break every later run that ranks or reads
it. Text is cleaned of what no title needs and what can disguise one:
control characters, bidi overrides, zero-width characters, lone surrogates
(which SQLite cannot even encode). Long text is cut at a word and marked.

The invariants, also checked by the property tests (:func:`violations`):

- counts (upvotes, comments, author count) and versions are ``int`` in
  ``[0, 10**9]`` (versions from 1);
- dates lie within ``[1991-01-01, now + 2 days]`` (arXiv opened in August 1991);
- titles are non-empty and at most ``MAX_TITLE`` characters, abstracts at most
  ``MAX_ABSTRACT``, every other string at most ``MAX_FIELD``;
- no string holds a character of :data:`_UNWANTED`, nor a lone surrogate;
- a ``url`` is http or https, and so is every link in ``details``, whose text,
  counts and dates follow the same rules.
"""

from __future__ import annotations

import logging
import operator
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from ..errors import ParseError
from ..identity import all_clean, clean_text, printable_ascii, spaces_are_clean
from ..model import NO_DETAILS, Page, Paper, PaperDetails

log = logging.getLogger(__name__)

MAX_COUNT = 10**9
MAX_TITLE = 1_000
MAX_ABSTRACT = 20_000
MAX_FIELD = 1_000  # an author, an organisation, a category, a DOI, a URL
MAX_AUTHORS = 5_000  # physics collaborations list ~3,000; past this it is not a byline
EARLIEST = datetime(1991, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=2)  # time zones and early announcements, not next week
ELLIPSIS = "…"

# C0/C1 controls (whitespace aside, which cleaning collapses), bidi embeddings,
# overrides and isolates, the Arabic letter mark, zero-width space/joiners, word
# joiner, BOM. They render as nothing or reorder what follows: in a Subject line a
# U+202E can make "gpj.exe" read as "exe.jpg".
_UNWANTED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def validated_page(page: Page, *, source: str, now: datetime) -> Page:
    """``page`` with every paper checked; a paper whose title does not survive is left out.

    A page none of whose papers survives is not a quiet day but a broken (or
    hostile) answer: :class:`~digest.errors.ParseError`.
    """
    papers = tuple(
        paper for paper in (valid_paper(p, source=source, now=now) for p in page.papers) if paper
    )
    if papers or not page.papers:
        return Page(papers, page.empty_reason)
    raise ParseError(
        f"none of the {len(page.papers)} paper(s) has a usable title "
        "(nothing left after removing control and invisible characters)",
        source=source,
    )


def valid_paper(paper: Paper, *, source: str, now: datetime) -> Paper | None:
    """The paper with every field made to hold the invariants, or None without a title."""
    title = clean(paper.title, MAX_TITLE)
    if not title:
        log.warning("%s: a paper without a usable title was left out", source)
        return None
    where = f"{source}: {paper.arxiv_id or title[:60]!r}"
    checked = (  # in _CHECKED's order
        title,
        clean(paper.abstract, MAX_ABSTRACT),
        _short(paper.arxiv_id, where, "arxiv_id"),
        _short(paper.doi, where, "doi"),
        _count(paper.version, where, "version", lowest=1),
        _names(paper.authors),
        _count(paper.author_count, where, "author_count"),
        _short(paper.organization, where, "organization"),
        _moment(paper.published, where, "published", now),
        _short(paper.listed_on, where, "listed_on"),
        _count(paper.upvotes, where, "upvotes"),
        _count(paper.comments, where, "comments"),
        _names(paper.categories),
        _link(paper.url, where),
        _details(paper.details, where, now),
    )
    # Most papers pass unchanged: hand on the parser's own record rather than a copy.
    # Identity, not equality: a date moved to UTC, or a plain str made of a str
    # subclass, equals the original but is not it. (_names hands back the very tuple
    # when it keeps every name as it is.)
    if all(map(operator.is_, checked, _checked_fields(paper))):
        return paper
    fields: dict[str, Any] = dict(zip(_CHECKED, checked, strict=True))
    return replace(paper, **fields)


_CHECKED = (
    "title", "abstract", "arxiv_id", "doi", "version", "authors", "author_count",
    "organization", "published", "listed_on", "upvotes", "comments", "categories", "url",
    "details",
)  # fmt: skip
_checked_fields = operator.attrgetter(*_CHECKED)  # a paper's values of them, in one C call


def _details(details: PaperDetails, where: str, now: datetime) -> PaperDetails:
    """The optional facts under the same rules: text cleaned and bounded, links http(s)."""
    if details is NO_DETAILS or details == NO_DETAILS:
        return details

    def text(value: str | None, limit: int = MAX_FIELD) -> str | None:
        return clean(value, limit) or None if value is not None else None

    return PaperDetails(
        ai_summary=text(details.ai_summary, MAX_ABSTRACT),
        ai_keywords=_names(details.ai_keywords),
        github_repo=_link(details.github_repo, where),
        github_stars=_count(details.github_stars, where, "github_stars"),
        project_page=_link(details.project_page, where),
        thumbnail=_link(details.thumbnail, where),
        featured_at=_moment(details.featured_at, where, "featured_at", now),
        hf_url=_link(details.hf_url, where),
        primary_category=_short(details.primary_category, where, "primary_category"),
        arxiv_comment=text(details.arxiv_comment, MAX_ABSTRACT),
        journal_ref=text(details.journal_ref),
        pdf_url=_link(details.pdf_url, where),
        listed_in=_short(details.listed_in, where, "listed_in"),
        title_tex=text(details.title_tex, MAX_TITLE),
        abstract_tex=text(details.abstract_tex, MAX_ABSTRACT),
    )


def clean(text: str, limit: int) -> str:
    """Text as history stores it: no invisible or reordering characters, at most ``limit`` long."""
    # Most text: nothing to remove.
    if type(text) is str and text.isascii() and printable_ascii(text):
        # A parser's text is clean already: only its spaces are checked (printable ASCII
        # was just seen, which clean_text's own check would read again).
        return cut(text if spaces_are_clean(text) else clean_text(text), limit)
    return cut(clean_text(_UNWANTED.sub("", _SURROGATE.sub("\ufffd", text))), limit)


def cut(text: str, limit: int) -> str:
    """``text`` cut at the last word boundary that fits ``limit`` with the ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    space = head.rfind(" ")
    if space > limit // 2:  # one giant "word" is cut where it must be
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def violations(paper: Paper, *, now: datetime) -> list[str]:
    """What about ``paper`` breaks the invariants (empty for a paper this module passed)."""
    problems: list[str] = []
    if not paper.title:
        problems.append("empty title")
    for name, value, limit in _strings(paper):
        if len(value) > limit:
            problems.append(f"{name} longer than {limit}")
        if _UNWANTED.search(value) or _SURROGATE.search(value):
            problems.append(f"{name} holds an unwanted character")
    for name in ("upvotes", "comments", "author_count", "version"):
        value = getattr(paper, name)
        if value is not None and not (type(value) is int and 0 <= value <= MAX_COUNT):
            problems.append(f"{name} {value!r} out of range")
    if paper.published is not None and not (
        paper.published.tzinfo is not None and EARLIEST <= paper.published <= now + FUTURE_SLACK
    ):
        problems.append(f"published {paper.published!r} out of range")
    if paper.url is not None and urlsplit(paper.url).scheme not in ("http", "https"):
        problems.append(f"url {paper.url!r} is not http(s)")
    details = paper.details
    for name in _DETAIL_LINKS:
        link = getattr(details, name)
        if link is not None and urlsplit(link).scheme not in ("http", "https"):
            problems.append(f"{name} {link!r} is not http(s)")
    stars = details.github_stars
    if stars is not None and not (type(stars) is int and 0 <= stars <= MAX_COUNT):
        problems.append(f"github_stars {stars!r} out of range")
    featured = details.featured_at
    if featured is not None and not (
        featured.tzinfo is not None and EARLIEST <= featured <= now + FUTURE_SLACK
    ):
        problems.append(f"featured_at {featured!r} out of range")
    return problems


_DETAIL_LINKS = ("github_repo", "project_page", "thumbnail", "hf_url", "pdf_url")
_DETAIL_TEXT = {
    "ai_summary": MAX_ABSTRACT,
    "arxiv_comment": MAX_ABSTRACT,
    "journal_ref": MAX_FIELD,
    "primary_category": MAX_FIELD,
    "listed_in": MAX_FIELD,
    "title_tex": MAX_TITLE,
    "abstract_tex": MAX_ABSTRACT,
    **dict.fromkeys(_DETAIL_LINKS, MAX_FIELD),
}


def _strings(paper: Paper) -> Iterable[tuple[str, str, int]]:
    yield "title", paper.title, MAX_TITLE
    yield "abstract", paper.abstract, MAX_ABSTRACT
    for name in ("arxiv_id", "doi", "organization", "listed_on", "url"):
        value = getattr(paper, name)
        if value is not None:
            yield name, value, MAX_FIELD
    for name in ("authors", "categories"):
        for value in getattr(paper, name):
            yield name, value, MAX_FIELD
    for name, limit in _DETAIL_TEXT.items():
        value = getattr(paper.details, name)
        if value is not None:
            yield name, value, limit
    for value in paper.details.ai_keywords:
        yield "ai_keywords", value, MAX_FIELD


def _count(value: object, where: str, field: str, *, lowest: int = 0) -> int | None:
    if value is None:
        return None
    # bool is an int to Python, never a count; a float (1e30) is not one either.
    if type(value) is int and lowest <= value <= MAX_COUNT:
        return value
    log.warning(
        "%s: %s %.40r is not a count in [%d, %d]; dropped", where, field, value, lowest, MAX_COUNT
    )
    return None


def _moment(value: datetime | None, where: str, field: str, now: datetime) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if EARLIEST <= value <= now + FUTURE_SLACK:
        return value.astimezone(UTC)
    log.warning(
        "%s: %s %s is outside 1991-01-01 … now + 2 days; dropped", where, field, value.isoformat()
    )
    return None


def _short(value: str | None, where: str, field: str) -> str | None:
    if value is None:
        return None
    text = clean(value, MAX_FIELD + 1)
    if len(text) > MAX_FIELD:
        # An id or a name this long is not one: drop it rather than store a cut-off id.
        log.warning("%s: %s is longer than %d characters; dropped", where, field, MAX_FIELD)
        return None
    return text or None


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    """The names cleaned, the empty ones dropped: ``values`` itself when all are kept as they are."""
    if (
        type(values) is tuple
        and len(values) <= MAX_AUTHORS
        and all_clean(values)  # then clean() keeps each name that fits MAX_FIELD as it is
        and max(map(len, values), default=0) <= MAX_FIELD
    ):
        return values
    names = tuple([name for value in values[:MAX_AUTHORS] if (name := clean(value, MAX_FIELD))])
    if (
        type(values) is tuple
        and len(names) == len(values)
        and all(map(operator.is_, names, values))
    ):
        return values
    return names


def _link(url: str | None, where: str) -> str | None:
    link = _short(url, where, "url")
    if link is None:
        return None
    if _plain_web_link(link):
        return link  # what urlsplit would say of it, without splitting every paper's link
    try:
        scheme = urlsplit(link).scheme
    except ValueError:  # "http://[" : an unbalanced IPv6 bracket
        scheme = ""
    if scheme in ("http", "https"):
        return link
    log.warning("%s: url %.80r is not http(s); dropped", where, link)
    return None


def _plain_web_link(link: str) -> bool:
    """True when urlsplit would surely find an http(s) scheme: the link starts with it.

    ASCII without brackets: urlsplit raises ValueError only for a netloc with an
    unbalanced or invalid IPv6 bracket, or non-ASCII that normalises to a separator.
    """
    return (
        link.startswith(("https://", "http://"))
        and link.isascii()
        and "[" not in link
        and "]" not in link
    )
