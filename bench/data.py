"""Generated, arXiv-like papers and the Atom feeds both programs read.

Each paper has a title, five authors, two categories and a ~1,200-character
abstract drawn from the Zipf-distributed vocabulary of :mod:`bench.topics`, so
the feeds here and the histories there look alike. A paper is a pure function
of its number: the feed a workload serves on its second run repeats the first
run's entries byte for byte, and "10 new on top" are ten more numbers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import accumulate
from xml.sax.saxutils import escape

from .topics import _abstract, _sentence, _vocabulary

NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
FIRST_NAMES = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Leslie")
LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus")
CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO")


@dataclass(frozen=True)
class BenchPaper:
    number: int
    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, str]
    published: datetime


@cache
def _corpus() -> tuple[list[str], list[float], list[str]]:
    rng = random.Random(20250312)
    words = _vocabulary(rng)
    ranks = list(accumulate(1 / rank for rank in range(1, len(words) + 1)))
    sentences = [_sentence(rng, words, ranks) for _ in range(5_000)]
    return words, ranks, sentences


def paper(number: int) -> BenchPaper:
    """Paper ``number`` (from 1): the same every time it is asked for."""
    words, ranks, sentences = _corpus()
    rng = random.Random(number)
    title = " ".join(rng.choices(words, cum_weights=ranks, k=rng.randint(6, 12))).capitalize()
    authors = tuple(
        f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {chr(65 + n)}." for n in range(5)
    )
    categories = rng.sample(CATEGORIES, 2)
    return BenchPaper(
        number=number,
        arxiv_id=f"2503.{number:05d}" if number < 100_000 else f"2503.{number:07d}",
        title=f"{title} ({number})",
        abstract=_abstract(rng, sentences),
        authors=authors,
        categories=(categories[0], categories[1]),
        published=NOW - timedelta(minutes=number),
    )


def papers(numbers: Iterable[int]) -> list[BenchPaper]:
    return [paper(number) for number in numbers]


def atom_feed(entries: Sequence[BenchPaper], *, title: str = "Bench papers") -> bytes:
    """An Atom 1.0 feed of ``entries`` (a journal's or a republisher's, not arXiv's own)."""
    updated = max((p.published for p in entries), default=NOW)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<title>{escape(title)}</title>\n"
        "<id>https://papers.bench.example/feed.atom</id>\n"
        '<link rel="alternate" href="https://papers.bench.example/"/>\n'
        f"<updated>{_stamp(updated)}</updated>\n"
    ]
    parts.extend(_entry(p) for p in entries)
    parts.append("</feed>\n")
    return "".join(parts).encode()


def _entry(p: BenchPaper) -> str:
    authors = "".join(f"<author><name>{escape(name)}</name></author>" for name in p.authors)
    categories = "".join(f'<category term="{term}"/>' for term in p.categories)
    return (
        "<entry>\n"
        f"<id>https://arxiv.org/abs/{p.arxiv_id}</id>\n"
        f"<title>{escape(p.title)}</title>\n"
        f'<link rel="alternate" type="text/html" href="https://arxiv.org/abs/{p.arxiv_id}"/>\n'
        f"<published>{_stamp(p.published)}</published>\n"
        f"<updated>{_stamp(p.published)}</updated>\n"
        f"{authors}\n{categories}\n"
        f'<summary type="text">{escape(p.abstract)}</summary>\n'
        "</entry>\n"
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
