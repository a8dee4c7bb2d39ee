"""Topics: which papers each reader cares about, in what order, and why.

This is the digest stage, between history and render. A topic
(``[[topics]]`` in digest.toml, :class:`~digest.config.TopicConfig`) is a
full-text query over title and abstract (SQLite FTS5 syntax, see
:mod:`digest.history.search`) plus optional filters; a topic without a query
takes every paper its filters let through. Everything here is pure: stored
papers and an :class:`Evidence` (the history's search index, or a fake) in,
ranked :class:`Pick` s out (:func:`select`, :func:`for_reader`), and the
one-line reason of each pick that is shown (:func:`explain`).

Filters — every filter a topic sets must pass; within one list, any value does:

- ``categories``: an arXiv category (``cs.LG``), or a whole archive (``cs``);
- ``authors``: whole words of a name, ignoring case and accents
  (``LeCun`` passes "Yann LeCun");
- ``organizations``: the same (``nvidia``; ``IBM`` passes "IBM Research");
- ``sources``: text found in the name or URL of a source that listed the paper;
- ``min_upvotes``: at least this many Hugging Face upvotes (an unknown count fails).

Ranking. In one candidate set C (the papers of a digest, or of the feed's
window), a paper p that topic t picks scores::

    score(p) = w_rel * rel(p) + w_up * up(p) + w_com * com(p) + w_fresh * fresh(p)

    rel(p)   = bm25(p, t) / the highest bm25 among t's picks in C   (0 when t has no query)
    up(p)    = log(1 + upvotes(p)) / log(1 + the most upvotes in C) (0 when unknown)
    com(p)   = the same for Hugging Face comments
    fresh(p) = 0.5 ** (age(p) / 7 days): age from the publication date when a
               source gave one, else from when history first saw the paper

Each term lies in [0, 1], so the weights (``[ranking]`` relevance, upvotes,
comments, freshness; by default 1.0, 0.5, 0.2, 0.3) say how much of the order
each signal decides. bm25 is FTS5's, with a title match counting twice an
abstract match. Scores are rounded to 9 decimals and ties go to the paper's
permanent id (``uid``), so the same input always gives the same order.

A reader with several topics gets each paper once, in the section of the topic
that scores it highest (the earlier topic on a tie); a query-less topic scores
no relevance, so a paper a query matched goes to that query's section.

The package reads in the order of the work: :mod:`.filters` (which papers a
topic's filters let through), :mod:`.ranking` (the query's relevance, the
score, sections per reader) and :mod:`.reasons` (the one-line "why").
"""

from .filters import passes_filters
from .ranking import (
    FRESHNESS_HALF_LIFE_DAYS,
    Evidence,
    Pick,
    Section,
    Weights,
    best_first,
    check_queries,
    explain,
    for_reader,
    select,
)
from .reasons import Sighting, describe, reason, source_name

__all__ = [
    "FRESHNESS_HALF_LIFE_DAYS",
    "Evidence",
    "Pick",
    "Section",
    "Sighting",
    "Weights",
    "best_first",
    "check_queries",
    "describe",
    "explain",
    "for_reader",
    "passes_filters",
    "reason",
    "select",
    "source_name",
]
