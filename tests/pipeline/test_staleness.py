"""A page still showing yesterday's batch after an arXiv announcement is stale, not a quiet day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from digest import history
from digest.config import SourceConfig, load_settings
from digest.deliver.transports import open_transport
from digest.model import Paper
from digest.pipeline.run import Runtime, run
from digest.pipeline.staleness import batch_key, last_announcement, stale_reason
from digest.sources.fetch import Fetcher
from tests.pipeline.test_delivery import Clock

FIXTURE = Path(__file__).parents[1] / "fixtures" / "arxiv_rss_cs.LG.xml"


def test_the_last_announcement_is_2000_new_york_sunday_to_thursday() -> None:
    # Wednesday 12 March 2025, 06:00 UTC: the newest announcement was Tuesday 20:00 EDT.
    assert last_announcement(datetime(2025, 3, 12, 6, 0, tzinfo=UTC)) == datetime(
        2025, 3, 12, 0, 0, tzinfo=UTC
    )
    # Saturday and Sunday morning: still Thursday's (none on Friday or Saturday night).
    saturday = last_announcement(datetime(2025, 3, 15, 12, 0, tzinfo=UTC))
    assert saturday.astimezone(UTC) == datetime(2025, 3, 14, 0, 0, tzinfo=UTC)
    # One hour after Wednesday's announcement the listings may still lag: Tuesday's counts.
    one_hour_after = last_announcement(datetime(2025, 3, 13, 1, 0, tzinfo=UTC))
    assert one_hour_after.astimezone(UTC) == datetime(2025, 3, 12, 0, 0, tzinfo=UTC)


def test_the_batch_of_a_page_is_its_newest_listing_date_else_its_ids() -> None:
    assert (
        batch_key([Paper("a", listed_on="2025-03-11"), Paper("b", listed_on="2025-03-12")])
        == "2025-03-12"
    )
    assert batch_key([Paper("a", arxiv_id="2503.00001")]).startswith("ids:")  # type: ignore[union-attr]
    assert batch_key([]) is None


def test_only_arxiv_sources_and_only_after_an_announcement_are_stale() -> None:
    before = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)
    day_later = before + timedelta(days=1)
    assert stale_reason("arxiv-rss", "2025-03-12", ("2025-03-12", before), day_later)
    assert stale_reason("arxiv-rss", "2025-03-13", ("2025-03-12", before), day_later) is None
    assert stale_reason("hf-api", "x", ("x", before), day_later) is None
    assert (
        stale_reason("arxiv-rss", "2025-03-12", ("2025-03-12", before), before + timedelta(hours=5))
        is None
    )


def test_the_same_arxiv_feed_a_day_later_is_reported_stale(tmp_path: Path) -> None:
    environ = {"DIGEST_DATA_DIR": str(tmp_path), "DIGEST_FOLLOW_UPS_CHECK": "false"}
    settings = load_settings(None, environ=environ)
    settings = replace(settings, sources=(SourceConfig(str(FIXTURE)),))
    clock = Clock(datetime(2025, 3, 12, 6, 0, tzinfo=UTC))
    db = history.open_history(tmp_path / "digest.db")
    runtime = Runtime(db, Fetcher(httpx.Client()), open_transport(settings), clock)
    first = run(settings, runtime)
    assert first.sources[0].status == "ok"
    clock.now += timedelta(days=1)
    second = run(settings, runtime)
    (report,) = second.sources
    assert report.status == "stale"
    assert "still the batch of 2025-03-12" in (report.reason or "")
    assert second.ok, "stale is a warning for the operator, not a failed run"
