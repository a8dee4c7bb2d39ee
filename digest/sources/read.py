"""Reading one source: resolve its URL, fetch its documents, detect their kind, parse them.

This is the whole ``sources`` stage for one ``[[sources]]`` entry. It returns
plain data (a :class:`SourceRead`) and raises :class:`~digest.errors.SourceError`
subclasses that the pipeline records against that source alone.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..config import SourceConfig
from ..errors import ParseError
from ..model import HttpValidators, Page, Paper
from .detect import kind_from_content, kind_from_url, parser_for
from .fetch import Document, Fetcher, is_local, read_local
from .validate import validated_page

log = logging.getLogger(__name__)

HF_PAGE_SIZE = 100  # the API's maximum `limit` (docs/formats.md §1.2)
HF_MAX_PAGES = 20  # a day holds ~30-80 papers; this bounds a misbehaving server


NOT_MODIFIED = "not modified (304)"
SAME_BYTES = "same bytes as last time"


@dataclass(frozen=True)
class SourceRead:
    """The outcome of reading one source.

    ``page`` is None when there was nothing to read: the server said 304, or
    sent the very bytes recorded last time (``unchanged`` says which).
    """

    kind: str
    page: Page | None
    cache_url: str | None = None
    validators: HttpValidators | None = None
    unchanged: str = NOT_MODIFIED


def read_source(
    config: SourceConfig,
    fetcher: Fetcher,
    *,
    today: date,
    validators_for: Callable[[str], HttpValidators],
    now: datetime | None = None,
) -> SourceRead:
    """Fetch and parse one source; every paper has passed :mod:`.validate` against ``now``.

    Without ``now`` the end of ``today`` (UTC) stands in for it.
    """
    now = now or datetime.combine(today, time.max, UTC)
    if is_local(config.url):
        documents = read_local(config.url, source=config.label)
        local_kind, page = _parse_all(documents, config, now)
        return SourceRead(kind=local_kind, page=page)
    url = resolve_url(config.url, today)
    kind: str | None = config.kind if config.kind != "auto" else kind_from_url(url)
    validators = validators_for(url)
    response = fetcher.get(
        url,
        source=config.label,
        validators=validators,
        headers=config.headers,
        timeout=config.timeout,
    )
    if response.status == 304:
        return SourceRead(kind=kind or "auto", page=None, cache_url=url, validators=validators)
    documents = [Document(response.url, response.payload, response.headers.get("content-type"))]
    paged = kind == "hf-api" and _is_daily_api(url)
    # A paged source is more than this body: only a single document can be judged by its hash.
    body_hash = None if paged else hashlib.sha256(response.payload).hexdigest()
    fresh = replace(response.validators, body_sha256=body_hash)
    if body_hash is not None and body_hash == validators.body_sha256:
        return SourceRead(kind or "auto", None, url, fresh, unchanged=SAME_BYTES)
    if paged:
        documents += _more_hf_pages(url, documents[0], fetcher, config)
    parsed_kind, page = _parse_all(documents, config, now, kind)
    return SourceRead(kind=parsed_kind, page=page, cache_url=url, validators=fresh)


def resolve_url(url: str, today: date) -> str:
    """The Daily Papers API without a date means today's (UTC) list, fetched 100 at a time."""
    if not _is_daily_api(url):
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if not ({"date", "week", "month"} & query.keys()):
        query["date"] = today.isoformat()
    query.setdefault("limit", str(HF_PAGE_SIZE))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _is_daily_api(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("/api/daily_papers")


def _more_hf_pages(
    url: str, first: Document, fetcher: Fetcher, config: SourceConfig
) -> list[Document]:
    """Page through `p` until a short page: the API caps `limit` at 100 per request."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    limit = int(query.get("limit", HF_PAGE_SIZE))
    from . import hf  # imported once a body arrived, as its parser is (see .detect)

    documents: list[Document] = []
    last = first
    for number in range(1, HF_MAX_PAGES):
        try:
            short = hf.page_count(last.payload) < limit
        except ParseError:
            break  # not JSON at all (a login page?): the parser reports it, naming the URL
        if short:
            break
        query["p"] = str(number)
        page_url = urlunsplit(parts._replace(query=urlencode(query)))
        response = fetcher.get(
            page_url, source=config.label, headers=config.headers, timeout=config.timeout
        )
        last = Document(response.url, response.payload)
        documents.append(last)
    return documents


def _parse_all(
    documents: list[Document], config: SourceConfig, now: datetime, kind: str | None = None
) -> tuple[str, Page]:
    """Parse every document of a source (a folder may mix kinds, so detect each one), validated."""
    kinds: list[str] = []
    papers: list[Paper] = []
    reasons = []
    for document in documents:
        this_kind = kind or (config.kind if config.kind != "auto" else None)
        this_kind = this_kind or kind_from_content(document.payload, document.url)
        page = validated_page(
            parser_for(this_kind)(document.payload, document.url), source=config.label, now=now
        )
        kinds.append(this_kind)
        papers.extend(page.papers)
        if page.empty_reason:
            reasons.append(page.empty_reason)
    combined_kind = kinds[0] if len(set(kinds)) == 1 else "mixed"
    empty_reason = None if papers else (reasons[0] if reasons else "no papers found")
    return combined_kind, Page(tuple(papers), empty_reason)
