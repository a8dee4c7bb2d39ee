"""Operator errors as one line: what failed, on which path, and what to do about it.

A full disk, a read-only file, a folder we may not write, a database another
process keeps locked: none of these is a bug, so none of them gets a
traceback (``-v`` shows it). Each becomes one sentence naming the path and
the fix, and an exit code: 2 for a set-up the operator must change
(permissions, a read-only file system), 1 for a condition that passes
(space freed, the other process done).
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..errors import DigestError, StoreError


@dataclass(frozen=True)
class Failure:
    message: str
    exit_code: int


_SETUP = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR}


def explain(error: BaseException, database: Path | None) -> Failure | None:
    """The one-line account of an operator error, or None for an error that is a bug."""
    cause = error.__cause__
    if isinstance(error, StoreError) and isinstance(cause, sqlite3.Error | OSError):
        known = explain(cause, database)  # "cannot open digest.db" is the store's; say why
        if known is not None and known.exit_code == 2:
            return known
    if isinstance(error, DigestError):
        return Failure(str(error), 1)
    if isinstance(error, sqlite3.Error):
        return _database(error, database)
    if isinstance(error, OSError):
        return _file(error)
    return None


def _file(error: OSError) -> Failure:
    where = error.filename if error.filename is not None else "a file digest writes"
    if error.errno == errno.ENOSPC or error.errno == errno.EDQUOT:
        return Failure(
            f"no space left to write {where}: free some space on that disk, then run the "
            "command again (what was recorded stays; nothing is sent twice but at most "
            "the one message in flight)",
            1,
        )
    if error.errno == errno.EISDIR:
        return Failure(
            f"cannot write {where}: it is a folder where digest writes a file; "
            "move the folder away (or point data_dir elsewhere)",
            2,
        )
    if error.errno in _SETUP:
        folder = Path(str(where)).parent if error.filename is not None else "its folder"
        return Failure(
            f"cannot write {where} ({error.strerror}): give the user running digest write "
            f"access to {folder}, or point data_dir (or the path in digest.toml) elsewhere",
            2,
        )
    return Failure(f"{where}: {error.strerror or error}", 1)


def _database(error: sqlite3.Error, database: Path | None) -> Failure:
    path = database or "the history database"
    text = str(error).lower()
    if "readonly" in text or "read-only" in text:
        return Failure(
            f"{path} is read-only: give the user running digest write access to it and to "
            "its folder (SQLite writes digest.db-wal and digest.db-shm beside it)",
            2,
        )
    if "full" in text:
        return Failure(
            f"the disk holding {path} is full: free some space, then run the command again "
            "(nothing recorded is lost)",
            1,
        )
    if "locked" in text or "busy" in text:
        return Failure(
            f"{path} is locked by another process (a long `sqlite3` session, a backup?): "
            f"find it with `fuser {path}`, or try again with --wait",
            1,
        )
    if "unable to open" in text:
        return Failure(
            f"cannot open {path}: check that its folder exists and is writable by the user "
            "running digest",
            2,
        )
    return Failure(f"{path}: {error}", 1)
