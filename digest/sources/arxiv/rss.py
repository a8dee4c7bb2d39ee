"""The rss.arxiv.org feeds (``/rss/<q>`` RSS 2.0 and ``/atom/<q>`` Atom): one announcement day each.

Every item says how it was announced (``new``, ``cross``, ``replace``,
``replace-cross``) and its guid carries the version, which is what lets
history tell a replacement from a new paper (docs/formats.md §6). A
weekend or holiday feed has no items: an explicitly empty day, not a failure.
"""

from __future__ import annotations

import email.utils
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from ...errors import LayoutError, ParseError
from ...identity import clean_text, normalise_doi, parse_arxiv_id
from ...model import AnnounceType, Page, Paper, PaperDetails
from ..readable import readable_paper
from .common import ARXIV, ATOM, DC, abs_url, child_text, is_xml, xml_root

__all__ = ["looks_like_rss", "parse_rss"]

_ANNOUNCE_TYPES: dict[str, AnnounceType] = {
    "new": "new",
    "cross": "cross",
    "replace": "replace",
    "replace-cross": "replace-cross",
}


def looks_like_rss(payload: bytes) -> bool:
    """True for an rss.arxiv.org feed (RSS or Atom), including empty and error feeds."""
    if not is_xml(payload):
        return False
    markers = (b"arxiv:announce_type", b"rss.arxiv.org", b"oai:arXiv.org:")
    return any(marker in payload for marker in markers)


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
    journal_ref: str
    day: str | None


def parse_rss(payload: bytes, url: str) -> Page:
    """Parse an rss.arxiv.org feed, RSS 2.0 or Atom; one announcement day per feed."""
    root = xml_root(payload, url, "an rss.arxiv.org feed")
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise LayoutError("no <channel> in the RSS feed", source=url)
        title, about = child_text(channel, "title"), child_text(channel, "description")
        items = [_rss_item(item) for item in channel.findall("item")]
        day = _rfc822_day(child_text(channel, "pubDate"))
        queried = _queried(url, child_text(channel, "link"))
    elif root.tag == f"{ATOM}feed":
        title, about = child_text(root, f"{ATOM}title"), child_text(root, f"{ATOM}subtitle")
        items = [_atom_item(entry) for entry in root.findall(f"{ATOM}entry")]
        day = _iso_day(child_text(root, f"{ATOM}updated"))
        links = " ".join(link.get("href", "") for link in root.findall(f"{ATOM}link"))
        links += " " + child_text(root, f"{ATOM}id")
        queried = _queried(url, links)
    else:
        raise ParseError(f"root element is {root.tag}, expected RSS or Atom", source=url)
    if title.strip().startswith("Feed error for query"):  # HTTP 400 with a feed-shaped body
        raise ParseError(f"rss.arxiv.org: {clean_text(about) or clean_text(title)}", source=url)
    if not items:
        # No items on weekends and holidays: the channel declares skipDays Saturday and Sunday.
        return Page((), empty_reason=f"no announcement: the feed for {day or '?'} has no items")
    return Page(tuple(_feed_paper(item, n, url, queried) for n, item in enumerate(items, 1)))


def _rss_item(item: ET.Element) -> _FeedItem:
    return _FeedItem(
        title=child_text(item, "title"),
        guid=child_text(item, "guid"),
        link=child_text(item, "link"),
        description=child_text(item, "description"),
        categories=tuple(category.text or "" for category in item.findall("category")),
        announce_type=child_text(item, f"{ARXIV}announce_type"),
        creators=child_text(item, f"{DC}creator"),
        doi=child_text(item, f"{ARXIV}DOI") or child_text(item, f"{ARXIV}doi"),
        journal_ref=child_text(item, f"{ARXIV}journal_reference"),
        day=_rfc822_day(child_text(item, "pubDate")),
    )


def _atom_item(entry: ET.Element) -> _FeedItem:
    link = entry.find(f"{ATOM}link")
    names = ", ".join(
        child_text(author, f"{ATOM}name") for author in entry.findall(f"{ATOM}author")
    )
    return _FeedItem(
        title=child_text(entry, f"{ATOM}title"),
        guid=child_text(entry, f"{ATOM}id"),
        link=link.get("href", "") if link is not None else "",
        description=child_text(entry, f"{ATOM}summary"),
        categories=tuple(c.get("term", "") for c in entry.findall(f"{ATOM}category")),
        announce_type=child_text(entry, f"{ARXIV}announce_type"),
        creators=child_text(entry, f"{DC}creator") or names,
        doi=child_text(entry, f"{ARXIV}DOI") or child_text(entry, f"{ARXIV}doi"),
        journal_ref=child_text(entry, f"{ARXIV}journal_reference"),
        day=_iso_day(child_text(entry, f"{ATOM}published")),
    )


# "arXiv:<id>v<N> Announce Type: <type> \nAbstract: <abstract>" (arxiv-feed serializer.py;
# note the space before the newline).
_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*Abstract:\s?(?P<abstract>.*)\Z",
    re.DOTALL,
)


def _feed_paper(item: _FeedItem, number: int, url: str, queried: tuple[str, ...]) -> Paper:
    match = _DESCRIPTION.match(item.description)
    abstract = match.group("abstract") if match else item.description
    candidates = [item.guid, match.group("id") if match else "", item.link]
    parsed = next((p for c in candidates if c and (p := parse_arxiv_id(c))), None)
    if parsed is None:
        raise LayoutError(f"item {number}: no arXiv id in guid, description or link", source=url)
    title = clean_text(item.title)
    if not title:
        raise LayoutError(f"item {number} ({parsed[0]}): no <title>", source=url)
    # The guid carries the version; the link never does.
    version = next((p[1] for c in candidates if c and (p := parse_arxiv_id(c)) and p[1]), None)
    kind = item.announce_type.strip() or (match.group("type") if match else "")
    categories = tuple(dict.fromkeys(c.strip() for c in item.categories if c.strip()))
    paper = Paper(
        title=title,
        abstract=clean_text(abstract),
        arxiv_id=parsed[0],
        version=version,
        doi=normalise_doi(item.doi),
        authors=_split_creators(item.creators),
        categories=categories,
        announce_type=_ANNOUNCE_TYPES.get(kind.casefold()),
        listed_on=item.day,
        url=abs_url(parsed[0]),
        details=PaperDetails(
            # The feed lists a paper's categories in its own order, primary first (docs/formats.md §6).
            primary_category=categories[0] if categories else None,
            journal_ref=clean_text(item.journal_ref) or None,
            listed_in=_listed_in(categories, queried),
        ),
    )
    return readable_paper(paper)


_FEED_QUERY = re.compile(r"rss\.arxiv\.org/(?:rss|atom)/([^/?#\s]+)", re.IGNORECASE)


def _queried(url: str, channel_link: str) -> tuple[str, ...]:
    """The categories a feed was asked for: ``…/rss/cs.LG+cs.AI`` -> ('cs.LG', 'cs.AI')."""
    for where in (url, channel_link):
        match = _FEED_QUERY.search(where)
        if match is not None:
            return tuple(part for part in match.group(1).split("+") if part)
    return ()


def _listed_in(categories: tuple[str, ...], queried: tuple[str, ...]) -> str | None:
    """The queried category the paper carries (a multi-category feed lists cross-lists whose
    primary is elsewhere, docs/formats.md §6); its primary when that was queried; an archive
    query (``cs``) names the paper's own class in it."""
    for code in categories:  # primary first
        if any(_within(code, query) for query in queried):
            return code
    return None


def _within(code: str, query: str) -> bool:
    return code.casefold() == query.casefold() or code.casefold().startswith(query.casefold() + ".")


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
    cleaned = (clean_text(_AFFILIATION.sub("", name)) for name in names)
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
