"""How history writes times: UTC, second precision, fixed width, so they sort as text."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime) -> str:
    """UTC, second precision, fixed width: sorts as text and renders deterministically."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    # fromisoformat reads our fixed "…Z" form (Python 3.11+) ten times faster than
    # strptime, which dominated loading a feed window of thousands of papers.
    return datetime.fromisoformat(text).astimezone(UTC)
