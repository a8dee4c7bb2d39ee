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
from ...model import AnnounceType, Page, Paper
from .common import ARXIV, ATOM, DC, abs_url, child_text, is_xml, xml_root
from .tex import clean_tex

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
    elif root.tag == f"{ATOM}feed":
        title, about = child_text(root, f"{ATOM}title"), child_text(root, f"{ATOM}subtitle")
        items = [_atom_item(entry) for entry in root.findall(f"{ATOM}entry")]
        day = _iso_day(child_text(root, f"{ATOM}updated"))
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
        title=child_text(item, "title"),
        guid=child_text(item, "guid"),
        link=child_text(item, "link"),
        description=child_text(item, "description"),
        categories=tuple(category.text or "" for category in item.findall("category")),
        announce_type=child_text(item, f"{ARXIV}announce_type"),
        creators=child_text(item, f"{DC}creator"),
        doi=child_text(item, f"{ARXIV}DOI") or child_text(item, f"{ARXIV}doi"),
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
        day=_iso_day(child_text(entry, f"{ATOM}published")),
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
    title = clean_tex(item.title)
    if not title:
        raise LayoutError(f"item {number} ({parsed[0]}): no <title>", source=url)
    # The guid carries the version; the link never does.
    version = next((p[1] for c in candidates if c and (p := parse_arxiv_id(c)) and p[1]), None)
    kind = item.announce_type.strip() or (match.group("type") if match else "")
    return Paper(
        title=title,
        abstract=clean_tex(abstract),
        arxiv_id=parsed[0],
        version=version,
        doi=normalise_doi(item.doi),
        authors=_split_creators(item.creators),
        categories=tuple(dict.fromkeys(c.strip() for c in item.categories if c.strip())),
        announce_type=_ANNOUNCE_TYPES.get(kind.casefold()),
        listed_on=item.day,
        url=abs_url(parsed[0]),
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
    cleaned = (clean_tex(_AFFILIATION.sub("", name)) for name in names)
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
