"""Any RSS 2.0 / Atom / RDF feed (lxml or feedparser) or JSON Feed 1 / 1.1 (through json).

The catch-all source: journal feeds, third-party republishers of Hugging Face
Daily Papers (RSSHub, takara-ai, MichaelMarkert/rss, capjamesg's JSON Feed;
docs/formats.md §7), a lab's blog. Each item becomes a :class:`Paper`:
the arXiv id is recovered from links and guids (arxiv.org, huggingface.co/papers),
the DOI from prism:doi, dc:identifier or a doi.org link. Descriptions are
untrusted HTML and come out as plain text (selectolax/lexbor, script and style
dropped); links other than http(s) are dropped.

rss.arxiv.org feeds parse here too, but :mod:`digest.sources.arxiv` reads them
better (announce type, versions, TeX); detection checks the arXiv sniffers first.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from ..errors import LayoutError, ParseError
from ..identity import all_clean, clean_text, normalise_doi, parse_arxiv_id
from ..model import NO_DETAILS, Page, Paper, PaperDetails
from . import feedxml
from .readable import readable_paper

__all__ = ["html_to_text", "looks_like_feed", "looks_like_json_feed", "parse"]

NO_ITEMS = "the feed has no items"


# --- sniffers ------------------------------------------------------------------------------

# Skip the XML declaration, processing instructions (xml-stylesheet), comments and a DOCTYPE.
_ROOT_TAG = re.compile(
    rb"^(?:\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>))*\s*<(?:[\w.-]+:)?([\w.-]+)",
    re.DOTALL | re.IGNORECASE,
)
_JSON_FEED_VERSION = re.compile(rb"jsonfeed\.org\\?/version\\?/1")  # PHP escapes "/" as "\/"


def _head(payload: bytes) -> bytes:
    return payload.removeprefix(b"\xef\xbb\xbf")[:4096]


def looks_like_feed(payload: bytes) -> bool:
    """True when the document element is ``rss``, ``feed`` (Atom) or ``rdf:RDF`` (RSS 1.0)."""
    match = _ROOT_TAG.match(_head(payload))
    return match is not None and match.group(1).lower() in {b"rss", b"feed", b"rdf"}


def looks_like_json_feed(payload: bytes) -> bool:
    """True for a JSON object that names a jsonfeed.org version 1 or 1.1."""
    return payload.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{") and bool(
        _JSON_FEED_VERSION.search(payload)
    )


# --- one item, whatever the format ---------------------------------------------------------


class _Item(NamedTuple):
    """What any feed format says about one item, before it becomes a Paper.

    A named tuple, not a frozen dataclass: made once per item and read once, it is
    built in a third of the time (no ``object.__setattr__`` per field).
    """

    title: str
    abstract: str
    links: tuple[str, ...]  # best first: the item's page, then other alternates
    ids: tuple[str, ...]  # guid / id values, which may be URLs or oai: ids
    authors: tuple[str, ...]
    published: datetime | None
    tags: tuple[str, ...]
    dois: tuple[str, ...]  # raw values that may hold a DOI


def parse(payload: bytes, url: str, *, fast: bool = True) -> Page:
    """Parse an RSS 2.0, Atom, RDF or JSON Feed payload into papers.

    ``fast=False`` reads XML with feedparser alone: the reference the lxml path
    (:mod:`.feedxml`) is tested against.
    """
    if not payload.strip():
        raise ParseError("empty payload, expected a feed", source=url)
    stripped = payload.removeprefix(b"\xef\xbb\xbf").lstrip()
    if stripped[:1] in (b"{", b"["):
        items = _json_items(payload, url)
    else:
        items = _xml_items(payload, url, fast=fast)
    if not items:
        return Page((), empty_reason=NO_ITEMS)
    papers = tuple(_paper(item, url) for item in items if item.title)
    if not papers:
        raise LayoutError(f"none of the feed's {len(items)} items has a title", source=url)
    return Page(papers)


def _paper(item: _Item, base: str) -> Paper:
    # Feeds repeat the item link among the alternates: check each URL once.
    links = tuple(link for raw in dict.fromkeys(item.links) if (link := _safe_url(raw, base)))
    arxiv = _arxiv_id(links + item.ids, item.title, item.abstract)
    url = links[0] if links else (f"https://arxiv.org/abs/{arxiv[0]}" if arxiv else None)
    hf_page = next((link for link in links if _HF_PAPER.match(link)), None)
    paper = Paper(
        title=item.title,
        abstract=_ARXIV_RSS_PREFIX.sub("", item.abstract, count=1),
        arxiv_id=arxiv[0] if arxiv else None,
        version=arxiv[1] if arxiv else None,
        doi=_doi(item.dois + item.ids + links),
        authors=item.authors,
        published=item.published,
        categories=item.tags,
        url=url,
        details=PaperDetails(hf_url=hf_page) if hf_page else NO_DETAILS,
    )
    return readable_paper(paper)


def _safe_url(raw: str, base: str) -> str | None:
    """An absolute http(s) URL, or None: javascript:, data: and the like never leave here."""
    link = raw.strip()
    plain = _plain_web_link(link, base)
    if plain is not None:
        return link if plain else None
    return _joined_url(link, base)


def _plain_web_link(link: str, base: str) -> bool | None:
    """What :func:`_joined_url` says of a plain absolute http(s) link (kept or not), or None.

    Splitting and joining cost more than the rest of an item's links and ids together;
    most links are ``https://host/path``, whose parts can be seen in the text itself.
    Plain means ASCII and printable (urlsplit drops tabs and newlines, which would move
    the host) without IPv6 brackets (urlsplit checks those, and may raise).
    """
    if link.startswith("https://"):
        scheme, host = "https", 8
    elif link.startswith("http://"):
        scheme, host = "http", 7
    else:
        return None
    if not (link.isascii() and link.isprintable()) or "[" in link or "]" in link:
        return None
    has_host = len(link) > host and link[host] not in "/?#"
    if scheme != _scheme(base):
        return has_host  # not joined: kept when urlsplit finds a host
    # urljoin rebuilds a link of the page's scheme from its parts, which drops an empty
    # query, fragment or ;params: the same text only when it has none of them.
    if has_host and "?" not in link and "#" not in link and ";" not in link:
        return True
    return None


def _joined_url(link: str, base: str) -> str | None:
    """The long way of :func:`_safe_url`: ``link`` split, joined to the page's URL, checked."""
    parts = urlsplit(link)
    # urljoin hands a link with a scheme other than the page's back as it is: split it
    # once here rather than three times (urljoin parses both URLs, then the check again).
    if parts.scheme in ("", _scheme(base)) and _is_web(base):
        link = urljoin(base, link)
        parts = urlsplit(link)
    return link if parts.scheme in ("http", "https") and parts.netloc else None


@lru_cache(maxsize=16)
def _scheme(base: str) -> str:
    return urlsplit(base).scheme  # asked once per item, of the one page URL


def _is_web(base: str) -> bool:
    return _scheme(base) in ("http", "https")


_HF_PAPER = re.compile(r"^https?://(?:www\.)?huggingface\.co/papers/([^/?#]+)", re.IGNORECASE)
_ARXIV_IN_TEXT = re.compile(r"\barXiv:\s*([\w./-]+)", re.IGNORECASE)
# rss.arxiv.org descriptions, when such a feed is read as a generic one (docs/formats.md §7).
_ARXIV_RSS_PREFIX = re.compile(r"^arXiv:\S+\s+Announce Type:\s*[\w-]+\s*Abstract:\s*")


def _arxiv_id(
    candidates: tuple[str, ...], title: str, abstract: str
) -> tuple[str, int | None] | None:
    """From links and ids first; from text only when written ``arXiv:<id>``.

    Text is trusted only where feeds put the paper's own id: anywhere in the title (old
    arXiv RSS: "Title. (arXiv:2103.03223v3 [cs.LG] UPDATED)") and at the very start of
    the description (rss.arxiv.org). Elsewhere an id is likely a citation of another
    paper, and taking it would merge two papers into one.
    """
    # Each candidate once: the item's link and its id are often the same URL.
    found = [
        parsed for candidate in dict.fromkeys(candidates) if (parsed := _id_in_link(candidate))
    ]
    if found:
        # The link is usually version-less and the guid versioned (oai:arXiv.org:<id>v<N>).
        versions = (version for bare, version in found if bare == found[0][0] and version)
        return found[0][0], next(versions, None)
    in_title = _ARXIV_IN_TEXT.search(title)
    at_start = _ARXIV_IN_TEXT.match(abstract)
    for match in (in_title, at_start):
        if match and (parsed := parse_arxiv_id(match.group(1).rstrip("."))):
            return parsed
    return None


def _id_in_link(candidate: str) -> tuple[str, int | None] | None:
    hf = _HF_PAPER.match(candidate)
    return parse_arxiv_id(hf.group(1) if hf else candidate.split("?")[0].split("#")[0])


def _doi(candidates: tuple[str, ...]) -> str | None:
    # Only values that say they are DOIs: a publisher URL may embed one next to other noise.
    for candidate in candidates:
        value = candidate.strip()
        lowered = value.lower()
        says_doi = lowered.startswith(("10.", "doi:")) or "doi.org/10." in lowered
        if says_doi and (doi := normalise_doi(value)):
            return doi
    return None


_DROPPED_ELEMENTS = ["script", "style", "noscript", "template", "iframe", "object", "svg"]
_BLOCKS = "p, div, br, li, dd, dt, tr, td, th, h1, h2, h3, h4, h5, h6, blockquote, pre, hr"


def html_to_text(fragment: str) -> str:
    """Untrusted HTML to one line of plain text; scripts and styles vanish with their content."""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    tree = LexborHTMLParser(fragment)
    tree.strip_tags(_DROPPED_ELEMENTS)
    for block in tree.css(_BLOCKS):  # keep words in separate paragraphs apart
        block.insert_after(" ")
    return clean_text(tree.root.text() if tree.root is not None else "")


# Some republishers put an AI summary first (MichaelMarkert/rss: summary + "AI-generated
# summary" + abstract); the abstract is what follows the marker.
_AI_SUMMARY = re.compile(r"^.*?AI-generated summary\s*", re.DOTALL)


def _abstract(text: str) -> str:
    if "AI-generated summary" not in text:
        return text  # the pattern's lazy ".*?" would try every position of the abstract first
    return _AI_SUMMARY.sub("", text, count=1)


def _split_names(names: list[str]) -> tuple[str, ...]:
    """RSSHub and others pack every author into one comma-joined string: split it.

    Only when every part looks like a full name (has a space), so "Smith, John" stays one.
    """
    if all_clean(names) and "," not in "".join(names):
        return tuple(dict.fromkeys(names))  # the usual byline: nothing to split or clean
    result: list[str] = []
    for name in names:
        if "," in name:
            parts = [clean_text(part) for part in name.split(",")]
            if all(" " in part for part in parts):
                result.extend(parts)
                continue
        if cleaned := clean_text(name):  # each name cleaned once: most have no comma
            result.append(cleaned)
    return tuple(dict.fromkeys(result))


# --- RSS 2.0 / Atom / RDF: lxml for the plain case, feedparser for everything else -------

_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S)


def _xml_items(payload: bytes, url: str, *, fast: bool) -> list[_Item]:
    if _HTML_START.match(_head(payload)):
        raise ParseError(f"an HTML page, not a feed ({_html_title(payload)!r})", source=url)
    entries = feedxml.read(payload) if fast else None  # None: feedparser reads it
    if entries is not None:
        return [_lxml_item(entry) for entry in entries]
    return _feedparser_items(payload, url)


def _lxml_item(entry: feedxml.Entry) -> _Item:
    """The same _Item as :func:`_feedparser_item` makes of feedparser's view of the entry."""
    links = [entry.link or ""] + [href or "" for rel, href in entry.links if rel == "alternate"]
    if entry.summary:
        body = _typed_text(entry.summary_type or "text/html", entry.summary)
    else:
        body = next((_typed_text(kind, value) for kind, value in entry.contents[:1]), "")
    return _Item(
        title=_typed_text(entry.title_type or "text/html", entry.title),
        abstract=_abstract(body),
        links=tuple(link for link in links if link),
        ids=(entry.id,) if entry.id is not None else (),
        authors=_split_names(entry.authors),
        published=entry.published or entry.updated,
        tags=_clean_tags(entry.tags),
        dois=tuple(entry.dois.get(key, "") for key in feedxml.DOI_KEYS) if entry.dois else _NO_DOIS,
    )


_NO_DOIS = ("",) * len(feedxml.DOI_KEYS)  # what an entry without DOI fields gives


def _clean_tags(tags: list[str]) -> tuple[str, ...]:
    """Each tag cleaned once, the empty ones dropped, each kept once (the first time)."""
    if all_clean(tags):
        return tuple(dict.fromkeys(tags))
    return tuple(dict.fromkeys(t for tag in tags if (t := clean_text(tag))))


def _feedparser_items(payload: bytes, url: str) -> list[_Item]:
    import feedparser  # imported when first needed: the import alone takes 60 ms

    harmless = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    # A stream, never bytes: feedparser opens a bytes argument as a file path if it can.
    # Its sanitizer is off because everything is reduced to plain text below.
    result = feedparser.parse(io.BytesIO(payload), sanitize_html=False, resolve_relative_uris=False)
    entries: list[Any] = list(result.get("entries", []))
    problem = result.get("bozo_exception") if result.get("bozo") else None
    if isinstance(problem, harmless):  # encoding notes: the bytes decoded and the feed parsed
        problem = None
    if not result.get("version") and not entries:
        raise ParseError(f"not an RSS, Atom or RDF feed ({problem or 'no feed root'})", source=url)
    if problem is not None and not entries:
        # A truncated download can look like a channel without items: not an empty day.
        raise ParseError(f"broken feed with no usable items: {problem}", source=url)
    return [_feedparser_item(entry) for entry in entries]


def _html_title(payload: bytes) -> str:
    title = LexborHTMLParser(payload.decode("utf-8", errors="replace")).css_first("title")
    return clean_text(title.text()) if title is not None else "untitled"


def _feedparser_item(entry: Any) -> _Item:
    links = [entry.get("link") or ""]
    links += [link.get("href", "") for link in entry.get("links", []) if _is_page_link(link)]
    return _Item(
        title=_detail_text(entry.get("title_detail"), entry.get("title", "")),
        abstract=_abstract(_entry_body(entry)),
        links=tuple(link for link in links if link),
        ids=tuple(value for value in (entry.get("id"),) if isinstance(value, str)),
        authors=_split_names([str(a.get("name", "")) for a in entry.get("authors", [])]),
        published=_entry_time(entry),
        tags=tuple(dict.fromkeys(t for tag in entry.get("tags", []) if (t := _tag(tag)))),
        dois=tuple(str(entry.get(key, "")) for key in ("prism_doi", "dc_identifier", "arxiv_doi")),
    )


def _is_page_link(link: Any) -> bool:
    return bool(link.get("rel", "alternate") == "alternate")


def _entry_body(entry: Any) -> str:
    if entry.get("summary"):
        return _detail_text(entry.get("summary_detail"), entry.get("summary", ""))
    for content in entry.get("content", []):
        return _detail_text(content, content.get("value", ""))
    return ""


def _detail_text(detail: Any, value: str) -> str:
    return _typed_text(str(detail.get("type", "text/html")) if detail else "text/html", value)


def _typed_text(kind: str, value: str) -> str:
    # RSS descriptions are HTML by convention; Atom says so with type="html"/"xhtml".
    # Plain text is already unescaped once by the XML parser: never unescape it again.
    return html_to_text(value) if "html" in kind else clean_text(value)


def _tag(tag: Any) -> str:
    return clean_text(str(tag.get("term") or tag.get("label") or ""))


def _entry_time(entry: Any) -> datetime | None:
    # dict.get: feedparser's own .get("updated_parsed") warns when it falls back to published.
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if not parsed:
        return None
    year, month, day, hour, minute, second = parsed[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)  # struct_time is UTC


# --- JSON Feed 1 / 1.1 (jsonfeed.org) ------------------------------------------------------

_JSON_FEED_URL = re.compile(r"^https?://jsonfeed\.org/version/1(?:\.1)?/?$")


def _json_items(payload: bytes, url: str) -> list[_Item]:
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise ParseError(f"not valid JSON ({error}), expected a JSON Feed", source=url) from None
    except RecursionError:  # json.loads recurses per level of nesting
        raise ParseError("JSON nested too deeply to be a JSON Feed", source=url) from None
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not _JSON_FEED_URL.match(version):
        raise ParseError("JSON, but not a JSON Feed (no jsonfeed.org version 1)", source=url)
    items = document.get("items")
    if not isinstance(items, list):
        raise LayoutError("the JSON Feed has no items array", source=url)
    return [_json_item(item) for item in items if isinstance(item, dict)]


def _json_item(item: dict[str, Any]) -> _Item:
    # content_text and summary are plain text by the spec; only content_html is HTML.
    body = (
        clean_text(_string(item.get("content_text")))
        or html_to_text(_string(item.get("content_html")))
        or clean_text(_string(item.get("summary")))
    )
    listed = item.get("authors")  # JSON Feed 1.1; version 1 has a single "author"
    authors: list[Any] = listed if isinstance(listed, list) else [item.get("author")]
    tags = item.get("tags")
    return _Item(
        title=clean_text(_string(item.get("title"))),  # plain text by the JSON Feed spec
        abstract=_abstract(body),
        links=tuple(s for key in ("url", "external_url") if (s := _string(item.get(key)))),
        ids=tuple(s for s in (_string(item.get("id")),) if s),
        authors=_split_names([_string(a.get("name")) for a in authors if isinstance(a, dict)]),
        published=_json_time(_string(item.get("date_published"))),
        tags=tuple(clean_text(t) for t in tags if isinstance(t, str))
        if isinstance(tags, list)
        else (),
        dois=(),
    )


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def _json_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)  # RFC 3339, as JSON Feed requires
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
