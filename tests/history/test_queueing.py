"""Queueing a digest for its readers: who is due, once each, read a page at a time.

The queue reads readers in pages; these tests use pages of two so that every
rule is checked across page boundaries too.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from digest.history import create_digest, record_sightings
from digest.history.deliveries import (
    deliveries_with_status,
    queue_for_subscribers,
    skip_delivery,
)
from digest.history.subscribers import add_subscriber, find_subscriber, list_subscribers
from digest.model import Paper

from ..conftest import NOW  # a Wednesday

WEDNESDAY = NOW.weekday()


def publish(db: sqlite3.Connection, number: int, now=NOW) -> int:  # type: ignore[no-untyped-def]
    paper = Paper(f"Paper {number}", arxiv_id=f"2503.{number:05d}")
    record_sightings(db, [paper], source="s", run_id=None, now=now, tag_authority="example.org")
    digest = create_digest(db, run_id=None, now=now, day=now.date().isoformat())
    assert digest is not None
    return digest.id


def queue(db: sqlite3.Connection, now=NOW) -> int:  # type: ignore[no-untyped-def]
    return queue_for_subscribers(
        db, today=now.date(), now=now, message_id_for=lambda d, a: f"<{d}.{a}>", page=2
    )


def queued_addresses(db: sqlite3.Connection) -> list[str]:
    return sorted(delivery.recipient for delivery in deliveries_with_status(db, "pending"))


def test_every_due_reader_is_queued_once_across_pages(db: sqlite3.Connection) -> None:
    earlier = NOW - timedelta(days=1)
    for n in range(7):
        add_subscriber(db, f"reader{n}@example.org", now=earlier)
    add_subscriber(db, "paused@example.org", now=earlier, frequency="paused")
    add_subscriber(db, "pending@example.org", now=earlier, status="pending")
    add_subscriber(db, "weekly-today@example.org", now=earlier, frequency="weekly",
                   weekday=WEDNESDAY)  # fmt: skip
    add_subscriber(db, "weekly-monday@example.org", now=earlier, frequency="weekly",
                   weekday=(WEDNESDAY + 5) % 7)  # fmt: skip
    latest = publish(db, 1)

    assert queue(db) == 8
    assert queued_addresses(db) == sorted(
        [f"reader{n}@example.org" for n in range(7)] + ["weekly-today@example.org"]
    )
    reader = find_subscriber(db, "reader6@example.org")
    assert reader is not None and reader.cursor_digest_id == latest
    monday = find_subscriber(db, "weekly-monday@example.org")
    assert monday is not None and monday.cursor_digest_id == 0
    assert queue(db) == 0  # the cursors moved with the rows: nobody twice


def test_each_row_covers_the_digests_after_the_readers_cursor(db: sqlite3.Connection) -> None:
    earlier = NOW - timedelta(days=2)
    add_subscriber(db, "weekly@example.org", now=earlier, frequency="weekly",
                   weekday=(WEDNESDAY + 1) % 7)  # fmt: skip
    add_subscriber(db, "daily@example.org", now=earlier)
    first = publish(db, 1, now=NOW - timedelta(days=1))
    queue(db, now=NOW - timedelta(days=1))
    second = publish(db, 2)
    queue(db)
    rows = {
        (d.recipient, d.from_digest_id, d.digest_id) for d in deliveries_with_status(db, "pending")
    }
    assert rows == {("daily@example.org", 0, first), ("daily@example.org", first, second)}


def test_a_skipped_reader_waits_for_a_newer_digest(db: sqlite3.Connection) -> None:
    for n in range(3):
        add_subscriber(db, f"reader{n}@example.org", now=NOW - timedelta(days=1))
    latest = publish(db, 1)
    queue(db)
    (row,) = [
        d for d in deliveries_with_status(db, "pending") if d.recipient == "reader1@example.org"
    ]
    skip_delivery(db, row.id, "too few papers", NOW)

    assert queue(db) == 0  # the same digest is not queued again for the skipped reader
    publish(db, 2)
    assert queue(db) == 3
    (carried,) = [
        d for d in deliveries_with_status(db, "pending")
        if d.recipient == "reader1@example.org" and d.digest_id > latest
    ]  # fmt: skip
    assert carried.from_digest_id == 0  # the skipped digest rides along


def test_config_readers_are_listed_by_origin(db: sqlite3.Connection) -> None:
    add_subscriber(db, "from-config@example.org", now=NOW, origin="config")
    add_subscriber(db, "from-cli@example.org", now=NOW)
    assert [s.email for s in list_subscribers(db, origin="config")] == ["from-config@example.org"]
    assert len(list_subscribers(db)) == 2
