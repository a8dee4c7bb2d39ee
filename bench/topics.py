"""Benchmark: full-text search and topic selection over a large generated history.

    python -m bench.topics --quick           # 20,000 papers, a few seconds
    python -m bench.topics                   # 1,000,000 papers (see bench/README.md)
    python -m bench.topics --papers 200000

It writes N papers straight into a fresh database (one ``executemany`` in one
transaction: going through the diff would time the diff, not search), with
~1,200-character abstracts drawn from a Zipf-distributed vocabulary, 1,000
papers a day ending "today". The papers are written before the search index
exists; the FTS5 migration then indexes them ("index an existing history") and
opening the database runs the compaction of schema 13 ("compact an existing
history"), both timed, with the bytes per paper before and after. Then it
times what ``digest search``, ``digest topics test``, the topic feeds and the
newsletter do; each time is the median of ``REPEAT`` runs after one warm-up run.

``run(quick)`` returns rows ``{"workload", "value", "unit"}`` for a
``python -m bench`` driver; ``main(quick)`` prints them.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import Any

from digest.config import TopicConfig
from digest.history import open_history, record_sightings
from digest.history.schema import MIGRATIONS
from digest.history.search import SearchIndex
from digest.model import Paper
from digest.pipeline.selection import search_history, window_papers
from digest.topics import Weights, explain, select

QUICK_PAPERS = 20_000
FULL_PAPERS = 1_000_000
PER_DAY = 1_000
REPEAT = 5
NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)

SEARCHES = (
    "pretrain*",
    '"pre train"*',
    'pretrain* OR "pre train"*',
    "NEAR(diffusion video, 10)",
    "diffusion NOT video",
    "watermark",
)
TOPICS = (
    TopicConfig("pretraining", "Pre-training", 'pretrain* OR "pre train"*'),
    TopicConfig("watermarks", "Watermarks", "watermark*"),
    TopicConfig("nvidia", "NVIDIA", organizations=("NVIDIA",)),
)

# Function words lead the Zipf ranking; topic words are placed at the rank
# that gives them a plausible share of cs.LG abstracts (the pretraining
# spellings together in about 6 %, watermark in about 0.5 %).
_FREQUENT = [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "we",
    "that",
    "for",
    "is",
    "on",
    "with",
    "our",
    "this",
    "are",
    "by",
    "as",
    "an",
    "from",
    "be",
    "model",
    "models",
    "learning",
    "data",
    "training",
    "results",
    "method",
    "show",
    "language",
    "which",
    "performance",
    "can",
    "task",
    "tasks",
    "using",
    "based",
    "large",
    "approach",
    "neural",
    "new",
    "two",
    "propose",
    "network",
    "these",
    "it",
    "also",
    "methods",
    "than",
    "its",
    "more",
    "image",
    "paper",
    "between",
    "such",
    "while",
    "dataset",
    "datasets",
    "both",
    "over",
    "has",
    "each",
    "into",
    "only",
    "experiments",
    "framework",
    "their",
    "across",
    "work",
    "benchmark",
    "representations",
    "generation",
]
_PLACED = {
    300: "diffusion",
    350: "reasoning",
    400: "video",
    500: "agents",
    900: "pretraining",
    1000: "pre-trained",
    1100: "pre-training",
    4000: "watermark",
}


def run(quick: bool, papers: int | None = None) -> list[dict[str, Any]]:
    """Generate a history, time search and topic selection; one row per measurement."""
    count = papers or (QUICK_PAPERS if quick else FULL_PAPERS)
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder:
        path = Path(folder) / "digest.db"
        rows = _build(path, count)
        db = open_history(path)
        try:
            rows += _measure(db, count)
        finally:
            db.close()
        rows.append(_row("database size", _file_size(path) / 1e6, "MB", count))
    return rows


def main(quick: bool, papers: int | None = None) -> None:
    for row in run(quick, papers):
        print(f"{row['value']:>12,.1f} {row['unit']:<4} {row['workload']}", flush=True)


# -- the generated history -----------------------------------------------------------------


def _build(path: Path, count: int) -> list[dict[str, Any]]:
    """The history as the version before issue 17's compaction wrote it, then upgraded.

    Papers go into the first schema, the FTS5 migration indexes them (timed), and
    the database is measured at that version; opening it then runs the
    compaction migration and its VACUUM (timed), and the result is measured.
    """
    names = [migration.__name__ for migration in MIGRATIONS]
    before, compact = names.index("_create_search_index"), names.index("_compact_papers")
    db = sqlite3.Connection(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    _apply(db, 0, before)
    started = time.perf_counter()
    _insert(db, _papers(count))
    written = time.perf_counter() - started
    started = time.perf_counter()
    _apply(db, before, compact)  # the FTS5 migration over every paper
    indexed = time.perf_counter() - started
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    old_size = _file_size(path)
    started = time.perf_counter()
    open_history(path).close()  # _compact_papers, then VACUUM into 32 KiB pages
    compacted = time.perf_counter() - started
    return [
        _row("generate and write papers (no index)", written, "s", count),
        _row("index an existing history (the FTS5 migration)", indexed, "s", count),
        _row("database per paper before compaction (schema 13)", old_size / count, "B", count),
        _row("compact an existing history (migration + VACUUM)", compacted, "s", count),
        _row("database per paper", _file_size(path) / count, "B", count),
    ]


def _apply(db: sqlite3.Connection, start: int, stop: int) -> None:
    """MIGRATIONS[start:stop], each in its transaction, as open_history runs them."""
    db.execute("PRAGMA foreign_keys=OFF")
    for number in range(start, stop):
        db.execute("BEGIN")
        MIGRATIONS[number](db)
        db.execute(f"PRAGMA user_version = {number + 1}")
        db.execute("COMMIT")


def _file_size(path: Path) -> int:
    """The database with its WAL, as it sits on disk."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _insert(db: sqlite3.Connection, rows: Iterator[tuple[Any, ...]]) -> None:
    # Straight SQL on purpose: a benchmark fixture, a million rows in one transaction.
    # The columns are the first schema's: url equal to uid, updated to first_seen.
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO papers (id, uid, arxiv_id, title_key, title, abstract, authors, "
        "author_count, organization, categories, version, published, upvotes, comments, url, "
        "first_seen, updated, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, "
        "'digested')",
        rows,
    )
    db.execute(
        "INSERT INTO sightings (paper_id, source, first_seen, last_seen, announce_type) "
        "SELECT id, 'https://rss.arxiv.org/rss/' || json_extract(categories, '$[0]'), "
        "first_seen, first_seen, 'new' FROM papers"
    )
    db.execute("COMMIT")


def _papers(count: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(20250312)
    words = _vocabulary(rng)
    ranks = list(accumulate(1 / rank for rank in range(1, len(words) + 1)))
    sentences = [_sentence(rng, words, ranks) for _ in range(20_000)]
    organizations = ["NVIDIA", "Adobe", "IBM Research", "Meta AI", "Google DeepMind"]
    categories = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO"]
    for number in range(1, count + 1):
        day = (count - number) // PER_DAY
        seen = (NOW - timedelta(days=day, seconds=PER_DAY - number % PER_DAY)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        arxiv_id = f"{2500 - day // 30:04d}.{number:07d}"
        title = " ".join(rng.choices(words, cum_weights=ranks, k=rng.randint(6, 12))).capitalize()
        upvotes = rng.choice([None, None, None, rng.randint(0, 200)])
        yield (
            number, f"https://arxiv.org/abs/{arxiv_id}", arxiv_id, title.casefold(), title,
            _abstract(rng, sentences), json.dumps(["Ada Lovelace", "Alan Turing"]), 2,
            rng.choice(organizations) if number % 50 == 0 else None,
            json.dumps(rng.sample(categories, 2)), seen, upvotes,
            rng.randint(0, 20) if upvotes is not None else None,
            f"https://arxiv.org/abs/{arxiv_id}", seen, seen,
        )  # fmt: skip


def _vocabulary(rng: random.Random) -> list[str]:
    syllables = ["ra", "no", "ti", "ve", "lo", "mi", "ka", "su", "de", "ple", "tra", "gen", "con"]
    invented = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 5))) for _ in range(30_000)})
    words = _FREQUENT + [w for w in invented if w not in _PLACED.values()]
    for rank, word in sorted(_PLACED.items()):
        words.insert(rank - 1, word)
    return words


def _sentence(rng: random.Random, words: list[str], ranks: list[float]) -> str:
    return " ".join(rng.choices(words, cum_weights=ranks, k=rng.randint(12, 28))).capitalize() + "."


def _abstract(rng: random.Random, sentences: list[str]) -> str:
    parts: list[str] = []
    length = 0
    while length < 1_200:
        parts.append(rng.choice(sentences))
        length += len(parts[-1]) + 1
    return " ".join(parts)


# -- what is timed ---------------------------------------------------------------------------


def _measure(db: sqlite3.Connection, count: int) -> list[dict[str, Any]]:
    rows = []
    for query in SEARCHES:
        seconds, found = _median(partial(search_history, db, query, since=None, limit=20))
        label = f"digest search {query!r} ({len(found)} shown)"
        rows.append(_row(label, seconds * 1e3, "ms", count))
    week = NOW - timedelta(days=7)
    seconds, _ = _median(partial(search_history, db, SEARCHES[2], since=week, limit=20))
    rows.append(_row(f"digest search {SEARCHES[2]!r} --days 7", seconds * 1e3, "ms", count))
    index, weights = SearchIndex(db), Weights()
    for days in (1, 14):
        seconds, papers = _median(partial(window_papers, db, NOW - timedelta(days=days)))
        label = f"load the papers of {days} day(s) ({len(papers):,})"
        rows.append(_row(label, seconds * 1e3, "ms", count))
        for topic in TOPICS:
            seconds, picks = _median(partial(select, papers, topic, index, weights, NOW))
            label = f"topic {topic.slug}: rank {days} day(s) of papers ({len(picks):,} picked)"
            rows.append(_row(label, seconds * 1e3, "ms", count))
            seconds, _ = _median(partial(explain, picks[:30], index))
            label = f"topic {topic.slug}: reasons for the top 30"
            rows.append(_row(label, seconds * 1e3, "ms", count))
    rows.append(_ingest(db, count))
    return rows


def _ingest(db: sqlite3.Connection, count: int) -> dict[str, Any]:
    """A day's ingest through the real diff, indexing its new papers: 1,000 papers."""
    batch = [
        Paper(
            f"Fresh pretraining paper {n}", abstract="We pretrain. " * 90, arxiv_id=f"2601.{n:05d}"
        )
        for n in range(PER_DAY)
    ]
    started = time.perf_counter()
    record_sightings(
        db, batch, source="bench", run_id=None, now=NOW + timedelta(days=1), tag_authority="bench"
    )
    seconds = time.perf_counter() - started
    return _row(f"ingest {PER_DAY:,} new papers (diff + index)", seconds * 1e3, "ms", count)


def _median(work: Callable[[], Any]) -> tuple[float, Any]:
    """Median seconds of ``REPEAT`` runs after a warm-up, and what the work returned."""
    result = work()
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _row(workload: str, value: float, unit: str, papers: int) -> dict[str, Any]:
    return {"workload": f"{workload} [{papers:,} papers]", "value": round(value, 3), "unit": unit}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PAPERS:,} papers")
    parser.add_argument("--papers", type=int, help="how many papers to generate")
    arguments = parser.parse_args()
    main(arguments.quick, arguments.papers)
