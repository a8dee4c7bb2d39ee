"""feedgen's FeedGenerator with the fixes digest needs, applied to the finished tree.

Imported by :mod:`.feed` only when a feed is rendered (feedgen brings lxml).
"""

from __future__ import annotations

from typing import Any, Protocol

from feedgen.feed import FeedGenerator


class RelatedLink(Protocol):
    """What an entry's ``link rel="related"`` is written from (``feed.RelatedLink``)."""

    @property
    def title(self) -> str: ...
    @property
    def href(self) -> str: ...
    @property
    def type(self) -> str | None: ...


_HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005 "fh"


class AtomGenerator(FeedGenerator):  # type: ignore[misc]  # feedgen ships no types
    """feedgen with two fixes applied to the finished tree.

    feedgen builds un-namespaced lxml elements under a literal ``xmlns``
    attribute, so plain tag names find them. An RFC 5005 archive document
    also gets its ``<fh:archive/>`` marker here.
    """

    archive_document = False

    def __init__(self) -> None:
        super().__init__()
        # entry id -> its rel="related" links, added to the finished tree (see below)
        self.related: dict[str, list[RelatedLink]] = {}

    def _create_atom(self, extensions: bool = True) -> tuple[Any, Any]:
        feed, document = super()._create_atom(extensions=extensions)
        # feedgen writes isoformat() "+00:00"; "Z" is the RFC 3339 spelling
        # every validator and reader expects, and the one our tests pin.
        for stamp in feed.iter("updated", "published"):
            stamp.text = stamp.text.removesuffix("+00:00") + "Z"
        # feedgen 1.0.0 drops rel/type/title from entry links (its loop variable
        # shadows the link dict), so it is given only the alternate link of each
        # entry, and the related ones (PDF, code, ...) are written here.
        for entry in feed.iterfind("entry"):
            alternate = entry.find("link")
            alternate.set("rel", "alternate")
            alternate.set("type", "text/html")
            position = list(entry).index(alternate)
            for offset, related in enumerate(self.related.get(entry.findtext("id") or "", ())):
                link = entry.makeelement("link", {"href": related.href, "rel": "related"})
                if related.type:
                    link.set("type", related.type)
                link.set("title", related.title)
                entry.insert(position + 1 + offset, link)
        if self.archive_document:
            # RFC 5005 §4: an archive document carries <fh:archive/>.
            marker = feed.makeelement(f"{{{_HISTORY_NS}}}archive", nsmap={"fh": _HISTORY_NS})
            feed.insert(list(feed).index(feed.find("updated")) + 1, marker)
        return feed, document
