"""arXiv's own formats: listing pages, the export API's Atom and the rss.arxiv.org feeds.

Three pure parsers (``parse_listing``, ``parse_api``, ``parse_rss``) turn one
payload into a :class:`~digest.model.Page`, and three cheap sniffers tell
:mod:`digest.sources.detect` which one a payload needs. The markup and its
quirks are described in docs/formats.md §4, §5 and §6 (the listings, the
API, the feeds).

- :mod:`.listing`: ``arxiv.org/list/<cat>/new|recent|pastweek`` (HTML, selectolax/lexbor);
- :mod:`.api`: ``export.arxiv.org/api/query`` (Atom + OpenSearch, ElementTree);
- :mod:`.rss`: ``rss.arxiv.org/rss/<q>`` and ``/atom/<q>`` (ElementTree);
- TeX in titles, authors, abstracts and comments is made readable by
  :mod:`digest.sources.readable` (maths, macros and accents; plain text kept);
- :mod:`.common`: namespaces, abstract-page URLs and safe XML reading.
"""

from __future__ import annotations

from .api import looks_like_api, parse_api
from .listing import looks_like_listing, parse_listing
from .rss import looks_like_rss, parse_rss

__all__ = [
    "looks_like_api",
    "looks_like_listing",
    "looks_like_rss",
    "parse_api",
    "parse_listing",
    "parse_rss",
]
