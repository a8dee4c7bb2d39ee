"""`digest check` also checks the whole history database: every page and every index."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tests.e2e.test_end_to_end import EXAMPLES, digest_cli


def test_check_passes_on_a_sound_history(tmp_path: Path) -> None:
    assert digest_cli(tmp_path, "run", "--source", str(EXAMPLES)).returncode == 0
    done = digest_cli(tmp_path, "check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(", history")


def test_check_finds_an_index_that_disagrees_with_its_table(tmp_path: Path) -> None:
    assert digest_cli(tmp_path, "run", "--source", str(EXAMPLES)).returncode == 0
    database = tmp_path / "data" / "digest.db"
    with closing(sqlite3.connect(database)) as db:
        # As a flipped bit in an index would: its entries no longer match the table.
        db.execute("PRAGMA writable_schema = ON")
        db.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX papers_title_hash ON papers(title)' "
            "WHERE name = 'papers_title_hash'"
        )
        db.commit()
    done = digest_cli(tmp_path, "check")
    assert done.returncode == 2
    assert f"{database}: integrity_check: " in done.stderr
    assert "papers_title_hash" in done.stderr and "restore your backup" in done.stderr


def test_check_refuses_an_empty_database_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(parents=True)
    (tmp_path / "data" / "digest.db").touch()
    done = digest_cli(tmp_path, "check")
    assert done.returncode == 2
    assert "the history database is empty (0 bytes" in done.stderr


def test_check_does_not_create_a_history(tmp_path: Path) -> None:
    assert digest_cli(tmp_path, "check").returncode == 0
    assert not (tmp_path / "data" / "digest.db").exists()
