"""Full-text search over history: the FTS5 index, and the evidence topics are ranked with.

``papers_fts`` is an external-content FTS5 table over ``papers(title, abstract)``:
it holds only the index, the text stays in ``papers``. New papers are indexed in
one statement per batch (:func:`index_papers`, by the diff that inserts them);
triggers keep the index in step with every change of a title or an abstract and
every delete; the migration that creates it also indexes the papers a history
already had.
Tokens are case-folded, stripped of diacritics (``naïve`` finds ``naive``) and
Porter-stemmed (``pretraining``, ``pretrained`` and ``pretrains`` all index as
``pretrain``), so ``pretrain*`` and ``"pre train"*`` find the spellings authors
actually use, hyphenated or not.

Queries are FTS5 syntax (https://sqlite.org/fts5.html#full_text_query_syntax):
words (all must match), ``OR`` / ``NOT`` / ``AND`` in capitals, ``"phrases"``,
prefixes ``pretrain*`` and ``"pre train"*``, ``NEAR(data mixture, 5)`` and
column filters ``title : diffusion``. Relevance is FTS5's bm25 with a title
match counting twice an abstract match, negated so that higher is better.
A query FTS5 cannot parse raises :class:`~digest.errors.QueryError`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import QueryError
from .times import iso_utc

# bm25 weights per column, in column order (title, abstract).
TITLE_WEIGHT, ABSTRACT_WEIGHT = 2.0, 1.0
# highlight() brackets; control characters never survive a parser into a title.
_OPEN, _CLOSE = "\x02", "\x03"
_MARKED = re.compile(f"{_OPEN}(.*?){_CLOSE}", re.DOTALL)
# What SQLite says when the query itself is at fault (not the database).
_QUERY_FAULTS = ("fts5:", "no such column", "unterminated string", "unknown special query")
_CHUNK = 500  # bound parameters per statement, well under SQLite's limit
# A paper's sightings with their sources and first-seen times (NULL: the paper's own).
SIGHTING_JOIN = (
    "s.paper_id, k.source, s.announce_type FROM sightings AS s "
    "JOIN sighting_sources AS k ON k.id = s.source_id JOIN papers AS p ON p.id = s.paper_id"
)
SIGHTING_ORDER = "s.paper_id, coalesce(s.first_seen, p.first_seen), k.source"
# Restricting a MATCH to some papers. Handed to FTS5 as `rowid IN (...)`, the
# query would be re-run once per id (prefix queries: 40 times slower for 500
# ids); the unary + keeps the list out of FTS5's reach, so FTS5 runs the query
# once over the row-id range and SQLite drops the other rows before computing
# rank or highlight() for them.
_AMONG = "f.rowid BETWEEN ? AND ? AND +f.rowid IN (SELECT value FROM json_each(?))"


# External content: FTS5 must be told the old text to remove it from the index.
_DELETE_TRIGGER = """
    CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts (papers_fts, rowid, title, abstract)
        VALUES ('delete', old.id, old.title, old.abstract);
    END
"""
# Only text changes touch the index: daily upvote updates leave it alone.
_UPDATE_TRIGGER = """
    CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract ON papers BEGIN
        INSERT INTO papers_fts (papers_fts, rowid, title, abstract)
        VALUES ('delete', old.id, old.title, old.abstract);
        INSERT INTO papers_fts (rowid, title, abstract)
        VALUES (new.id, new.title, new.abstract);
    END
"""


def create_search_index(db: sqlite3.Connection) -> None:
    """Migration: the FTS5 table, its triggers, its ranking, and an index of existing papers.

    Until schema._compact_papers an insert trigger indexed each new paper; since then
    :func:`index_papers` does, once per batch.
    """
    db.execute(
        "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, content='papers', "
        "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
    )
    db.execute(
        """
        CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
            INSERT INTO papers_fts (rowid, title, abstract)
            VALUES (new.id, new.title, new.abstract);
        END
        """
    )
    create_search_triggers(db)
    # The `rank` column (and ORDER BY rank's fast path) then uses the column weights.
    db.execute(
        "INSERT INTO papers_fts (papers_fts, rank) VALUES ('rank', ?)",
        (f"bm25({TITLE_WEIGHT}, {ABSTRACT_WEIGHT})",),
    )
    rebuild_search_index(db)


def create_search_triggers(db: sqlite3.Connection) -> None:
    """The triggers that keep the index in step when a paper's text changes or it is deleted."""
    db.execute(_DELETE_TRIGGER)
    db.execute(_UPDATE_TRIGGER)


def index_papers(db: sqlite3.Connection, ids: Sequence[int]) -> None:
    """Add papers just inserted to the index: one statement for the batch.

    The only writer of new papers (papers.record_sightings) calls it in the
    transaction that inserts them. A trigger per row did the same work two to
    three times slower (10,000 papers: ~1.4-2.9 s against ~0.5-0.8 s, same tokens).
    """
    if ids:
        db.execute(
            "INSERT INTO papers_fts (rowid, title, abstract) SELECT id, title, abstract "
            "FROM papers WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (json.dumps(sorted(ids)),),
        )


def rebuild_search_index(db: sqlite3.Connection) -> None:
    """Re-index every paper from ``papers`` (after a bulk load that bypassed the triggers)."""
    db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')")


@dataclass(frozen=True)
class Match:
    """One paper a query matched, with its relevance (negated bm25: higher is better)."""

    paper_id: int
    relevance: float


def search(
    db: sqlite3.Connection,
    query: str,
    *,
    since: datetime | None = None,
    ids: Collection[int] | None = None,
    limit: int | None = None,
) -> list[Match]:
    """Papers matching ``query``, most relevant first, ties by row id.

    ``since`` keeps papers first seen at or after it; ``ids`` keeps only those
    papers (a digest's). ``limit`` returns only the best ones.
    """
    if ids is not None and not ids:
        return []
    sql = ["SELECT f.rowid, -f.rank FROM papers_fts AS f"]
    where = ["papers_fts MATCH ?"]
    params: list[object] = [query]
    if since is not None:
        # min(+id): a plain min(id) walks the table in id order instead of the index.
        first = db.execute(
            "SELECT min(+id) FROM papers WHERE first_seen >= ?", (iso_utc(since),)
        ).fetchone()[0]
        if first is None:
            return []
        # Row ids grow with first sight, so the range lets FTS5 skip older doclists;
        # the join then applies the exact condition.
        sql.append("JOIN papers AS p ON p.id = f.rowid")
        where += ["f.rowid >= ?", "p.first_seen >= ?"]
        params += [first, iso_utc(since)]
    if ids is not None:
        where.append(_AMONG)
        params += _among(ids)
    sql.append("WHERE " + " AND ".join(where) + " ORDER BY f.rank, f.rowid")
    if limit is not None:
        sql.append("LIMIT ?")
        params.append(limit)
    return [Match(row[0], row[1]) for row in _run(db, " ".join(sql), params, query)]


def check_query(db: sqlite3.Connection, query: str) -> None:
    """Raise :class:`QueryError` unless FTS5 can parse ``query`` (it runs on no rows)."""
    _run(db, "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? AND rowid = 0", [query], query)


def matched_terms(
    db: sqlite3.Connection, query: str, ids: Collection[int]
) -> dict[int, tuple[str, ...]]:
    """For each paper, the words of its title and abstract that ``query`` matched, lower-cased.

    These are the author's own spellings ("pre-trained", "pretraining"), in the
    order they occur, title first: what a reader needs to see why a paper is here.
    """
    if not ids:
        return {}
    rows = _run(
        db,
        "SELECT f.rowid, highlight(papers_fts, 0, ?, ?), highlight(papers_fts, 1, ?, ?) "
        f"FROM papers_fts AS f WHERE papers_fts MATCH ? AND {_AMONG}",
        [_OPEN, _CLOSE, _OPEN, _CLOSE, query, *_among(ids)],
        query,
    )
    terms: dict[int, tuple[str, ...]] = {}
    for paper_id, title, abstract in rows:
        found = _MARKED.findall(f"{title or ''}\n{abstract or ''}")
        terms[paper_id] = tuple(dict.fromkeys(" ".join(t.lower().split()) for t in found))
    return terms


def sightings(
    db: sqlite3.Connection, ids: Collection[int]
) -> dict[int, tuple[tuple[str, str | None], ...]]:
    """For each paper, where it was seen: (source, announce type), first sighting first."""
    seen: dict[int, list[tuple[str, str | None]]] = {}
    for chunk in _chunks(sorted(ids)):
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT {SIGHTING_JOIN} WHERE s.paper_id IN ({marks}) ORDER BY {SIGHTING_ORDER}",
            chunk,
        ).fetchall()
        for paper_id, source, announce_type in rows:
            seen.setdefault(paper_id, []).append((source, announce_type))
    return {paper_id: tuple(items) for paper_id, items in seen.items()}


def ids_since(db: sqlite3.Connection, since: datetime) -> list[int]:
    """Every paper first seen at or after ``since``, newest first (the feed's window)."""
    rows = db.execute(
        "SELECT id FROM papers WHERE first_seen >= ? ORDER BY first_seen DESC, id DESC",
        (iso_utc(since),),
    ).fetchall()
    return [row[0] for row in rows]


class SearchIndex:
    """The history's search index bound to one database: what :mod:`digest.topics` asks."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def relevance(self, query: str, ids: Collection[int]) -> dict[int, float]:
        return {m.paper_id: m.relevance for m in search(self.db, query, ids=ids)}

    def matched_terms(self, query: str, ids: Collection[int]) -> dict[int, tuple[str, ...]]:
        return matched_terms(self.db, query, ids)

    def sightings(self, ids: Collection[int]) -> dict[int, tuple[tuple[str, str | None], ...]]:
        return sightings(self.db, ids)

    def check(self, query: str) -> None:
        check_query(self.db, query)


def _run(db: sqlite3.Connection, sql: str, params: list[object], query: str) -> list[Any]:
    try:
        return list(db.execute(sql, params).fetchall())
    except sqlite3.OperationalError as error:
        detail = str(error)
        if not detail.startswith(_QUERY_FAULTS):
            raise
        raise QueryError(
            f"{query!r} is not a valid search query ({detail}). Operators are upper-case "
            '(OR, AND, NOT, NEAR); put words joined by "-" or ":" in double quotes, '
            'e.g. "pre-train"',
            query=query,
        ) from error


def _among(ids: Collection[int]) -> list[object]:
    return [min(ids), max(ids), json.dumps(sorted(ids))]


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
