"""Hugging Face Daily Papers: the JSON API and the JSON embedded in listing pages.

Both carry the same item shape (docs/formats.md §1.1): an outer object holding
``numComments`` and wrapping a ``paper`` with the arXiv id, text, authors and
upvotes. :func:`parse_api` reads ``/api/daily_papers``, ``/api/papers/search``
and ``/api/papers/<id>``; :func:`parse_page` reads the ``data-props`` of the
``DailyPapers`` hydration island on ``/papers/...`` pages. Both are pure
functions of the payload; fetching and paging live in ``fetch.py`` and ``read.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from ..errors import LayoutError, ParseError
from ..identity import clean_text, parse_arxiv_id
from ..model import Page, Paper, PaperDetails
from ..tex import has_tex
from .readable import http_url, readable_paper

PAPER_URL = "https://huggingface.co/papers/{}"
EMPTY_LISTING = "no papers listed for this date"
EMPTY_SEARCH = "no papers matched the search"
# json.loads recurses per level: a hostile answer nested 200,000 deep exhausts the stack.
TOO_DEEP = "JSON nested too deeply to be a listing (a hostile or broken answer)"

_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number"}

JSONObject = dict[str, object]


def parse_api(payload: bytes, url: str) -> Page:
    """Parse an answer of ``/api/daily_papers``, ``/api/papers/search`` or ``/api/papers/<id>``.

    ``[]`` is a quiet day (or an empty search), not a failure. An ``{"error": …}``
    object or a non-JSON answer (an HTML login or captcha page served with 200)
    raises :class:`ParseError`; an item without ``paper.id`` or ``title`` raises
    :class:`LayoutError` naming the item's index.
    """
    items = _api_items(_load_json(payload, url), url)
    if not items:
        return Page((), empty_reason=_empty_reason(url))
    return Page(_papers(items, "item", url))


def page_count(payload: bytes) -> int:
    """Count the items of one page of an API array answer, before any dedupe.

    The fetcher pages ``/api/daily_papers`` with ``p=0,1,…`` and ``limit=100``
    and stops at the first page holding fewer than ``limit`` items
    (docs/formats.md §1.2). A non-array answer (an error object, a single
    paper) counts 0, so paging stops there and :func:`parse_api` reports what
    it was. Raises :class:`ParseError` when the payload is not JSON at all.
    """
    data = _load_json(payload, None)
    return len(data) if isinstance(data, list) else 0


def parse_page(payload: bytes, url: str) -> Page:
    """Parse an HF listing page (``/papers/date/…``, ``/papers/week/…``, ``/papers?q=…``).

    Only the JSON in the ``data-props`` of the ``data-target="DailyPapers"``
    element is read: the visible cards carry no abstracts and change often, so
    a page without that JSON is layout drift (:class:`LayoutError`), never an
    empty success.
    """
    props = _island_props(payload, url)
    key, items = _listing(props, url)
    if not items:
        return Page((), empty_reason=EMPTY_SEARCH if key == "searchResults" else EMPTY_LISTING)
    return Page(_papers(items, f"{key} item", url))


# --- payload level --------------------------------------------------------------------


def _load_json(payload: bytes, url: str | None) -> object:
    if payload.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        # HF answers some blocked or unauthenticated requests with an HTML page and 200.
        raise ParseError(
            f"not JSON: the answer is an HTML page{_title_of(payload)} (a login or captcha page?)",
            source=url,
        )
    if not payload.strip():
        raise ParseError("empty answer where a JSON array of papers was expected", source=url)
    try:
        return json.loads(payload)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ParseError(f"truncated or invalid JSON ({exc.msg} at {where})", source=url) from exc
    except ValueError as exc:  # UnicodeDecodeError: bytes in no UTF encoding
        raise ParseError(f"not JSON text: {exc}", source=url) from exc
    except RecursionError:
        raise ParseError(TOO_DEEP, source=url) from None


def _title_of(page: bytes) -> str:
    """`` titled '...'`` for an HTML page with a <title>, so the operator sees what answered."""
    title = LexborHTMLParser(page.decode("utf-8", errors="replace")).css_first("title")
    text = clean_text(title.text()) if title is not None else ""
    return f" titled {text[:80]!r}" if text else ""


def _api_items(data: object, url: str) -> list[object]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if "error" in data:
            raise ParseError(f"the API answered with an error: {data['error']}", source=url)
        # /api/papers/<id> answers with one paper whose fields sit at the top level.
        return [data]
    kind = _JSON_TYPES.get(type(data), "value")
    raise ParseError(f"expected a JSON array of papers, got a JSON {kind}", source=url)


def _empty_reason(url: str) -> str:
    return EMPTY_SEARCH if urlsplit(url).path.rstrip("/").endswith("/search") else EMPTY_LISTING


def _island_props(payload: bytes, url: str) -> JSONObject:
    text = payload.decode("utf-8-sig", errors="replace")
    if not text.lstrip().startswith("<"):
        raise ParseError("not an HTML page (expected a Hugging Face /papers page)", source=url)
    # Select on data-target alone: attribute order, quoting and class vary (docs/formats.md §2).
    # selectolax unescapes the attribute value exactly once, as the JSON needs.
    node = LexborHTMLParser(text).css_first('[data-target="DailyPapers"]')
    raw = node.attributes.get("data-props") if node is not None else None
    if not raw:
        raise LayoutError(
            'layout changed: no data-props found on a data-target="DailyPapers" element',
            source=url,
        )
    try:
        props = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LayoutError(
            f"layout changed: data-props is not JSON ({exc.msg})", source=url
        ) from exc
    except RecursionError:
        raise ParseError(f"data-props: {TOO_DEEP}", source=url) from None
    if not isinstance(props, dict):
        raise LayoutError("layout changed: data-props is not a JSON object", source=url)
    return props


def _listing(props: JSONObject, url: str) -> tuple[str, list[object]]:
    query = props.get("query")
    searching = isinstance(query, dict) and bool(query.get("q"))
    # On /papers?q=… the matches are in searchResults; dailyPapers there is trending.
    keys = ("searchResults",) if searching else ("dailyPapers", "searchResults")
    for key in keys:
        items = props.get(key)
        if isinstance(items, list):
            return key, items
    raise LayoutError(f"layout changed: data-props has no {' or '.join(keys)} list", source=url)


# --- item level -----------------------------------------------------------------------


def _papers(items: list[object], label: str, url: str) -> tuple[Paper, ...]:
    """Map every item, keeping the first of each arXiv id (rankings shift between pages)."""
    papers: dict[str, Paper] = {}
    for index, item in enumerate(items):
        paper = _paper(item, f"{label} {index}", url)
        papers.setdefault(paper.arxiv_id or paper.title_key, paper)
    return tuple(papers.values())


def _paper(item: object, where: str, url: str) -> Paper:
    if not isinstance(item, dict):
        raise LayoutError(f"{where} is not a JSON object", source=url)
    inner = item.get("paper", item)
    if not isinstance(inner, dict):
        raise LayoutError(f"{where}: paper is not a JSON object", source=url)
    arxiv_id = _arxiv_id(inner, where, url)
    authors = inner.get("authors")
    paper = Paper(
        title=_title(inner, item, f"{where} ({arxiv_id})", url),
        abstract=clean_text(_text(inner.get("summary")) or _text(item.get("summary"))),
        arxiv_id=arxiv_id,
        authors=_visible_authors(authors),
        author_count=len(authors) if isinstance(authors, list) else None,
        organization=_organization(inner.get("organization"))
        or _organization(item.get("organization")),
        published=_timestamp(inner.get("publishedAt")),
        listed_on=_day(inner.get("submittedOnDailyAt")),
        upvotes=_count(inner.get("upvotes")),
        comments=_count(item.get("numComments")),
        url=PAPER_URL.format(arxiv_id),
        details=_details(inner, item, arxiv_id),
    )
    return readable_paper(paper)


def _details(inner: JSONObject, item: JSONObject, arxiv_id: str) -> PaperDetails:
    """The optional fields (docs/formats.md §1.1): each may be missing, null or of the wrong type."""
    keywords = inner.get("ai_keywords")
    return PaperDetails(
        ai_summary=_text(inner.get("ai_summary")) or None,
        ai_keywords=tuple(
            dict.fromkeys(
                word
                for value in (keywords if isinstance(keywords, list) else ())
                if (word := clean_text(_text(value)))
            )
        ),
        github_repo=http_url(inner.get("githubRepo")),
        github_stars=_count(inner.get("githubStars")),
        project_page=http_url(inner.get("projectPage")),
        # 2024 items carry one `mediaUrl` instead of a thumbnail (docs/formats.md §1.1).
        thumbnail=http_url(item.get("thumbnail")) or http_url(item.get("mediaUrl")),
        featured_at=_timestamp(inner.get("submittedOnDailyAt")),
        hf_url=PAPER_URL.format(arxiv_id),
    )


def _arxiv_id(inner: JSONObject, where: str, url: str) -> str:
    raw = inner.get("id")
    if not isinstance(raw, str) or not raw.strip():
        raise LayoutError(f"{where}: paper.id is missing", source=url)
    parsed = parse_arxiv_id(raw)
    if parsed is None:
        raise LayoutError(f"{where}: paper.id {raw!r} is not an arXiv id", source=url)
    # HF ids are bare; a version, were one ever shown, is not HF's to assert.
    return parsed[0]


def _title(inner: JSONObject, item: JSONObject, where: str, url: str) -> str:
    # paper.title has its TeX stripped ("LLMtimesMapReduce") while the outer copy keeps
    # it ("LLM$\times$MapReduce"), docs/formats.md §1.1: the outer one when only it has TeX.
    title = clean_text(_text(inner.get("title")))
    outer = clean_text(_text(item.get("title"))) if item is not inner else ""
    if outer and (not title or (has_tex(outer) and not has_tex(title))):
        title = outer
    if not title:
        raise LayoutError(f"{where}: paper.title is missing", source=url)
    return title


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _visible_authors(authors: object) -> tuple[str, ...]:
    if not isinstance(authors, list):
        return ()
    names = (
        clean_text(_text(author.get("name")))
        for author in authors
        if isinstance(author, dict) and author.get("hidden") is not True
    )
    return tuple(name for name in names if name)


def _organization(org: object) -> str | None:
    if not isinstance(org, dict):
        return None
    name = clean_text(_text(org.get("fullname")) or _text(org.get("name")))
    return name or None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)  # 3.11 reads "…T17:58:02.000Z"
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _day(value: object) -> str | None:
    moment = _timestamp(value)
    return moment.date().isoformat() if moment else None


def _count(value: object) -> int | None:
    # bool is an int in Python; a JSON true is not a count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None
