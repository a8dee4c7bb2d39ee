"""How history writes times: UTC, second precision, fixed width, so they sort as text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Rows written before times were zero-padded hold "1-01-01T00:00:00Z" for year 1
# (glibc's %Y does not pad), which fromisoformat refuses.
_SHORT_YEAR = re.compile(r"^(\d{1,3})-")


def iso_utc(moment: datetime) -> str:
    """UTC, second precision, fixed width (the year padded to four digits): sorts as text."""
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


def parse_utc(text: str) -> datetime:
    # fromisoformat reads our fixed "…Z" form (Python 3.11+) ten times faster than
    # strptime, which dominated loading a feed window of thousands of papers.
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = datetime.fromisoformat(_SHORT_YEAR.sub(lambda m: f"{int(m[1]):04d}-", text))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_stored_utc(value: object) -> datetime | None:
    """An optional stored time, or None when the row holds something that is not one.

    A source's date is data, not our own bookkeeping: a value some older version
    stored unchecked must not stop a run from reading history.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_utc(value)
    except (ValueError, OverflowError):
        return None
