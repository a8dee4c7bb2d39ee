"""The diff: merge a source's papers into history and return only the ones never seen before.

Identity (see :mod:`digest.identity`): arXiv id, else DOI, else title key. A
sighting is matched to an existing row by arXiv id, then DOI, then title key —
the title only links a sighting to a row when one of the two lacks an id, so
two distinct papers that share a title and carry different ids stay apart.
A known paper is updated (a newer version, fresh upvotes, an id it lacked) and
is never novel again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from ..identity import title_key
from ..model import NO_DETAILS, Paper, PaperDetails, StoredPaper
from .follow_ups import Watch, detect, record_events
from .schema import title_hash, transaction
from .search import SIGHTING_JOIN, SIGHTING_ORDER, index_papers
from .times import iso_utc, parse_stored_utc, parse_utc

MAX_COUNT = 10**9  # the same bound the sources' boundary keeps (digest.sources.validate)

# What sources say beyond the basics (PaperDetails), one column each (schema._add_details).
# A later sighting's non-empty value replaces the stored one: stars grow, a repo appears.
_NEWEST_DETAILS = (
    "ai_summary",
    "ai_keywords",
    "github_repo",
    "github_stars",
    "project_page",
    "thumbnail",
    "featured_at",
    "hf_url",
    "primary_category",
    "arxiv_comment",
    "journal_ref",
    "pdf_url",
)
# The listing that first showed the paper names its reason ("cross-listed on arXiv cs.LG"),
# like the first sighting does; the source text follows the title and abstract it belongs to.
_DETAIL_COLUMNS = (*_NEWEST_DETAILS, "listed_in", "title_tex", "abstract_tex")
_COLUMNS = (
    "id, uid, arxiv_id, doi, title, abstract, authors, author_count, organization, categories, "
    "version, published, upvotes, comments, url, first_seen, updated, title_hash, "
    + ", ".join(_DETAIL_COLUMNS)
)
_FIRST_DETAIL = 18  # index of the first detail column in a _COLUMNS row
# What a uid is when it is not stored (schema._compact_papers): the arXiv abstract page.
ARXIV_UID = "https://arxiv.org/abs/"


@dataclass(frozen=True)
class RecordResult:
    """What one source's sightings did to history."""

    found: int
    novel: tuple[StoredPaper, ...]  # as stored; empty when not loaded (``load_novel=False``)
    updated: int
    events: int = 0  # follow-ups recorded (docs/follow-ups.md)
    novel_ids: tuple[int, ...] = ()


def record_sightings(
    db: sqlite3.Connection,
    papers: Sequence[Paper],
    *,
    source: str,
    run_id: int | None,
    now: datetime,
    tag_authority: str,
    state: str = "pending",
    watch: Watch | None = None,
    known_only: bool = False,
    load_novel: bool = True,
) -> RecordResult:
    """Merge ``papers`` (one source) into history in one transaction; return the novel ones.

    ``state`` is what a novel paper starts as: ``pending`` (to be announced) or
    ``skipped`` (seen, never mailed: first-run seeding and backfill). With ``watch``,
    a known paper's new facts are recorded as follow-ups (:mod:`.follow_ups`).
    ``known_only`` is for the follow-up checks: they update known papers and never
    add one, nor count as a sighting (the papers' "via" stays the listings).
    ``load_novel=False`` leaves ``novel`` empty for a caller that only counts the
    novel papers (``novel_ids``): a run loads them once, for its digest.
    """
    stamp = iso_utc(now)
    novel_ids: list[int] = []
    sightings: list[tuple[int, str, str | None]] = []  # (paper, its first_seen, announce type)
    updated = events = 0
    with transaction(db):
        unique = _unique(papers)
        known = _KnownKeys.read(db, unique)
        for paper in unique:
            row = _find(db, paper) if known.may_match(paper) else None
            if row is None:
                if known_only:
                    continue
                novel_ids.append(_insert(db, paper, stamp, run_id, tag_authority, state))
                paper_id, paper_seen = novel_ids[-1], stamp
            else:
                paper_id, paper_seen = row["id"], row["first_seen"]
                if watch is not None:
                    found = detect(row, paper, watch)
                    events += record_events(
                        db, paper_id, found, source=source, run_id=run_id, now=stamp
                    )
                updated += _merge(db, row, paper, stamp)
            known.add(paper)
            if not known_only:
                sightings.append((paper_id, paper_seen, paper.announce_type))
        _record_sightings(db, source, stamp, sightings)
        index_papers(db, novel_ids)
    novel = tuple(_load(db, novel_ids)) if load_novel else ()
    return RecordResult(
        found=len(papers), novel=novel, updated=updated, events=events, novel_ids=tuple(novel_ids)
    )


def _unique(papers: Iterable[Paper]) -> list[Paper]:
    """Drop repeats inside one payload (HF pages can list a paper twice across pages)."""
    seen: set[str] = set()
    unique: list[Paper] = []
    for paper in papers:
        key = paper.arxiv_id or paper.doi or paper.title_key
        if key and key not in seen:
            seen.add(key)
            unique.append(paper)
    return unique


def _find(db: sqlite3.Connection, paper: Paper) -> dict[str, Any] | None:
    if paper.arxiv_id and (rows := _rows(db, "arxiv_id = ?", paper.arxiv_id)):
        return rows[0]
    if paper.doi and (rows := _rows(db, "doi = ?", paper.doi)):
        return rows[0]
    # By title only when the ids cannot contradict each other. The hash narrows the rows
    # down; the key itself (of the stored title, which the key always follows) decides.
    rows = _rows(
        db,
        "title_hash = ? AND (? IS NULL OR arxiv_id IS NULL) AND (? IS NULL OR doi IS NULL)",
        title_hash_of(paper),
        paper.arxiv_id,
        paper.doi,
    )
    return next((row for row in rows if title_key(row["title"]) == paper.title_key), None)


def _rows(db: sqlite3.Connection, where: str, *params: Any) -> list[dict[str, Any]]:
    """Whole rows as the rest of history sees them: uid, url and updated filled in."""
    cursor = db.execute(f"SELECT * FROM papers WHERE {where} ORDER BY id", params)
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["uid"] = stored_uid(row["uid"], row["arxiv_id"])
        row["url"] = stored_url(row["url"], row["uid"])
        row["updated"] = row["updated"] or row["first_seen"]
    return rows


def title_hash_of(paper: Paper) -> int:
    return title_hash(paper.title_key)


def stored_uid(uid: str | None, arxiv_id: str | None) -> str:
    """The uid a row stands for: stored, or derived from the arXiv id it was made from."""
    if uid is not None:
        return uid
    assert arxiv_id is not None, "a row without a uid has an arXiv id (schema._compact_papers)"
    return ARXIV_UID + arxiv_id


def stored_url(url: str | None, uid: str) -> str | None:
    """NULL stands for the uid, '' for no URL at all (schema._compact_papers)."""
    if url is None:
        return uid
    return url or None


def _url_value(url: str | None, uid: str) -> str | None:
    """What ``stored_url`` reads back as ``url``."""
    if url is None:
        return ""
    return None if url == uid else url


def _uid(paper: Paper, now: str, tag_authority: str) -> str:
    """The permanent public id, fixed at first sight (RFC 4287 §4.2.6: ids never change)."""
    if paper.arxiv_id:
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    digest = hashlib.sha256(paper.title_key.encode()).hexdigest()[:20]
    return f"tag:{tag_authority},{now[:10]}:paper/{digest}"


# The columns _detail_values gives, in its order (the same for every paper).
_INSERT = f"""
    INSERT INTO papers (uid, arxiv_id, doi, title_hash, title, abstract, authors, author_count,
        organization, categories, version, published, listed_on, upvotes, comments, url,
        first_seen, first_run_id, state, {", ".join(_DETAIL_COLUMNS)})
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?{", ?" * len(_DETAIL_COLUMNS)})
    """
# json.dumps(value, ensure_ascii=False), without making a new encoder for every paper.
_json_text = json.JSONEncoder(ensure_ascii=False).encode


@lru_cache(maxsize=1024)
def _categories_json(categories: tuple[str, ...]) -> str:
    """The stored JSON of a paper's categories: a feed's papers share a few dozen tuples."""
    return json.dumps(list(categories))


def _insert(
    db: sqlite3.Connection,
    paper: Paper,
    now: str,
    run_id: int | None,
    tag_authority: str,
    state: str,
) -> int:
    details = _detail_values(paper)
    uid = _uid(paper, now, tag_authority)
    # `updated` is NULL until it moves away from first_seen (schema._compact_papers).
    cursor = db.execute(
        _INSERT,
        (
            None if paper.arxiv_id and uid == ARXIV_UID + paper.arxiv_id else uid,
            paper.arxiv_id,
            paper.doi,
            title_hash_of(paper),
            paper.title,
            paper.abstract,
            _json_text(list(paper.authors)),
            paper.author_count if paper.author_count is not None else len(paper.authors) or None,
            paper.organization,
            _categories_json(paper.categories),
            paper.version,
            iso_utc(paper.published) if paper.published else None,
            paper.listed_on,
            paper.upvotes,
            paper.comments,
            _url_value(paper.url, uid),
            now,
            run_id,
            state,
            *details.values(),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _merge(db: sqlite3.Connection, row: dict[str, Any], paper: Paper, now: str) -> int:
    """Update a known paper from a new sighting; return 1 if anything changed, else 0."""
    changes = _gap_fills(row, paper) | _signals(row, paper) | _newest_details(paper)
    # A row without a version was seen on a page that shows none (a listing, HF):
    # that was v1 at least, so only v2 and later are revisions.
    newer = paper.version is not None and (row["version"] or 1) < paper.version
    if newer:
        # A replacement (vN+1) is a significant change: refresh the text, bump
        # `updated` so feed readers see a revision; never make it novel again.
        changes.update(version=paper.version, title=paper.title, updated=now)
        changes["title_tex"] = paper.details.title_tex
        if paper.abstract:
            changes["abstract"] = paper.abstract
            changes["abstract_tex"] = paper.details.abstract_tex
    changes = {key: value for key, value in changes.items() if row.get(key) != value}
    if not changes:
        return 0
    if newer and (hashed := title_hash_of(paper)) != row["title_hash"]:
        changes["title_hash"] = hashed  # the key follows the title
    if "url" in changes:
        changes["url"] = _url_value(changes["url"], row["uid"])
    assignments = ", ".join(f"{column} = ?" for column in changes)
    db.execute(f"UPDATE papers SET {assignments} WHERE id = ?", [*changes.values(), row["id"]])
    return 1


def _gap_fills(row: dict[str, Any], paper: Paper) -> dict[str, Any]:
    """Fields the row lacks and this sighting has: an id learnt later, an abstract, authors."""
    fills: dict[str, Any] = {}
    if paper.arxiv_id and not row["arxiv_id"]:
        fills["arxiv_id"] = paper.arxiv_id
    if paper.doi and not row["doi"]:
        fills["doi"] = paper.doi
    if paper.abstract and not row["abstract"]:
        fills["abstract"] = paper.abstract
        fills["abstract_tex"] = paper.details.abstract_tex
    if paper.details.listed_in and not row["listed_in"]:
        fills["listed_in"] = paper.details.listed_in
    if paper.authors and row["authors"] == "[]":
        fills["authors"] = _json_text(list(paper.authors))
    if paper.categories and row["categories"] == "[]":
        fills["categories"] = _categories_json(paper.categories)
    for column, value in (
        ("author_count", paper.author_count or (len(paper.authors) or None)),
        ("organization", paper.organization),
        ("published", iso_utc(paper.published) if paper.published else None),
        ("url", paper.url),
        ("version", paper.version),
    ):
        if value is not None and row[column] is None:
            fills[column] = value
    return fills


def _detail_values(paper: Paper) -> dict[str, Any]:
    """``paper.details`` as column values: JSON for keywords, ISO-8601 UTC for times."""
    details = paper.details
    if details is NO_DETAILS:
        return dict(_NO_DETAIL_VALUES)  # most papers: the same Nones every time
    values: dict[str, Any] = {name: getattr(details, name) for name in _DETAIL_COLUMNS}
    values["ai_keywords"] = _json_text(list(details.ai_keywords)) if details.ai_keywords else None
    values["featured_at"] = iso_utc(details.featured_at) if details.featured_at else None
    return values


_NO_DETAIL_VALUES: dict[str, Any] = dict.fromkeys(_DETAIL_COLUMNS)


def _newest_details(paper: Paper) -> dict[str, Any]:
    """The details this sighting gives (not empty): they replace what history had."""
    values = _detail_values(paper)
    return {name: values[name] for name in _NEWEST_DETAILS if values[name] not in (None, "", "[]")}


def _signals(row: dict[str, Any], paper: Paper) -> dict[str, Any]:
    """Upvotes and comments change every day on HF: keep the latest, without bumping `updated`."""
    signals: dict[str, Any] = {}
    if paper.upvotes is not None:
        signals["upvotes"] = paper.upvotes
    if paper.comments is not None:
        signals["comments"] = paper.comments
    return signals


def _record_sightings(
    db: sqlite3.Connection, source: str, now: str, rows: Sequence[tuple[int, str, str | None]]
) -> None:
    """(paper_id, the paper's first_seen, announce_type) rows of one source, in one statement.

    A sighting's ``first_seen`` is NULL when it is the paper's (its first sighting),
    ``last_seen`` NULL while it equals the sighting's ``first_seen`` (schema._compact_papers).
    """
    if not rows:
        return
    db.execute("INSERT OR IGNORE INTO sighting_sources (source) VALUES (?)", (source,))
    (source_id,) = db.execute(
        "SELECT id FROM sighting_sources WHERE source = ?", (source,)
    ).fetchone()
    db.executemany(
        """
        INSERT INTO sightings (paper_id, source_id, first_seen, announce_type)
        VALUES (?1, ?2, nullif(?3, ?4), ?5)
        ON CONFLICT (paper_id, source_id) DO UPDATE SET
            last_seen = nullif(?3, coalesce(first_seen, ?4)),
            announce_type = coalesce(excluded.announce_type, announce_type)
        """,
        [(paper_id, source_id, now, seen, kind) for paper_id, seen, kind in rows],
    )


@dataclass
class _KnownKeys:
    """Every arXiv id, DOI and title key of a payload that history may already hold.

    Read in a few queries before the diff, and grown with each paper the diff
    writes, so it always covers what is in the table: a paper none of whose
    keys is here cannot match a row, and the diff skips its three look-ups. A
    first read of a 10,000-entry feed then costs no per-paper query at all.
    """

    arxiv_ids: set[str]
    dois: set[str]
    title_keys: set[str]

    @classmethod
    def read(cls, db: sqlite3.Connection, papers: Sequence[Paper]) -> _KnownKeys:
        return cls(
            _present(db, "arxiv_id", {p.arxiv_id for p in papers if p.arxiv_id}),
            _present(db, "doi", {p.doi for p in papers if p.doi}),
            _present_title_keys(db, {p.title_key for p in papers}),
        )

    def may_match(self, paper: Paper) -> bool:
        return (
            (paper.arxiv_id is not None and paper.arxiv_id in self.arxiv_ids)
            or (paper.doi is not None and paper.doi in self.dois)
            or paper.title_key in self.title_keys
        )

    def add(self, paper: Paper) -> None:
        # After an insert or a merge the row may carry any of this sighting's keys.
        if paper.arxiv_id:
            self.arxiv_ids.add(paper.arxiv_id)
        if paper.doi:
            self.dois.add(paper.doi)
        self.title_keys.add(paper.title_key)


def _present_title_keys(db: sqlite3.Connection, keys: set[str]) -> set[str]:
    """The keys whose hash some row has: a superset of the keys history holds."""
    hashes = {title_hash(key): key for key in keys}
    return {hashes[int(value)] for value in _present(db, "title_hash", set(hashes))}


def _present(db: sqlite3.Connection, column: str, values: set[str] | set[int]) -> set[str]:
    """Which of ``values`` some row of papers has in ``column`` (indexed), 500 at a time."""
    found: set[str] = set()
    ordered: list[Any] = sorted(values)
    for start in range(0, len(ordered), 500):
        chunk = json.dumps(ordered[start : start + 500])
        rows = db.execute(
            f"SELECT DISTINCT {column} FROM papers WHERE {column} IN "
            "(SELECT value FROM json_each(?))",
            (chunk,),
        ).fetchall()
        found.update(str(row[0]) for row in rows)
    return found


def feed_papers(db: sqlite3.Connection, *, since: datetime, limit: int) -> list[StoredPaper]:
    """Papers first seen at or after ``since``, newest first, ties broken by id (deterministic)."""
    cursor = db.execute(
        f"SELECT {_COLUMNS} FROM papers WHERE first_seen >= ? "
        "ORDER BY first_seen DESC, id DESC LIMIT ?",
        (iso_utc(since), limit),
    )
    return stored_papers(db, cursor.fetchall())


def _load(db: sqlite3.Connection, ids: Sequence[int]) -> list[StoredPaper]:
    papers: list[StoredPaper] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(f"SELECT {_COLUMNS} FROM papers WHERE id IN ({marks})", chunk)
        by_id = {row[0]: row for row in rows.fetchall()}
        papers.extend(stored_papers(db, [by_id[paper_id] for paper_id in chunk]))
    return papers


def load_papers(db: sqlite3.Connection, ids: Sequence[int]) -> list[StoredPaper]:
    """Stored papers by row id, in the order given."""
    return _load(db, ids)


def stored_papers(db: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> list[StoredPaper]:
    """``_COLUMNS`` rows as StoredPapers, their sightings read in one query per 500 papers."""
    sources: dict[int, list[str]] = {row[0]: [] for row in rows}
    ids = list(sources)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = db.execute(
            f"SELECT {SIGHTING_JOIN} WHERE s.paper_id IN ({','.join('?' * len(chunk))}) "
            f"ORDER BY {SIGHTING_ORDER}",
            chunk,
        )
        for paper_id, source, _ in found.fetchall():
            sources[paper_id].append(source)
    return [_stored(row, tuple(sources[row[0]])) for row in rows]


def _stored(row: Sequence[Any], sources: tuple[str, ...]) -> StoredPaper:
    return StoredPaper(
        id=row[0],
        uid=(uid := stored_uid(row[1], row[2])),
        arxiv_id=row[2],
        doi=row[3],
        title=row[4],
        abstract=row[5],
        authors=tuple(json.loads(row[6])),
        author_count=_stored_count(row[7]),
        organization=row[8],
        categories=tuple(json.loads(row[9])),
        version=_stored_count(row[10], lowest=1),
        published=parse_stored_utc(row[11]),
        upvotes=_stored_count(row[12]),
        comments=_stored_count(row[13]),
        url=stored_url(row[14], uid),
        sources=sources,
        first_seen=(first_seen := parse_utc(row[15])),
        updated=parse_utc(row[16]) if row[16] else first_seen,  # NULL: not since first seen
        details=_details(row[_FIRST_DETAIL:]),
    )


def _details(values: Sequence[Any]) -> PaperDetails:
    """A row's detail columns; rows stored before they existed hold NULLs: no details."""
    if values.count(None) == len(values):  # most papers (counted in C, no dict made)
        return NO_DETAILS
    named = dict(zip(_DETAIL_COLUMNS, values, strict=True))
    keywords = named.pop("ai_keywords")
    featured = named.pop("featured_at")
    return PaperDetails(
        **named,
        ai_keywords=tuple(json.loads(keywords)) if keywords else (),
        featured_at=parse_utc(featured) if featured else None,
    )


def _stored_count(value: object, *, lowest: int = 0) -> int | None:
    """A stored count, or None for what an older version let in (-1, 1e30, text)."""
    if type(value) is int and lowest <= value <= MAX_COUNT:
        return value
    return None


def history_changed_at(db: sqlite3.Connection) -> datetime | None:
    """When history last changed significantly (the newest ``updated``), or None when empty."""
    value = db.execute("SELECT max(coalesce(updated, first_seen)) FROM papers").fetchone()[0]
    return parse_utc(value) if value else None


def paper_count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM papers").fetchone()[0])


def pending_papers(db: sqlite3.Connection) -> list[StoredPaper]:
    """Papers the next digest would announce (for previews), oldest first."""
    ids = [
        row[0]
        for row in db.execute(
            "SELECT id FROM papers WHERE state = 'pending' ORDER BY first_seen, id"
        ).fetchall()
    ]
    return _load(db, ids)


def paper_by_arxiv_id(db: sqlite3.Connection, arxiv_id: str) -> StoredPaper | None:
    """The stored paper with this (version-less) arXiv id, or None."""
    row = db.execute("SELECT id FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
    return _load(db, [row[0]])[0] if row else None
