"""Opening the database and migrating it: schema as code, versioned in ``PRAGMA user_version``.

Each migration is a function applied once, in order, inside a transaction;
opening an up-to-date database applies nothing. WAL mode lets `digest serve`
read while a run writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import BrokenHistoryError, StoreError

Migration = Callable[[sqlite3.Connection], None]


def _create_papers(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE papers (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,          -- permanent public id (Atom entry id)
            arxiv_id TEXT UNIQUE,              -- version-less
            doi TEXT UNIQUE,
            title_key TEXT NOT NULL,
            title TEXT NOT NULL,
            abstract TEXT NOT NULL DEFAULT '',
            authors TEXT NOT NULL DEFAULT '[]',      -- JSON list
            author_count INTEGER,
            organization TEXT,
            categories TEXT NOT NULL DEFAULT '[]',   -- JSON list, primary first
            version INTEGER,
            published TEXT,
            listed_on TEXT,
            upvotes INTEGER,
            comments INTEGER,
            url TEXT,
            first_seen TEXT NOT NULL,          -- UTC ISO-8601; Atom published
            updated TEXT NOT NULL,             -- bumped on significant change only
            first_run_id INTEGER,
            state TEXT NOT NULL DEFAULT 'pending'  -- pending | digested | skipped
        )
        """
    )
    db.execute("CREATE INDEX papers_title_key ON papers(title_key)")
    db.execute("CREATE INDEX papers_first_seen ON papers(first_seen)")
    db.execute("CREATE INDEX papers_pending ON papers(state) WHERE state = 'pending'")
    db.execute(
        """
        CREATE TABLE sightings (
            paper_id INTEGER NOT NULL REFERENCES papers(id),
            source TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            announce_type TEXT,
            PRIMARY KEY (paper_id, source)
        )
        """
    )


def _create_runs(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started TEXT NOT NULL,
            finished TEXT,
            status TEXT NOT NULL DEFAULT 'running',  -- running | ok | failed
            novel INTEGER NOT NULL DEFAULT 0,
            digest_id INTEGER,
            pid INTEGER,
            report TEXT                               -- JSON, as `digest run --json`
        )
        """
    )
    db.execute(
        """
        CREATE TABLE run_sources (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            position INTEGER NOT NULL,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            found INTEGER NOT NULL DEFAULT 0,
            novel INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            reason TEXT,
            batch TEXT,              -- what the page held (for staleness): date or a hash of its ids
            PRIMARY KEY (run_id, position)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE http_cache (
            url TEXT PRIMARY KEY,
            etag TEXT,              -- verbatim, quotes included
            last_modified TEXT,
            checked TEXT NOT NULL
        )
        """
    )


def _create_ledger(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            run_id INTEGER,
            created TEXT NOT NULL,
            day TEXT NOT NULL,
            paper_count INTEGER NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE digest_papers (
            digest_id INTEGER NOT NULL REFERENCES digests(id),
            paper_id INTEGER NOT NULL REFERENCES papers(id),
            position INTEGER NOT NULL,
            PRIMARY KEY (digest_id, paper_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE subscribers (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT,
            topics TEXT NOT NULL DEFAULT '[]',        -- JSON list of topic slugs; [] = everything
            frequency TEXT NOT NULL DEFAULT 'daily',  -- daily | weekly | paused
            weekday INTEGER NOT NULL DEFAULT 0,       -- weekly: 0 = Monday
            status TEXT NOT NULL DEFAULT 'active',    -- pending (not confirmed) | active | unsubscribed
            origin TEXT NOT NULL DEFAULT 'cli',       -- cli | import | config | web
            created TEXT NOT NULL,
            confirmed TEXT,
            unsubscribed TEXT,
            cursor_digest_id INTEGER NOT NULL DEFAULT 0  -- the last digest already queued for them
        )
        """
    )
    db.execute(
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            digest_id INTEGER NOT NULL REFERENCES digests(id),  -- the newest digest it covers
            from_digest_id INTEGER NOT NULL,                    -- covers digests after this one
            subscriber_id INTEGER REFERENCES subscribers(id),   -- NULL: the operator's copy
            recipient TEXT NOT NULL,
            message_id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | retry | failed
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            queued TEXT NOT NULL,
            updated TEXT NOT NULL,
            UNIQUE (digest_id, recipient)
        )
        """
    )
    db.execute(
        "CREATE INDEX deliveries_open ON deliveries(status) WHERE status IN ('pending', 'retry')"
    )


def _create_operations(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE locks (
            name TEXT PRIMARY KEY,   -- 'run' or 'scheduler'
            token TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            acquired TEXT NOT NULL,
            heartbeat TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE source_alerts (
            source TEXT PRIMARY KEY,
            state TEXT NOT NULL,     -- 'failing' after an alert mail, 'ok' after a recovered mail
            changed TEXT NOT NULL
        )
        """
    )


def _create_search_index(db: sqlite3.Connection) -> None:
    # Deferred import: search reads papers, which imports this module.
    from .search import create_search_index

    create_search_index(db)


def _add_body_hash(db: sqlite3.Connection) -> None:
    # The hash of the last body recorded from a URL: a server that keeps no
    # validators but sends the same bytes again costs a hash, not a parse.
    db.execute("ALTER TABLE http_cache ADD COLUMN body_sha256 TEXT")


# Characters the sources' boundary now removes (bidi controls, zero-width, BOM). All
# are format characters that title_key ignores, so removing them keeps every key.
_INVISIBLE = (0x061C, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065),
              *range(0x2066, 0x206A), 0xFEFF)  # fmt: skip


def _repair_source_values(db: sqlite3.Connection) -> None:
    """Clear values stored before sources were validated, which later runs could not read.

    An HF answer with ``upvotes: -1`` or ``publishedAt: "0001-01-01…"`` was stored as
    given; ranking then failed on it (and reading year 1 back) in every later run.
    Counts outside [0, 10**9], versions below 1, and dates that are not a padded ISO
    time from 1991 on become NULL (unknown), as the boundary now makes them.
    """
    for column, lowest in (("upvotes", 0), ("comments", 0), ("author_count", 0), ("version", 1)):
        db.execute(
            f"UPDATE papers SET {column} = NULL WHERE {column} IS NOT NULL AND "
            f"(typeof({column}) != 'integer' OR {column} < ? OR {column} > 1000000000)",
            (lowest,),
        )
    db.execute(
        "UPDATE papers SET published = NULL WHERE published IS NOT NULL AND "
        "(typeof(published) != 'text' OR published < '1991-01-01' OR published NOT GLOB "
        "'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z')"
    )
    for column in ("title", "abstract"):
        stripped = column
        for code in _INVISIBLE:
            stripped = f"replace({stripped}, char({code}), '')"
        db.execute(f"UPDATE papers SET {column} = {stripped} WHERE {column} != {stripped}")


def _add_details(db: sqlite3.Connection) -> None:
    # What sources say beyond the basics (model.PaperDetails); NULL when a source gave
    # nothing, which is every row stored before this migration: they render as before.
    for column, kind in (
        ("ai_summary", "TEXT"),  # HF's one-line TL;DR
        ("ai_keywords", "TEXT"),  # JSON list
        ("github_repo", "TEXT"),
        ("github_stars", "INTEGER"),
        ("project_page", "TEXT"),
        ("thumbnail", "TEXT"),
        ("featured_at", "TEXT"),  # UTC ISO-8601: when HF featured it
        ("hf_url", "TEXT"),
        ("primary_category", "TEXT"),
        ("arxiv_comment", "TEXT"),
        ("journal_ref", "TEXT"),
        ("pdf_url", "TEXT"),
        ("listed_in", "TEXT"),  # the category whose listing showed it
        ("title_tex", "TEXT"),  # the source's title when it held TeX
        ("abstract_tex", "TEXT"),
    ):
        db.execute(f"ALTER TABLE papers ADD COLUMN {column} {kind}")


def _readable_tex(db: sqlite3.Connection) -> None:
    """Titles, abstracts and authors stored as TeX become readable, the TeX kept beside them.

    Sources convert at ingest from now on (docs/text.md); this does the same for what
    history already holds, so old rows never show ``$k$`` either. The FTS triggers
    re-index the changed text. ``uid`` never changes; ``title_key`` follows the title.
    """
    from ..identity import title_key
    from ..tex import readable

    rows = db.execute(
        "SELECT id, title, abstract, authors FROM papers "
        "WHERE title GLOB '*[$\\{}]*' OR abstract GLOB '*[$\\{}]*' OR authors GLOB '*[\\{}]*'"
    ).fetchall()
    for paper_id, title, abstract, authors in rows:
        new_title, title_tex = readable(title)
        new_abstract, abstract_tex = readable(abstract)
        names = [readable(name)[0] for name in json.loads(authors)]
        db.execute(
            "UPDATE papers SET title = ?, title_tex = ?, title_key = ?, abstract = ?, "
            "abstract_tex = ?, authors = ? WHERE id = ?",
            (
                new_title or title,
                title_tex if new_title else None,
                title_key(new_title or title),
                new_abstract,
                abstract_tex,
                json.dumps([name for name in names if name], ensure_ascii=False),
                paper_id,
            ),
        )


def _create_channel_ledger(db: sqlite3.Connection) -> None:
    # One row per (digest, channel), as deliveries are per (digest, reader); see history/channels.py.
    db.execute(
        """
        CREATE TABLE channel_posts (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,                              -- [[channels]] name
            digest_id INTEGER NOT NULL REFERENCES digests(id),  -- the digest it posts
            from_digest_id INTEGER NOT NULL,                    -- papers of digests after this one
            status TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | retry | failed | skipped
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,                         -- the service's answer, kept on failure
            queued TEXT NOT NULL,
            updated TEXT NOT NULL,
            UNIQUE (channel, digest_id)
        )
        """
    )
    db.execute(
        "CREATE INDEX channel_posts_open ON channel_posts(channel, digest_id) "
        "WHERE status IN ('pending', 'retry')"
    )
    db.execute(
        """
        CREATE TABLE channel_cursors (
            channel TEXT PRIMARY KEY,
            digest_id INTEGER NOT NULL               -- the newest digest already queued for it
        )
        """
    )


def _add_feed_generation(db: sqlite3.Connection) -> None:
    # Signed into each reader's private feed URL; unsubscribing bumps it (history/subscribers.py).
    db.execute("ALTER TABLE subscribers ADD COLUMN feed_generation INTEGER NOT NULL DEFAULT 1")


def _add_run_reason_and_limits(db: sqlite3.Connection) -> None:
    # Why a run ended as it did ("stopped by SIGTERM", the error that failed it).
    db.execute("ALTER TABLE runs ADD COLUMN reason TEXT")
    # When a reader last became 'pending': a confirmation link names it, so a
    # link from before an unsubscribe cannot re-activate the reader.
    db.execute("ALTER TABLE subscribers ADD COLUMN pending_since TEXT")
    db.execute(
        """
        CREATE TABLE rate_hits (
            scope TEXT NOT NULL,     -- 'address' (normalised e-mail) | 'client' (IP address)
            key TEXT NOT NULL,
            at TEXT NOT NULL         -- UTC ISO-8601
        )
        """
    )
    db.execute("CREATE INDEX rate_hits_key ON rate_hits(scope, key, at)")
    db.execute("CREATE INDEX rate_hits_at ON rate_hits(at)")


def _add_follow_ups(db: sqlite3.Connection) -> None:
    """Follow-ups (docs/follow-ups.md): events on announced papers and who was told of them.

    ``delivery_papers`` keeps which papers a mail showed, so an event reaches the
    readers who actually received the paper (topics pick per reader). The ledger
    row (event, recipient) is written in the transaction that queues the mail,
    like the reader's cursor: an event is told to a reader at most once.
    """
    db.execute(
        """
        CREATE TABLE follow_ups (
            id INTEGER PRIMARY KEY,
            paper_id INTEGER NOT NULL REFERENCES papers(id),
            kind TEXT NOT NULL,        -- code | project_page | version | journal_ref | doi | withdrawn | upvotes
            value TEXT NOT NULL,       -- the repo, the version, the reference, the mark
            detail TEXT,               -- stars, arXiv's comment for the version
            source TEXT NOT NULL,      -- the listing or check that showed it
            run_id INTEGER,
            found TEXT NOT NULL,       -- UTC ISO-8601
            UNIQUE (paper_id, kind, value)
        )
        """
    )
    db.execute("CREATE INDEX follow_ups_found ON follow_ups(found)")
    db.execute(
        """
        CREATE TABLE delivery_papers (
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
            paper_id INTEGER NOT NULL REFERENCES papers(id),
            PRIMARY KEY (delivery_id, paper_id)
        )
        """
    )
    # A reader's due events are found from their sent mail (recipient -> mail -> papers),
    # any_due from the events (paper -> mail): one index for each way in.
    db.execute("CREATE INDEX delivery_papers_by_paper ON delivery_papers(paper_id)")
    db.execute("CREATE INDEX deliveries_by_recipient ON deliveries(recipient, status, queued)")
    db.execute(
        """
        CREATE TABLE follow_up_deliveries (
            event_id INTEGER NOT NULL REFERENCES follow_ups(id),
            recipient TEXT NOT NULL COLLATE NOCASE,
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
            PRIMARY KEY (event_id, recipient)
        )
        """
    )
    db.execute("CREATE INDEX follow_up_deliveries_by_delivery ON follow_up_deliveries(delivery_id)")
    # 1: the reader wants follow-ups (the default); 0: only new papers.
    db.execute("ALTER TABLE subscribers ADD COLUMN updates INTEGER NOT NULL DEFAULT 1")


def _add_channel_follow_ups(db: sqlite3.Connection) -> None:
    """Follow-ups in chat channels (docs/channels.md), as ``delivery_papers`` and
    ``follow_up_deliveries`` are for mail.

    ``channel_post_papers`` keeps which papers a post showed (its last ledger row
    when missed digests were combined), written when the post is composed; it
    counts once the post is ``sent``. ``channel_follow_ups`` is the ledger row
    (event, channel), written in the transaction that queues the post carrying it:
    a channel hears of an event at most once.
    """
    db.execute(
        """
        CREATE TABLE channel_post_papers (
            post_id INTEGER NOT NULL REFERENCES channel_posts(id),
            paper_id INTEGER NOT NULL REFERENCES papers(id),
            PRIMARY KEY (post_id, paper_id)
        )
        """
    )
    db.execute("CREATE INDEX channel_post_papers_by_paper ON channel_post_papers(paper_id)")
    db.execute(
        """
        CREATE TABLE channel_follow_ups (
            event_id INTEGER NOT NULL REFERENCES follow_ups(id),
            channel TEXT NOT NULL,                               -- [[channels]] name
            post_id INTEGER NOT NULL REFERENCES channel_posts(id),
            PRIMARY KEY (event_id, channel)
        )
        """
    )
    db.execute("CREATE INDEX channel_follow_ups_by_post ON channel_follow_ups(post_id)")


def _add_paper_checks(db: sqlite3.Connection) -> None:
    # When the daily Hugging Face check last asked about each paper: past
    # ``hf_per_day`` the check asks the least recently asked first (docs/follow-ups.md).
    db.execute(
        """
        CREATE TABLE paper_checks (
            paper_id INTEGER PRIMARY KEY REFERENCES papers(id),
            hf_checked TEXT NOT NULL                 -- UTC ISO-8601
        )
        """
    )


def title_hash(key: str) -> int:
    """The stored form of a title key: 32 bits of BLAKE2b, as a signed SQLite integer.

    Four bytes in the row and the index instead of the whole key (~70 characters
    twice). A match is confirmed on the key itself (papers._find), so a collision
    merges nothing; at 1,000,000 papers one look-up in ~4,000 reads a row in vain.
    """
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), signed=True)


def _compact_papers(db: sqlite3.Connection) -> None:
    """Stop storing what the other columns already say (about a quarter of the file at 1M papers).

    ``uid`` is NULL when it is ``https://arxiv.org/abs/<arxiv_id>`` (every paper
    with an arXiv id: the id never changes once set, so neither does the uid);
    ``url`` is NULL when it equals the uid ('' when the source gave none);
    ``updated`` is NULL until it differs from ``first_seen``; the title key is kept
    as a 32-bit hash (the diff compares the real key, see papers._find); a
    sighting's source is a number into ``sighting_sources``, its ``first_seen``
    NULL when it is the paper's and its ``last_seen`` NULL while it equals its
    ``first_seen``. history/papers.py reads every one
    back as before. The unique indexes skip NULLs (most papers have no DOI, and
    derived uids are unique because arXiv ids are). SQLite cannot drop a column
    that is indexed or UNIQUE, so the tables are rebuilt (sqlite.org/lang_altertable.html,
    "other kinds of table schema changes"); the file shrinks when
    :func:`open_history` then VACUUMs it.
    """
    from ..identity import title_key
    from .search import create_search_triggers

    def hash_of_title(title: str) -> int:
        return title_hash(title_key(title))

    db.create_function("digest_title_hash", 1, hash_of_title, deterministic=True)
    db.execute(
        """
        CREATE TABLE papers_compact (
            id INTEGER PRIMARY KEY,
            uid TEXT,                          -- NULL: https://arxiv.org/abs/<arxiv_id>
            arxiv_id TEXT,                     -- version-less
            doi TEXT,
            title_hash INTEGER NOT NULL,       -- papers.title_hash(title_key(title)), 32 bits
            title TEXT NOT NULL,
            abstract TEXT NOT NULL DEFAULT '',
            authors TEXT NOT NULL DEFAULT '[]',      -- JSON list
            author_count INTEGER,
            organization TEXT,
            categories TEXT NOT NULL DEFAULT '[]',   -- JSON list, primary first
            version INTEGER,
            published TEXT,
            listed_on TEXT,
            upvotes INTEGER,
            comments INTEGER,
            url TEXT,                          -- NULL: the uid; '': none
            first_seen TEXT NOT NULL,          -- UTC ISO-8601; Atom published
            updated TEXT,                      -- NULL: first_seen; bumped on significant change
            first_run_id INTEGER,
            state TEXT NOT NULL DEFAULT 'pending',  -- pending | digested | skipped
            ai_summary TEXT, ai_keywords TEXT, github_repo TEXT, github_stars INTEGER,
            project_page TEXT, thumbnail TEXT, featured_at TEXT, hf_url TEXT,
            primary_category TEXT, arxiv_comment TEXT, journal_ref TEXT, pdf_url TEXT,
            listed_in TEXT, title_tex TEXT, abstract_tex TEXT  -- schema._add_details
        )
        """
    )
    details = (
        "ai_summary, ai_keywords, github_repo, github_stars, project_page, thumbnail, "
        "featured_at, hf_url, primary_category, arxiv_comment, journal_ref, pdf_url, "
        "listed_in, title_tex, abstract_tex"
    )
    # The hash is of the key the current title gives, the key every new sighting brings.
    db.execute(
        f"""
        INSERT INTO papers_compact
        SELECT id, nullif(uid, 'https://arxiv.org/abs/' || arxiv_id), arxiv_id, doi,
            digest_title_hash(title), title, abstract, authors, author_count, organization,
            categories, version, published, listed_on, upvotes, comments,
            CASE WHEN url IS NULL THEN '' WHEN url = uid THEN NULL ELSE url END,
            first_seen, nullif(updated, first_seen), first_run_id, state, {details}
        FROM papers ORDER BY id
        """
    )
    db.execute(
        "CREATE TABLE sighting_sources (id INTEGER PRIMARY KEY, source TEXT NOT NULL UNIQUE)"
    )
    db.execute("INSERT INTO sighting_sources (source) SELECT DISTINCT source FROM sightings")
    db.execute(
        """
        CREATE TABLE sightings_compact (
            paper_id INTEGER NOT NULL REFERENCES papers(id),
            source_id INTEGER NOT NULL REFERENCES sighting_sources(id),
            first_seen TEXT,                   -- NULL: the paper's first_seen
            last_seen TEXT,                    -- NULL: this sighting's first_seen
            announce_type TEXT,
            PRIMARY KEY (paper_id, source_id)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        INSERT INTO sightings_compact
        SELECT s.paper_id, k.id, nullif(s.first_seen, p.first_seen),
            nullif(s.last_seen, s.first_seen), s.announce_type
        FROM sightings AS s JOIN sighting_sources AS k ON k.source = s.source
        JOIN papers AS p ON p.id = s.paper_id
        """
    )
    # Foreign keys are off during migrations (_migrate), as the rebuild requires.
    db.execute("DROP TABLE sightings")
    db.execute("DROP TABLE papers")  # its FTS triggers go with it; the index stays valid
    db.execute("ALTER TABLE papers_compact RENAME TO papers")
    db.execute("ALTER TABLE sightings_compact RENAME TO sightings")
    db.execute("CREATE UNIQUE INDEX papers_uid ON papers(uid) WHERE uid IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX papers_arxiv_id ON papers(arxiv_id) WHERE arxiv_id IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX papers_doi ON papers(doi) WHERE doi IS NOT NULL")
    db.execute("CREATE INDEX papers_title_hash ON papers(title_hash)")
    db.execute("CREATE INDEX papers_first_seen ON papers(first_seen)")
    db.execute("CREATE INDEX papers_pending ON papers(state) WHERE state = 'pending'")
    create_search_triggers(db)
    # The rebuilt index packs every term's doclist into one segment: ~1 % smaller.
    db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('optimize')")
    # The one table whose references this migration computes (a sighting of a row that
    # was not there is left out by the join).
    broken = db.execute("PRAGMA foreign_key_check(sightings)").fetchall()
    if broken:
        raise StoreError(
            f"compacting the history would break {len(broken)} references: {broken[:3]}"
        )


MIGRATIONS: tuple[Migration, ...] = (
    _create_papers,
    _create_runs,
    _create_ledger,
    _create_operations,
    _create_search_index,
    _add_body_hash,
    _repair_source_values,
    _add_details,
    _readable_tex,
    _create_channel_ledger,
    _add_feed_generation,
    _add_run_reason_and_limits,
    _add_follow_ups,
    _add_channel_follow_ups,
    _add_paper_checks,
    _compact_papers,
)
_COMPACTED = MIGRATIONS.index(_compact_papers)  # the user_version before it
# A page holds whole papers only (~1.5 KB each), so each page leaves part of a paper's
# size unused: 4 KiB pages held two with a fifth of the page empty, 16 KiB pages ten
# with ~7 % (~110 bytes a paper), 32 KiB pages ~21 with ~2.5 %. At 1,000,000 papers
# that is 2,338 bytes a paper against 2,409 with 16 KiB pages (issue 17's target:
# 2,400). The cost is larger WAL frames for small commits. A new database gets them
# at creation; an older one on the VACUUM after _compact_papers.
PAGE_SIZE = 32_768
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_TIMEOUT_MS = 30_000  # how long a write waits for another process's write lock


SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database
RESTORE = (
    "digest will not start a new, empty history over it (that would lose every reader and "
    "the record of what was sent). Stop digest, restore your backup (README: Operations, "
    "Backups) or move the file aside to start afresh, then run `digest check`"
)

# quick_check reads every page (about 0.45 s for 50,000 papers): once per process for
# each state of the file, not on every web request's connection, and only on a file up
# to QUICK_CHECK_MAX_BYTES. A million papers are ~2.3 GB: reading them all on every
# `digest run` would cost more than the run; there `digest check` does it (README,
# "When things go wrong"), and SQLite still refuses a damaged page when it reads one.
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
_checked: dict[Path, tuple[int, int, int]] = {}
_sniffed: set[tuple[int, int]] = set()  # (device, inode) of files known to be SQLite databases
_sniffed_lock = threading.Lock()


def refuse_foreign_file(path: Path) -> None:
    """What :func:`open_history` checks first; for a connection opened elsewhere in history/."""
    _refuse_foreign_file(path)


def open_history(path: Path, *, busy_seconds: float = BUSY_TIMEOUT_MS / 1000) -> sqlite3.Connection:
    """Open ``path`` (creating it and its folder), migrate it, and return it in autocommit mode.

    Autocommit lets every write choose its transaction explicitly with
    :func:`transaction` (``BEGIN IMMEDIATE``), so two processes never interleave
    a read-modify-write. A file that is there but is empty, not SQLite, fails
    ``PRAGMA quick_check`` or has a newer schema raises
    :class:`~digest.errors.BrokenHistoryError`: it is never replaced by a new history.
    A write waits ``busy_seconds`` for another process's write lock before SQLite
    answers "database is locked".
    """
    _refuse_foreign_file(path)
    db: sqlite3.Connection | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=busy_seconds)
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # only a new, empty file takes it here
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        _quick_check(db, path)
        _migrate(db, path)
    except BaseException as error:
        if db is not None:
            db.close()
        if isinstance(error, sqlite3.DatabaseError) and _damaged(error):
            raise BrokenHistoryError(path, f"the database is damaged ({error})", RESTORE) from error
        if isinstance(error, sqlite3.Error):
            raise StoreError(f"{path}: cannot open the history database: {error}") from error
        raise
    return db


def integrity_check(db: sqlite3.Connection) -> list[str]:
    """Every problem SQLite finds in the whole database (empty when it is sound).

    ``PRAGMA integrity_check`` also compares every index with its table, which
    the ``quick_check`` on open does not (a flipped bit in the Message-ID index
    shows only here); ``foreign_key_check`` finds rows pointing at nothing.
    """
    problems = [str(row[0]) for row in db.execute("PRAGMA integrity_check").fetchall()]
    problems = [] if problems == ["ok"] else problems
    for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall():
        problems.append(f"{table} row {rowid} refers to a missing row of {parent}")
    return problems


def _refuse_foreign_file(path: Path) -> None:
    """A file at ``path`` must be an SQLite database before SQLite may write to it.

    Each file (device and inode) is read once per process, under a lock, before
    any connection to it: closing a descriptor of our own on a database file drops
    every POSIX lock the process holds on it, those of its open SQLite connections
    included, and another process may then checkpoint and delete the WAL under
    them (sqlite.org/howtocorrupt.html §2.2). ``digest serve`` keeps connections
    open (a scheduled run, the page cache's :class:`~digest.history.public.DataWatch`)
    while requests open more.
    """
    with _sniffed_lock:
        try:
            status = os.stat(path)
        except FileNotFoundError:
            return  # a first run: the history is created
        except OSError as error:
            raise StoreError(
                f"{path}: cannot read the history database: {error.strerror}"
            ) from None
        if (status.st_dev, status.st_ino) in _sniffed:
            return
        _sniff(path)
        _sniffed.add((status.st_dev, status.st_ino))


def _sniff(path: Path) -> None:
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return  # a first run: the history is created
    except IsADirectoryError:
        raise StoreError(f"{path}: is a folder, not the history database") from None
    except OSError as error:
        raise StoreError(f"{path}: cannot read the history database: {error.strerror}") from None
    if not head:
        # SQLite would take a 0-byte file as a new, empty database.
        problem = "the history database is empty (0 bytes: a crashed copy or a full disk?)"
        raise BrokenHistoryError(path, problem, RESTORE)
    if head != SQLITE_HEADER:
        shown = head.decode("ascii", "replace").strip() or repr(head)
        problem = f"this is not an SQLite database (it starts with {shown[:16]!r})"
        raise BrokenHistoryError(path, problem, RESTORE)


def _quick_check(db: sqlite3.Connection, path: Path) -> None:
    try:
        stat = path.stat()
    except OSError:
        return  # the next statement reports it
    state = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if _checked.get(path) == state or stat.st_size > QUICK_CHECK_MAX_BYTES:
        return
    problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(5)").fetchall()]
    if problems != ["ok"]:
        problem = f"the database failed SQLite's quick_check: {'; '.join(problems)}"
        raise BrokenHistoryError(path, problem, RESTORE)
    _checked[path] = state


def _damaged(error: sqlite3.DatabaseError) -> bool:
    text = str(error)
    return "not a database" in text or "malformed" in text or "corrupt" in text


@contextmanager
def busy_timeout(db: sqlite3.Connection, seconds: float | None) -> Iterator[None]:
    """Within the block a write waits at most ``seconds`` (capped at the default) for a lock."""
    if seconds is None:
        yield
        return
    db.execute(f"PRAGMA busy_timeout = {max(0, min(BUSY_TIMEOUT_MS, int(seconds * 1000)))}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def database_path(db: sqlite3.Connection) -> str:
    """The file behind a connection, for messages that name it (even from a broken one)."""
    try:
        row = db.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        row = None
    return str(row[2]) if row and row[2] else "the history database"


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise BrokenHistoryError(
            path,
            f"its schema version {version} is newer than this digest understands "
            f"({SCHEMA_VERSION}): a newer digest wrote it",
            "Upgrade digest, or restore a backup made with this version; then run `digest check`",
        )
    # Rebuilding the papers table in WAL mode would write all of it to the WAL first
    # (~4 GB at 1,000,000 papers, with nothing checkpointed until it commits); with a
    # rollback journal new pages go straight to the file, and the VACUUM follows at once.
    alone = 0 < version <= _COMPACTED and _leave_wal(db)
    secure = db.execute("PRAGMA secure_delete").fetchone()[0]
    try:
        if alone:
            db.execute("PRAGMA secure_delete = OFF")  # VACUUM drops the freed pages anyway
        if version < SCHEMA_VERSION:
            _apply_migrations(db, version)
        if db.execute("PRAGMA page_size").fetchone()[0] < PAGE_SIZE:
            # The last step of the upgrade to the compact schema; retried on every open
            # until no other connection stands in its way.
            compact_file(db)
    finally:
        if alone:
            db.execute(f"PRAGMA secure_delete = {int(secure)}")
            db.execute("PRAGMA journal_mode=WAL")


def _apply_migrations(db: sqlite3.Connection, version: int) -> None:
    # A migration that rebuilds a table needs foreign keys off (SQLite would otherwise
    # delete through the dropped table); it checks them itself before it commits.
    db.execute("PRAGMA foreign_keys=OFF")
    try:
        for number in range(version, SCHEMA_VERSION):
            with transaction(db):
                MIGRATIONS[number](db)
                db.execute(f"PRAGMA user_version = {number + 1}")
    finally:
        db.execute("PRAGMA foreign_keys=ON")


def compact_file(db: sqlite3.Connection) -> bool:
    """VACUUM into :data:`PAGE_SIZE` pages; False if another connection keeps it from happening.

    The page size changes only outside WAL mode, which a connection can leave only
    when it is the database's only one. VACUUM writes a copy first: it needs free
    space about twice the file's size for a moment (at 1,000,000 papers: ~5 GB).
    """
    if not _room_to_vacuum(db) or not _leave_wal(db):
        return False  # the history works as it is, only larger, until a later open
    try:
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        db.execute("VACUUM")
    except sqlite3.OperationalError:
        # A full disk, say: VACUUM changes nothing then, and the history works as it is.
        return False
    finally:
        db.execute("PRAGMA journal_mode=WAL")
    return True


def _room_to_vacuum(db: sqlite3.Connection) -> bool:
    """Whether the disk has twice the file's size free: else every open would try in vain."""
    path = Path(database_path(db))
    try:
        disk = os.statvfs(path.parent)  # shutil.disk_usage's free, without importing shutil
        return disk.f_bavail * disk.f_frsize >= 2 * path.stat().st_size
    except OSError:
        return False


def _leave_wal(db: sqlite3.Connection) -> bool:
    """Switch to a rollback journal if no other connection has the database open."""
    try:
        with busy_timeout(db, 0):
            mode = db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError:
        return False  # "database is locked": another connection has it open
    return bool(mode == "delete")


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        _roll_back(db)
        raise
    try:
        db.execute("COMMIT")
    except BaseException:
        _roll_back(db)
        raise


def _roll_back(db: sqlite3.Connection) -> None:
    """Roll back what is still open; never let a failed ROLLBACK hide the error that caused it.

    SQLite ends the transaction itself on some errors (a full disk, an I/O
    error), and then ``ROLLBACK`` fails with "no transaction is active".
    """
    if not db.in_transaction:
        return
    with suppress(sqlite3.Error):
        db.execute("ROLLBACK")
