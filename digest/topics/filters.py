"""Topic filters: which papers a topic's categories, authors, organisations, sources and
upvote floor let through. Names are compared as whole words, ignoring case and accents.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from ..config import TopicConfig
from ..model import StoredPaper


def passes_filters(paper: StoredPaper, topic: TopicConfig) -> bool:
    """Whether ``paper`` passes every filter ``topic`` sets (the query aside)."""
    return (
        first_category(paper.categories, topic.categories) is not None
        and first_named(paper.authors, topic.authors) is not None
        and first_named((paper.organization or "",), topic.organizations) is not None
        and _any_source(paper.sources, topic.sources)
        and _enough_upvotes(paper.upvotes, topic.min_upvotes)
    )


def first_named(names: Iterable[str], wanted: Sequence[str]) -> str | None:
    """The first of ``names`` that one of ``wanted`` names; "" when nothing is wanted."""
    if not wanted:
        return ""
    needles = [_words(w) for w in wanted]
    for name in names:
        words = _words(name)
        if any(_contains(words, needle) for needle in needles):
            return name
    return None


def first_category(categories: Iterable[str], wanted: Sequence[str]) -> str | None:
    """The first category that is wanted, or whose archive is ("cs" wants cs.LG); "" for none wanted."""
    if not wanted:
        return ""
    folded = [w.casefold() for w in wanted]
    for category in categories:
        c = category.casefold()
        if any(c == w or ("." not in w and c.startswith(w + ".")) for w in folded):
            return category
    return None


def _words(text: str) -> tuple[str, ...]:
    """Case-folded, accent-free words: how names are compared ("Gödel" = "godel")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(re.findall(r"[^\W_]+", bare))


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    width = len(needle)
    return width > 0 and any(
        haystack[i : i + width] == needle for i in range(len(haystack) - width + 1)
    )


def _enough_upvotes(upvotes: int | None, minimum: int | None) -> bool:
    if not minimum:
        return True
    return upvotes is not None and upvotes >= minimum


def _any_source(sources: Iterable[str], wanted: Sequence[str]) -> bool:
    if not wanted:
        return True
    folded = [w.casefold() for w in wanted]
    return any(w in source.casefold() for source in sources for w in folded)
