"""arXiv listing pages (``arxiv.org/list/<cat>/new|recent|pastweek|<YYMM>|<YYYY>``), 2024+ and legacy.

Month and year listings (``/list/cs.LG/2503``, ``/list/cs.LG/2025``) use the
``/recent`` markup: one ``dl#articles`` of dt/dd items, no abstracts.

HTML read with selectolax/lexbor (an HTML5 parser). The markup and its quirks
are in docs/formats.md §4; the comments below name the quirk each rule
is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ...errors import LayoutError, ParseError
from ...identity import clean_text, parse_arxiv_id
from ...model import AnnounceType, Page, Paper, PaperDetails
from ..readable import http_url, readable_paper
from .common import abs_url, is_xml

__all__ = ["looks_like_listing", "parse_listing"]

_DLPAGE = re.compile(rb"""id\s*=\s*["']?dlpage\b""")
_ARTICLES = re.compile(rb"""<dl\b[^>]*\bid\s*=\s*["']?articles\b""", re.IGNORECASE)


def looks_like_listing(payload: bytes) -> bool:
    """True for an HTML page with arXiv's listing markup (``div#dlpage``, ``dl#articles``, ``.list-title``)."""
    if is_xml(payload):
        return False
    return (
        _DLPAGE.search(payload) is not None
        or _ARTICLES.search(payload) is not None
        or b"list-title" in payload
    )


@dataclass(frozen=True)
class _Item:
    """One dt/dd pair with the section it sat in."""

    number: int  # 1-based position on the page, for error messages
    dt: LexborNode
    dd: LexborNode
    section: AnnounceType | None  # from the heading; None under /recent day headings
    listed_on: str | None


def parse_listing(payload: bytes, url: str) -> Page:
    """Parse an arXiv listing page (``/new``, ``/recent``, ``/pastweek``; 2024+ or legacy)."""
    if not payload.strip():
        raise ParseError("empty payload, expected an arXiv listing page", source=url)
    tree = LexborHTMLParser(payload.decode("utf-8", errors="replace"))
    dlpage = tree.css_first("#dlpage")
    if dlpage is None and tree.css_first("dl#articles") is not None:
        # The listing without its usual wrapper (a saved fragment, a mirror): read its items.
        dlpage = tree.body
    if dlpage is None:
        raise _not_a_listing(tree, url)
    items = _walk(dlpage, url)
    if not items:
        return _empty_listing(dlpage, url)
    category = _listing_category(url, dlpage)
    return Page(tuple(_listing_paper(item, category, url) for item in items))


def _not_a_listing(tree: LexborHTMLParser, url: str) -> ParseError:
    title_node = tree.css_first("title")
    title = clean_text(title_node.text()) if title_node is not None else ""
    # A proxy login or a captcha answers 200 with HTML: that is an error, never an empty day.
    text = tree.body.text().casefold() if tree.body is not None else ""
    if tree.css_first('input[type="password"]') is not None or "captcha" in text:
        return ParseError(f"not an arXiv listing: a login or captcha page ({title!r})", source=url)
    if tree.css_first(".list-title, dl#articles, a[title='Abstract']") is not None:
        return LayoutError("no div#dlpage on an arXiv-looking page: layout drifted", source=url)
    return ParseError(f"not an arXiv listing page: no div#dlpage (title {title!r})", source=url)


def _empty_listing(dlpage: LexborNode, url: str) -> Page:
    # "No updates today." (/new) or "No updates for this time period." in every day (/recent).
    for paragraph in dlpage.css("p"):
        text = clean_text(paragraph.text())
        if text.startswith("No updates"):
            return Page((), empty_reason=text)
    if dlpage.css_first("dl") is None:
        raise LayoutError(
            "layout drifted: no dl#articles in div#dlpage and no 'No updates' notice", source=url
        )
    raise LayoutError(
        "layout drifted: no dt items in dl#articles and no 'No updates' notice", source=url
    )


def _walk(dlpage: LexborNode, url: str) -> list[_Item]:
    # <h3> inside <dl> is invalid HTML and parsers may hoist it, so walk h3/dt/dd in document
    # order and pair each dt with the next dd instead of trusting the nesting.
    items: list[_Item] = []
    section: AnnounceType | None = None
    listed_on: str | None = None
    pending: LexborNode | None = None
    for node in dlpage.traverse():
        if node.tag == "h3":
            section, listed_on = _read_heading(node.text(), section, listed_on)
        elif node.tag == "dt":
            if pending is not None:
                raise LayoutError(f"item {len(items) + 1}: a dt without its dd", source=url)
            pending = node
        elif node.tag == "dd" and pending is not None:
            items.append(_Item(len(items) + 1, pending, node, section, listed_on))
            pending = None
    if pending is not None:
        raise LayoutError(f"item {len(items) + 1}: a dt without its dd", source=url)
    return items


# Current headings, then the pre-2024 ones ("Cross-lists for Mon, 14 Feb 22"). The page's own
# index says "Cross-lists"/"Replacements" even on the current layout; the h3s do not.
_SECTIONS: tuple[tuple[str, AnnounceType], ...] = (
    ("new submissions", "new"),
    ("cross submissions", "cross"),
    ("cross-lists", "cross"),
    ("replacement submissions", "replace"),
    ("replacements", "replace"),
)


def _read_heading(
    text: str, section: AnnounceType | None, listed_on: str | None
) -> tuple[AnnounceType | None, str | None]:
    heading = clean_text(text)
    lower = heading.casefold()
    day = _heading_date(heading)
    if lower.startswith("showing new listings"):
        return section, day or listed_on
    for prefix, kind in _SECTIONS:
        if lower.startswith(prefix):
            return kind, day or listed_on
    if day is not None:  # a /recent day heading: "Wed, 12 Mar 2025 (showing 2 of 2 entries )"
        return None, day
    return section, listed_on


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_HEADING_DATE = re.compile(
    r"\b(\d{1,2})\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{4}|\d{2})\b",
    re.IGNORECASE,
)


def _heading_date(text: str) -> str | None:
    """'Wednesday, 12 March 2025', 'Wed, 12 Mar 2025' or legacy 'Mon, 14 Feb 22' -> ISO date."""
    match = _HEADING_DATE.search(text)
    if match is None:
        return None
    day, month, year = match.groups()
    full_year = int(year)
    if len(year) == 2:  # legacy two-digit years; arXiv started in 1991
        full_year += 1900 if full_year >= 91 else 2000
    try:
        return date(full_year, _MONTHS.index(month.lower()[:3]) + 1, int(day)).isoformat()
    except ValueError:
        return None


_LIST_PATH = re.compile(r"/list/([^/?#\s]+)/(?:new|recent|pastweek|\d{4}(?![\d.]))")


def _listing_category(url: str, dlpage: LexborNode) -> str | None:
    """The listing's category from the URL, else from the page's own /list/<cat>/ links."""
    match = _LIST_PATH.search(url)
    if match is not None:
        return match.group(1)
    for link in dlpage.css("a[href]"):
        match = _LIST_PATH.search(link.attributes.get("href") or "")
        if match is not None:
            return match.group(1)
    return None


def _listing_paper(item: _Item, category: str | None, url: str) -> Paper:
    arxiv_id = _dt_id(item, url)
    title_node = item.dd.css_first(".list-title")
    if title_node is None:
        raise LayoutError(f"item {item.number} ({arxiv_id}): no .list-title in its dd", source=url)
    title = _without_descriptor(title_node)
    if not title:
        raise LayoutError(f"item {item.number} ({arxiv_id}): empty .list-title", source=url)
    categories = _subjects(item.dd)
    primary = item.dd.css_first(".primary-subject")
    paper = Paper(
        title=title,
        abstract=_listing_abstract(item.dd),
        arxiv_id=arxiv_id,
        authors=tuple(
            name for a in item.dd.css(".list-authors a") if (name := clean_text(a.text()))
        ),
        categories=categories,
        announce_type=_announce_type(item, categories, category),
        listed_on=item.listed_on,
        url=abs_url(arxiv_id),
        details=PaperDetails(
            primary_category=m.group(1) if primary and (m := _code(primary.text())) else None,
            arxiv_comment=_meta_text(item.dd, ".list-comments"),
            journal_ref=_meta_text(item.dd, ".list-journal-ref"),
            pdf_url=_pdf_link(item.dt),
            listed_in=_listed_in(categories, category),
        ),
    )
    return readable_paper(paper)


def _meta_text(dd: LexborNode, selector: str) -> str | None:
    """A Comments or Journal-ref div's text; arXiv's "this https URL" links become the URL."""
    node = dd.css_first(selector)
    if node is None:
        return None
    for link in node.css("a[href]"):
        href = http_url(link.attributes.get("href"))
        if href and clean_text(link.text()).casefold() in ("this https url", "this http url"):
            link.replace_with(href)
    return _without_descriptor(node) or None


def _pdf_link(dt: LexborNode) -> str | None:
    link = dt.css_first('a[title="Download PDF"]') or dt.css_first('a[href^="/pdf/"]')
    href = link.attributes.get("href") if link is not None else None
    return http_url(urljoin("https://arxiv.org/", href)) if href else None


def _listed_in(categories: tuple[str, ...], listing: str | None) -> str | None:
    """The category the listing showed the paper under: the listing's own, or for an
    archive listing (``/list/cs/new``) the paper's first category inside that archive."""
    if listing is None:
        return None
    if "." in listing:
        return listing
    return next((code for code in categories if _within(code, listing)), listing)


def _dt_id(item: _Item, url: str) -> str:
    # The id attribute (2024+) or the /abs/<id> href (both layouts); the link text has
    # newlines and indentation. Old-style ids keep their slash: hep-th/9901001.
    link = item.dt.css_first('a[title="Abstract"]') or item.dt.css_first('a[href*="/abs/"]')
    if link is not None:
        for candidate in (link.attributes.get("id"), link.attributes.get("href")):
            if candidate and (parsed := _id_from(candidate)):
                return parsed
    raise LayoutError(f"item {item.number}: no arXiv id in its dt (a[title=Abstract])", source=url)


def _id_from(value: str) -> str | None:
    parsed = parse_arxiv_id(value) or parse_arxiv_id(urljoin("https://arxiv.org/", value))
    return parsed[0] if parsed else None


def _without_descriptor(node: LexborNode) -> str:
    """Text of a meta div without its 'Title:' / 'Subjects:' / 'Authors:' descriptor span."""
    text = node.text()
    descriptor = node.css_first(".descriptor")
    if descriptor is not None:
        text = text.replace(descriptor.text(), "", 1)
    return clean_text(text)


_SUBJECT_CODE = re.compile(r"\(([a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?)\)\s*$")


def _subjects(dd: LexborNode) -> tuple[str, ...]:
    """'Machine Learning (cs.LG); Computation and Language (cs.CL)' -> ('cs.LG', 'cs.CL')."""
    node = dd.css_first(".list-subjects")
    if node is None:
        return ()
    codes = [m.group(1) for part in _without_descriptor(node).split(";") if (m := _code(part))]
    primary = dd.css_first(".primary-subject")
    first = _code(primary.text()) if primary is not None else None
    if first is not None and first.group(1) in codes:
        codes.remove(first.group(1))
        codes.insert(0, first.group(1))
    return tuple(dict.fromkeys(codes))


def _code(part: str) -> re.Match[str] | None:
    return _SUBJECT_CODE.search(part.strip())


def _listing_abstract(dd: LexborNode) -> str:
    # Only /new shows abstracts; arXiv turns the abstract's line breaks into <br>.
    paragraph = dd.css_first("p.mathjax")
    if paragraph is None:
        return ""
    for br in paragraph.css("br"):
        br.insert_after(" ")
    return clean_text(paragraph.text())


_CROSS_MARKER = re.compile(r"\(cross-list from [^)]*\)", re.IGNORECASE)


def _announce_type(item: _Item, categories: tuple[str, ...], category: str | None) -> AnnounceType:
    # The section heading decides; /recent has none, so fall back to the dt's markers.
    marker_text = item.dt.text()
    marker: AnnounceType | None = None
    if _CROSS_MARKER.search(marker_text):
        marker = "cross"
    elif "(replaced)" in marker_text:
        marker = "replace"
    kind: AnnounceType = item.section or marker or "new"
    if kind == "replace" and categories and category and not _within(categories[0], category):
        return "replace-cross"  # as rss.arxiv.org calls a replaced paper listed from elsewhere
    return kind


def _within(primary: str, category: str) -> bool:
    """Whether a primary class belongs to a listing of a category or a whole archive (cs)."""
    return primary.casefold() == category.casefold() or primary.casefold().startswith(
        category.casefold() + "."
    )
