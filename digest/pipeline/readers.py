"""Managing readers from the operator's side: validate, add, import, export.

Addresses are checked with email-validator (syntax only by default: no DNS
look-ups, so it works offline and never leaks the list). Readers added here
count as confirmed: they are the operator's own list.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..errors import DigestError
from ..history.subscribers import FREQUENCIES, Subscriber, add_subscriber, list_subscribers

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CSV_FIELDS = ("email", "name", "topics", "frequency", "weekday", "status")


class SubscriberError(DigestError):
    """A reader's address or preferences are not acceptable."""


@dataclass(frozen=True)
class Preferences:
    topics: tuple[str, ...] = ()
    frequency: str = "daily"
    weekday: int = 0


def normalise_address(address: str, *, check_dns: bool = False) -> str:
    # Imported here: `digest status` reads readers but never checks an address.
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(address.strip(), check_deliverability=check_dns).normalized)
    except EmailNotValidError as error:
        raise SubscriberError(f"{address!r} is not a valid e-mail address: {error}") from error


def mailbox_key(address: str) -> str:
    """The mailbox an address reaches, for rate limits: case folded, ``+tag`` removed, dots kept.

    ``Alice+x@Example.org`` and ``alice+y@example.org`` land in one inbox, so
    they share one limit of confirmation mails. Dots are kept: they matter to
    most providers (only Gmail ignores them).
    """
    local, _, domain = address.strip().rpartition("@")
    return f"{local.split('+', 1)[0].casefold()}@{domain.casefold()}"


def parse_preferences(
    topics: str | Sequence[str],
    frequency: str,
    weekday: str | int,
    *,
    known_topics: Sequence[str] | None = None,
) -> Preferences:
    """Validate a reader's choices; with ``known_topics``, every slug must be one of them."""
    items = topics.split(",") if isinstance(topics, str) else list(topics)
    slugs = tuple(sorted({item.strip() for item in items if item.strip()}))
    if known_topics is not None:
        check_topics(slugs, known_topics)
    if frequency not in FREQUENCIES:
        raise SubscriberError(f"frequency {frequency!r}: use one of {', '.join(FREQUENCIES)}")
    return Preferences(slugs, frequency, _weekday(weekday))


def check_topics(slugs: Sequence[str], known: Sequence[str]) -> None:
    """A SubscriberError naming the unknown slugs and listing the configured ones."""
    unknown = [slug for slug in slugs if slug not in known]
    if not unknown:
        return
    choices = (
        f"configured topics: {', '.join(known)}"
        if known
        else "digest.toml configures no [[topics]] yet"
    )
    raise SubscriberError(f"unknown topic(s) {', '.join(unknown)} ({choices})")


def _weekday(value: str | int) -> int:
    if isinstance(value, int) or value.strip().isdigit():
        number = int(value)
        if 0 <= number <= 6:
            return number
    elif value.strip()[:3].lower() in WEEKDAYS:
        return WEEKDAYS.index(value.strip()[:3].lower())
    raise SubscriberError(f"weekday {value!r}: use mon…sun or 0 (Monday) … 6 (Sunday)")


def add(
    db: sqlite3.Connection,
    address: str,
    preferences: Preferences,
    *,
    now: datetime,
    name: str | None = None,
    origin: str = "cli",
    updates: bool | None = None,
) -> tuple[Subscriber, bool]:
    return add_subscriber(
        db,
        normalise_address(address),
        now=now,
        name=name,
        topics=preferences.topics,
        frequency=preferences.frequency,
        weekday=preferences.weekday,
        origin=origin,
        updates=updates,
    )


def import_csv(
    db: sqlite3.Connection,
    text: str,
    *,
    now: datetime,
    source: str,
    known_topics: Sequence[str] | None = None,
) -> int:
    """Add every row of a CSV with an ``email`` column; errors name the file and line."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "email" not in reader.fieldnames:
        raise SubscriberError(f"{source}: the first line must be a header with an 'email' column")
    rows = []
    for row in reader:
        where = f"{source}:{reader.line_num}"
        try:
            preferences = parse_preferences(
                row.get("topics") or "",
                row.get("frequency") or "daily",
                row.get("weekday") or 0,
                known_topics=known_topics,
            )
            rows.append(
                (normalise_address(row["email"] or ""), preferences, row.get("name") or None)
            )
        except SubscriberError as error:
            raise SubscriberError(f"{where}: {error}") from error
    for address, preferences, name in rows:
        add(db, address, preferences, now=now, name=name, origin="import")
    return len(rows)


def export_csv(subscribers: Iterable[Subscriber]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for s in subscribers:
        weekday = WEEKDAYS[s.weekday]
        writer.writerow([s.email, s.name or "", ",".join(s.topics), s.frequency, weekday, s.status])
    return out.getvalue()


__all__ = ["add", "export_csv", "import_csv", "list_subscribers", "normalise_address"]


def orphaned_topics(
    readers: Iterable[Subscriber], configured: Iterable[str]
) -> dict[str, list[str]]:
    """Topic slugs readers hold that digest.toml no longer configures, with those readers."""
    known = set(configured)
    orphans: dict[str, list[str]] = {}
    for reader in readers:
        for slug in reader.topics:
            if slug not in known:
                orphans.setdefault(slug, []).append(reader.email)
    return dict(sorted(orphans.items()))
