"""Shared fixtures: a fresh history database per test, a fixed clock, paths to fixtures and seeds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from digest.clock import CLOCK_VARIABLE
from digest.history import open_history

from .support import CHROMIUM, CHROMIUM_ARGS

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
# What the machine's clock reads for the tests: later than any moment a test injects
# (the latest is 2026-12-01), as the real clock was when they were written.
MACHINE_CLOCK = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture(autouse=True)
def machine_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `digest` a test starts without a clock of its own runs on MACHINE_CLOCK.

    In-process (``clock.utc_now``) or as a child (DIGEST_CLOCK is inherited): tests
    that care about the day pass their own DIGEST_CLOCK or inject a clock, and the
    rest never read the machine's date (a run just before midnight UTC and one just
    after would make two days of digests).
    """
    monkeypatch.setenv(CLOCK_VARIABLE, MACHINE_CLOCK.isoformat())


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    database = open_history(tmp_path / "digest.db")
    yield database
    database.close()


@pytest.fixture
def seeds() -> list[Path]:
    if not SEEDS.is_dir():
        pytest.skip(f"the real listing pages are not here ({SEEDS}); CI has them beside the repo")
    return sorted(SEEDS.glob("*.txt"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless chromium driven by playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (Debian) to run this")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
