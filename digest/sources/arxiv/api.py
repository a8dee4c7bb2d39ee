"""The arXiv export API (``export.arxiv.org/api/query``): Atom with OpenSearch counts.

Errors come back as HTTP 200 with one entry whose id is under
``arxiv.org/api/errors``; an answer with no entries is told apart from an
empty result by ``opensearch:totalResults`` (docs/formats.md §5).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from ...errors import LayoutError, ParseError
from ...identity import clean_text, normalise_doi, parse_arxiv_id
from ...model import Page, Paper, PaperDetails
from ..readable import http_url, readable_paper
from .common import ARXIV, ATOM, OPENSEARCH, abs_url, child_text, is_xml, xml_root

__all__ = ["looks_like_api", "parse_api"]


def looks_like_api(payload: bytes) -> bool:
    """True for export.arxiv.org API Atom: OpenSearch counts plus arXiv's schema or error ids."""
    if not is_xml(payload) or b"http://a9.com/-/spec/opensearch/1.1/" not in payload:
        return False
    # The API's error answer declares no arxiv namespace, but its entry id is arxiv.org/api/errors.
    return b"http://arxiv.org/schemas/atom" in payload or b"arxiv.org/api/errors" in payload


_API_ERROR_ID = re.compile(r"^https?://arxiv\.org/api/errors")


def api_error_message(payload: bytes) -> str | None:
    """arXiv's own words from an API error answer ("incorrect id format for abc"), else None.

    The API says what is wrong in an Atom entry whose id is under arxiv.org/api/errors,
    with HTTP 200 (older) or HTTP 400 (2026); either way that sentence is what to show.
    """
    if b"arxiv.org/api/errors" not in payload:
        return None
    try:
        root = ET.fromstring(payload)
    except ET.ParseError:
        return None
    for entry in root.findall(f"{ATOM}entry"):
        if _API_ERROR_ID.match(child_text(entry, f"{ATOM}id").strip()):
            return clean_text(child_text(entry, f"{ATOM}summary")) or "no message"
    return None


def parse_api(payload: bytes, url: str) -> Page:
    """Parse an arXiv API Atom answer; the API's own error entry becomes a ParseError."""
    root = xml_root(payload, url, "arXiv API Atom")
    if root.tag != f"{ATOM}feed":
        raise ParseError(f"root element is {root.tag}, expected an Atom feed", source=url)
    entries = root.findall(f"{ATOM}entry")
    message = api_error_message(payload)
    if message is not None:
        raise ParseError(f"the arXiv API answered with an error: {message}", source=url)
    if not entries:
        return _api_empty(root, url)
    return Page(tuple(_api_paper(entry, n, url) for n, entry in enumerate(entries, 1)))


def _api_empty(root: ET.Element, url: str) -> Page:
    total = _int(child_text(root, f"{OPENSEARCH}totalResults"))
    start = _int(child_text(root, f"{OPENSEARCH}startIndex")) or 0
    if total == 0:
        return Page((), empty_reason="the arXiv API found no results for this query")
    if total is None:
        raise LayoutError("no entries and no opensearch:totalResults in the API answer", source=url)
    if start >= total:
        return Page((), empty_reason=f"start index {start} is past the last of {total} results")
    # arXiv sends short, entry-less answers when called more often than every 3 s.
    raise ParseError(
        f"no entries although opensearch:totalResults is {total}; retry later", source=url
    )


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _api_paper(entry: ET.Element, number: int, url: str) -> Paper:
    parsed = parse_arxiv_id(child_text(entry, f"{ATOM}id"))  # http://arxiv.org/abs/2503.08123v1
    if parsed is None:
        raise LayoutError(f"entry {number}: no arXiv id in <id>", source=url)
    title = clean_text(child_text(entry, f"{ATOM}title"))
    if not title:
        raise LayoutError(f"entry {number} ({parsed[0]}): no <title>", source=url)
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [primary.get("term", "")] if primary is not None else []
    terms += [category.get("term", "") for category in entry.findall(f"{ATOM}category")]
    paper = Paper(
        title=title,
        abstract=clean_text(child_text(entry, f"{ATOM}summary")),
        arxiv_id=parsed[0],
        version=parsed[1],
        doi=normalise_doi(child_text(entry, f"{ARXIV}doi")),
        authors=tuple(
            name
            for author in entry.findall(f"{ATOM}author")
            if (name := clean_text(child_text(author, f"{ATOM}name")))
        ),
        published=_iso_utc(child_text(entry, f"{ATOM}published")),
        categories=tuple(dict.fromkeys(term.strip() for term in terms if term.strip())),
        url=abs_url(parsed[0]),
        details=PaperDetails(
            primary_category=(primary.get("term", "").strip() or None)
            if primary is not None
            else None,
            arxiv_comment=child_text(entry, f"{ARXIV}comment") or None,
            journal_ref=child_text(entry, f"{ARXIV}journal_ref") or None,
            pdf_url=_pdf_link(entry),
        ),
    )
    return readable_paper(paper)


def _pdf_link(entry: ET.Element) -> str | None:
    for link in entry.findall(f"{ATOM}link"):
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            return http_url(link.get("href"))
    return None


def _iso_utc(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
