"""A broken digest.db is refused, never silently replaced by a new, empty history."""

from __future__ import annotations

import gzip
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from digest.errors import BrokenHistoryError, StoreError
from digest.history import SCHEMA_VERSION, integrity_check, open_history, schema
from digest.history.schema import SQLITE_HEADER

WHAT_TO_DO = r"restore your backup .* `digest check`"


def refused(path: Path) -> BrokenHistoryError:
    before = path.read_bytes()
    with pytest.raises(BrokenHistoryError) as caught:
        open_history(path)
    assert path.read_bytes() == before  # not touched, let alone turned into a new history
    return caught.value


def test_a_zero_byte_database_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    path.touch()
    error = refused(path)
    assert str(error).startswith(f"{path}: the history database is empty (0 bytes")
    assert re.search(WHAT_TO_DO, str(error))


@pytest.mark.parametrize(
    "content",
    [
        b"hello, this is not a database",
        b"<!DOCTYPE html><html><title>502 Bad Gateway</title></html>",
        gzip.compress(b"a compressed backup"),
        b"\x00" * 4096,  # a file of zeroes, as a crash can leave
    ],
)
def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "digest.db"
    path.write_bytes(content)
    assert "this is not an SQLite database" in str(refused(path))


def test_a_schema_newer_than_this_digest_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    open_history(path).close()
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()
    error = refused(path)
    assert f"schema version {SCHEMA_VERSION + 1} is newer than this digest understands" in str(
        error
    )
    assert "Upgrade digest, or restore a backup" in str(error)


def damaged_copy(tmp_path: Path) -> Path:
    """A history whose table pages were overwritten (a bad disk, a torn copy)."""
    path = tmp_path / "digest.db"
    db = open_history(path)
    for number in range(300):
        db.execute(
            "INSERT INTO papers (uid, title_hash, title, abstract, first_seen) "
            "VALUES (?, ?, ?, ?, '2025-03-12T06:00:00Z')",
            (f"tag:x,2025:{number}", number, f"Paper {number}", "words " * 100),
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    data = bytearray(path.read_bytes())
    for page in range(2, len(data) // page_size, 3):
        data[page * page_size : page * page_size + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_database_fails_the_check_on_open(tmp_path: Path) -> None:
    path = damaged_copy(tmp_path)
    assert path.read_bytes().startswith(SQLITE_HEADER)
    error = refused(path)
    assert "damaged" in str(error) or "failed SQLite's quick_check" in str(error)


def test_a_database_past_the_size_limit_is_left_to_digest_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "digest.db"
    open_history(path).close()
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    monkeypatch.setattr(schema, "_checked", {})  # as a new process would
    monkeypatch.setattr(schema, "QUICK_CHECK_MAX_BYTES", path.stat().st_size - 1)
    open_history(path).close()
    assert not any("quick_check" in statement for statement in statements)

    monkeypatch.setattr(schema, "QUICK_CHECK_MAX_BYTES", path.stat().st_size)
    open_history(path).close()
    assert any("quick_check" in statement for statement in statements)


def test_a_missing_database_is_created(tmp_path: Path) -> None:
    db = open_history(tmp_path / "new" / "digest.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert integrity_check(db) == []
    db.close()


def test_a_folder_in_its_place_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "digest.db").mkdir()
    with pytest.raises(StoreError, match="is a folder"):
        open_history(tmp_path / "digest.db")


def test_integrity_check_finds_an_index_that_disagrees_with_its_table(tmp_path: Path) -> None:
    # quick_check on open does not compare indexes with tables; integrity_check does.
    path = tmp_path / "digest.db"
    db = open_history(path)
    db.execute(
        "INSERT INTO papers (uid, title_hash, title, first_seen) "
        "VALUES ('tag:x,2025:1', 1, 'A', '2025-03-12T06:00:00Z')"
    )
    # Point the title index's definition at another column: its entries no longer match.
    db.execute("PRAGMA writable_schema = ON")
    db.execute(
        "UPDATE sqlite_master SET sql = 'CREATE INDEX papers_title_hash ON papers(title)' "
        "WHERE name = 'papers_title_hash'"
    )
    db.close()
    reopened = sqlite3.connect(path)
    problems = integrity_check(reopened)
    reopened.close()
    assert problems and any("papers_title_hash" in problem for problem in problems)
