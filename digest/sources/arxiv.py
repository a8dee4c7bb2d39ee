"""arXiv's own formats: listing pages, the export API's Atom and the rss.arxiv.org feeds.

Three pure parsers (``parse_listing``, ``parse_api``, ``parse_rss``) turn one
payload into a :class:`~digest.model.Page`, and three cheap sniffers tell
:mod:`digest.sources.detect` which one a payload needs. The markup and its
quirks are described in ``formats.md`` sections 3 and 4; the comments below
name the quirk each rule is for.

Listing pages are HTML (selectolax/lexbor, an HTML5 parser). The API and the
feeds are XML read with the standard library's ElementTree, namespace-aware
and typed: feedparser would treat the RSS ``description`` as HTML and eat
abstracts such as "for all x<y and y>z" (arXiv escapes the abstract as text),
and ElementTree resolves no external entities (expat >= 2.4 also caps entity
expansion), which is what untrusted input needs.

arXiv metadata is TeX. Text-mode accent macros (``Andr\\'e``, ``{\\"o}``,
``\\c{c}``) are converted to Unicode in titles, authors and abstracts, so a
paper reads the same as on the listing pages (which arXiv already converts);
everything else, math included (``$k$``), is kept as sent.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..errors import LayoutError, ParseError
from ..identity import clean_text, normalise_doi, parse_arxiv_id
from ..model import AnnounceType, Page, Paper

__all__ = [
    "looks_like_api",
    "looks_like_listing",
    "looks_like_rss",
    "parse_api",
    "parse_listing",
    "parse_rss",
]

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_ANNOUNCE_TYPES: dict[str, AnnounceType] = {
    "new": "new",
    "cross": "cross",
    "replace": "replace",
    "replace-cross": "replace-cross",
}


def _abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


# --- sniffers ------------------------------------------------------------------------------

_XML_START = re.compile(rb"^\s*<(?:\?xml|rss|feed|rdf:RDF)\b")
_DLPAGE = re.compile(rb"""id\s*=\s*["']?dlpage\b""")


def _is_xml(payload: bytes) -> bool:
    return _XML_START.match(payload.removeprefix(b"\xef\xbb\xbf")[:512]) is not None


def looks_like_listing(payload: bytes) -> bool:
    """True for an HTML page with arXiv's listing markup (``div#dlpage`` or ``.list-title``)."""
    if _is_xml(payload):
        return False
    return _DLPAGE.search(payload) is not None or b"list-title" in payload


def looks_like_api(payload: bytes) -> bool:
    """True for export.arxiv.org API Atom: OpenSearch counts plus arXiv's schema or error ids."""
    if not _is_xml(payload) or b"http://a9.com/-/spec/opensearch/1.1/" not in payload:
        return False
    # The API's error answer declares no arxiv namespace, but its entry id is arxiv.org/api/errors.
    return b"http://arxiv.org/schemas/atom" in payload or b"arxiv.org/api/errors" in payload


def looks_like_rss(payload: bytes) -> bool:
    """True for an rss.arxiv.org feed (RSS or Atom), including empty and error feeds."""
    if not _is_xml(payload):
        return False
    markers = (b"arxiv:announce_type", b"rss.arxiv.org", b"oai:arXiv.org:")
    return any(marker in payload for marker in markers)


# --- listing pages (arxiv.org/list/<cat>/new|recent|pastweek) ------------------------------


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
        raise LayoutError("no dl#articles in div#dlpage and no 'No updates' notice", source=url)
    raise LayoutError("no dt items in dl#articles and no 'No updates' notice", source=url)


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


_LIST_PATH = re.compile(r"/list/([^/?#\s]+)/(?:new|recent|pastweek)\b")


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
    return Paper(
        title=title,
        abstract=_listing_abstract(item.dd),
        arxiv_id=arxiv_id,
        authors=tuple(
            name for a in item.dd.css(".list-authors a") if (name := clean_text(a.text()))
        ),
        categories=categories,
        announce_type=_announce_type(item, categories, category),
        listed_on=item.listed_on,
        url=_abs_url(arxiv_id),
    )


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


# --- XML shared by the API and the feeds --------------------------------------------------


def _xml_root(payload: bytes, url: str, expected: str) -> ET.Element:
    if not payload.strip():
        raise ParseError(f"empty payload, expected {expected}", source=url)
    try:
        return ET.fromstring(payload)
    except ET.ParseError as error:
        raise ParseError(
            f"not well-formed XML ({error}), expected {expected}", source=url
        ) from None


def _text(element: ET.Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "") if found is not None else ""


_TEX_ACCENT = re.compile(
    r"\\([`'^\"~=.])\s*(?:\{(\\[ij]|[A-Za-z])\}|(\\[ij]|[A-Za-z]))"
    r"|\\([uvHckr])(?:\{(\\[ij]|[A-Za-z])\}|\s+([A-Za-z]))"
)
_COMBINING = {
    "`": "\u0300",
    "'": "\u0301",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    "u": "\u0306",
    ".": "\u0307",
    '"': "\u0308",
    "r": "\u030a",
    "H": "\u030b",
    "v": "\u030c",
    "c": "\u0327",
    "k": "\u0328",
}
# A control word swallows the spaces after it, as in TeX: "Bj\\o rn" is "Bjørn".
_TEX_LETTER = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L)(?![A-Za-z])(?:\{\}|\s+(?=[A-Za-z]))?")
_LETTERS = {"ss": "ß", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ"}
_LETTERS |= {"o": "ø", "O": "Ø", "l": "ł", "L": "Ł"}
_BRACED_CHAR = re.compile(r"\{([^\x00-\x7f])\}")  # {é} left over from {\'e}


def _tex_to_unicode(text: str) -> str:
    """Text-mode accent macros to Unicode: ``Andr\\'e`` -> ``André``; math is left alone.

    These macros are invalid in math mode, so converting them never changes a formula.
    """
    if "\\" not in text:
        return text

    def accent(match: re.Match[str]) -> str:
        mark = _COMBINING[match.group(1) or match.group(4)]
        base = match.group(2) or match.group(3) or match.group(5) or match.group(6)
        base = {"\\i": "i", "\\j": "j"}.get(base, base)
        return unicodedata.normalize("NFC", base + mark)

    text = _TEX_ACCENT.sub(accent, text)
    text = _TEX_LETTER.sub(lambda match: _LETTERS[match.group(1)], text)
    return _BRACED_CHAR.sub(r"\1", text)


def _clean_tex(text: str) -> str:
    return clean_text(_tex_to_unicode(text))


# --- export.arxiv.org/api/query ------------------------------------------------------------

_API_ERROR_ID = re.compile(r"^https?://arxiv\.org/api/errors")


def parse_api(payload: bytes, url: str) -> Page:
    """Parse an arXiv API Atom answer; the API's own error entry becomes a ParseError."""
    root = _xml_root(payload, url, "arXiv API Atom")
    if root.tag != f"{_ATOM}feed":
        raise ParseError(f"root element is {root.tag}, expected an Atom feed", source=url)
    entries = root.findall(f"{_ATOM}entry")
    for entry in entries:
        # Errors come back as HTTP 200 with one entry titled "Error" and an errors# id.
        if _API_ERROR_ID.match(_text(entry, f"{_ATOM}id").strip()):
            message = clean_text(_text(entry, f"{_ATOM}summary")) or "no message"
            raise ParseError(f"the arXiv API answered with an error: {message}", source=url)
    if not entries:
        return _api_empty(root, url)
    return Page(tuple(_api_paper(entry, n, url) for n, entry in enumerate(entries, 1)))


def _api_empty(root: ET.Element, url: str) -> Page:
    total = _int(_text(root, f"{_OPENSEARCH}totalResults"))
    start = _int(_text(root, f"{_OPENSEARCH}startIndex")) or 0
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
    parsed = parse_arxiv_id(_text(entry, f"{_ATOM}id"))  # http://arxiv.org/abs/2503.08123v1
    if parsed is None:
        raise LayoutError(f"entry {number}: no arXiv id in <id>", source=url)
    title = _clean_tex(_text(entry, f"{_ATOM}title"))
    if not title:
        raise LayoutError(f"entry {number} ({parsed[0]}): no <title>", source=url)
    primary = entry.find(f"{_ARXIV}primary_category")
    terms = [primary.get("term", "")] if primary is not None else []
    terms += [category.get("term", "") for category in entry.findall(f"{_ATOM}category")]
    return Paper(
        title=title,
        abstract=_clean_tex(_text(entry, f"{_ATOM}summary")),
        arxiv_id=parsed[0],
        version=parsed[1],
        doi=normalise_doi(_text(entry, f"{_ARXIV}doi")),
        authors=tuple(
            name
            for author in entry.findall(f"{_ATOM}author")
            if (name := _clean_tex(_text(author, f"{_ATOM}name")))
        ),
        published=_iso_utc(_text(entry, f"{_ATOM}published")),
        categories=tuple(dict.fromkeys(term.strip() for term in terms if term.strip())),
        url=_abs_url(parsed[0]),
    )


def _iso_utc(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- rss.arxiv.org/rss/<q> and /atom/<q> ---------------------------------------------------


@dataclass(frozen=True)
class _FeedItem:
    """The fields both flavours of an rss.arxiv.org item carry, as raw text."""

    title: str
    guid: str
    link: str
    description: str
    categories: tuple[str, ...]
    announce_type: str
    creators: str
    doi: str
    day: str | None


def parse_rss(payload: bytes, url: str) -> Page:
    """Parse an rss.arxiv.org feed, RSS 2.0 or Atom; one announcement day per feed."""
    root = _xml_root(payload, url, "an rss.arxiv.org feed")
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise LayoutError("no <channel> in the RSS feed", source=url)
        title, about = _text(channel, "title"), _text(channel, "description")
        items = [_rss_item(item) for item in channel.findall("item")]
        day = _rfc822_day(_text(channel, "pubDate"))
    elif root.tag == f"{_ATOM}feed":
        title, about = _text(root, f"{_ATOM}title"), _text(root, f"{_ATOM}subtitle")
        items = [_atom_item(entry) for entry in root.findall(f"{_ATOM}entry")]
        day = _iso_day(_text(root, f"{_ATOM}updated"))
    else:
        raise ParseError(f"root element is {root.tag}, expected RSS or Atom", source=url)
    if title.strip().startswith("Feed error for query"):  # HTTP 400 with a feed-shaped body
        raise ParseError(f"rss.arxiv.org: {clean_text(about) or clean_text(title)}", source=url)
    if not items:
        # No items on weekends and holidays: the channel declares skipDays Saturday and Sunday.
        return Page((), empty_reason=f"no announcement: the feed for {day or '?'} has no items")
    return Page(tuple(_feed_paper(item, n, url) for n, item in enumerate(items, 1)))


def _rss_item(item: ET.Element) -> _FeedItem:
    return _FeedItem(
        title=_text(item, "title"),
        guid=_text(item, "guid"),
        link=_text(item, "link"),
        description=_text(item, "description"),
        categories=tuple(category.text or "" for category in item.findall("category")),
        announce_type=_text(item, f"{_ARXIV}announce_type"),
        creators=_text(item, f"{_DC}creator"),
        doi=_text(item, f"{_ARXIV}DOI") or _text(item, f"{_ARXIV}doi"),
        day=_rfc822_day(_text(item, "pubDate")),
    )


def _atom_item(entry: ET.Element) -> _FeedItem:
    link = entry.find(f"{_ATOM}link")
    names = ", ".join(_text(author, f"{_ATOM}name") for author in entry.findall(f"{_ATOM}author"))
    return _FeedItem(
        title=_text(entry, f"{_ATOM}title"),
        guid=_text(entry, f"{_ATOM}id"),
        link=link.get("href", "") if link is not None else "",
        description=_text(entry, f"{_ATOM}summary"),
        categories=tuple(c.get("term", "") for c in entry.findall(f"{_ATOM}category")),
        announce_type=_text(entry, f"{_ARXIV}announce_type"),
        creators=_text(entry, f"{_DC}creator") or names,
        doi=_text(entry, f"{_ARXIV}DOI") or _text(entry, f"{_ARXIV}doi"),
        day=_iso_day(_text(entry, f"{_ATOM}published")),
    )


# "arXiv:<id>v<N> Announce Type: <type> \nAbstract: <abstract>" (arxiv-feed serializer.py;
# note the space before the newline).
_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*Abstract:\s?(?P<abstract>.*)\Z",
    re.DOTALL,
)


def _feed_paper(item: _FeedItem, number: int, url: str) -> Paper:
    match = _DESCRIPTION.match(item.description)
    abstract = match.group("abstract") if match else item.description
    candidates = [item.guid, match.group("id") if match else "", item.link]
    parsed = next((p for c in candidates if c and (p := parse_arxiv_id(c))), None)
    if parsed is None:
        raise LayoutError(f"item {number}: no arXiv id in guid, description or link", source=url)
    title = _clean_tex(item.title)
    if not title:
        raise LayoutError(f"item {number} ({parsed[0]}): no <title>", source=url)
    # The guid carries the version; the link never does.
    version = next((p[1] for c in candidates if c and (p := parse_arxiv_id(c)) and p[1]), None)
    kind = item.announce_type.strip() or (match.group("type") if match else "")
    return Paper(
        title=title,
        abstract=_clean_tex(abstract),
        arxiv_id=parsed[0],
        version=version,
        doi=normalise_doi(item.doi),
        authors=_split_creators(item.creators),
        categories=tuple(dict.fromkeys(c.strip() for c in item.categories if c.strip())),
        announce_type=_ANNOUNCE_TYPES.get(kind.casefold()),
        listed_on=item.day,
        url=_abs_url(parsed[0]),
    )


_AFFILIATION = re.compile(r"\s*\([^()]*\)")


def _split_creators(text: str) -> tuple[str, ...]:
    """dc:creator is one string: 'A (Univ X, Y), B' -> ('A', 'B'); commas in parentheses stay."""
    names: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(text + ","):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth <= 0:
            names.append(text[start:index])
            start, depth = index + 1, 0
    cleaned = (_clean_tex(_AFFILIATION.sub("", name)) for name in names)
    return tuple(name for name in cleaned if name)


def _rfc822_day(text: str) -> str | None:
    # 'Wed, 12 Mar 2025 00:00:00 -0400' is the ET midnight of the mailing: the date as written,
    # in its own offset, is the listing day (in UTC it would still be the same day, 04:00).
    try:
        return email.utils.parsedate_to_datetime(text.strip()).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _iso_day(text: str) -> str | None:
    try:
        return datetime.fromisoformat(text.strip()).date().isoformat()
    except ValueError:
        return None
