"""Whatever goes wrong with one source is that source's failure alone; the run goes on.

Not only the SourceErrors the sources stage raises on purpose: an exception
nobody foresaw while fetching (here a transport that raises) or while recording
(here a SQLite trigger that aborts the insert) marks that one source ``failed``
with a message naming it, and the other source, the feed and the mail proceed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from digest import history
from digest.config import Settings, SourceConfig, load_settings
from digest.deliver.transports import open_transport
from digest.pipeline.run import RunResult, Runtime, run
from digest.sources.fetch import Fetcher

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
BROKEN = "http://127.0.0.1:9/api/daily_papers?date=2025-03-12"


def settings_for(tmp_path: Path, *sources: str) -> Settings:
    loaded = load_settings(
        None,
        environ={
            "DIGEST_DATA_DIR": str(tmp_path),
            "DIGEST_SITE_BASE_URL": "https://digest.example.org",
        },
    )
    return replace(loaded, sources=tuple(SourceConfig(source) for source in sources))


def raising(request: httpx.Request) -> httpx.Response:
    raise RuntimeError("the transport broke in a way nobody planned for")


def run_once(settings: Settings, handler: httpx.MockTransport | None = None) -> RunResult:
    db = history.open_history(settings.data_dir / "digest.db")
    client = httpx.Client(transport=handler or httpx.MockTransport(raising))
    try:
        return run(settings, Runtime(db, Fetcher(client), open_transport(settings), lambda: NOW))
    finally:
        client.close()
        db.close()


def test_an_unforeseen_exception_while_fetching_fails_that_source_alone(tmp_path: Path) -> None:
    healthy = str(EXAMPLES / "arxiv-cs.LG.rss")
    result = run_once(settings_for(tmp_path, BROKEN, healthy))
    broken, good = result.sources
    assert broken.status == "failed"
    assert broken.error == (
        f"unexpected error while reading {BROKEN}: "
        "RuntimeError: the transport broke in a way nobody planned for"
    )
    assert good.status == "ok" and good.novel > 0
    assert result.digest_id is not None  # the healthy papers were announced
    assert (tmp_path / "feed.atom").exists()
    assert not result.ok


def test_an_unforeseen_exception_while_recording_fails_that_source_alone(tmp_path: Path) -> None:
    db = history.open_history(tmp_path / "digest.db")
    # A stand-in for a write that fails mid-source: SQLite aborts this one paper's insert.
    db.execute(
        "CREATE TRIGGER refuse_one BEFORE INSERT ON papers WHEN NEW.arxiv_id = '2503.08344' "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
    )
    db.close()
    hf = str(EXAMPLES / "hf-daily-2025-03-12.json")
    listing = str(EXAMPLES / "saved-listing.txt")
    result = run_once(settings_for(tmp_path, hf, listing))
    failed = [report for report in result.sources if report.status == "failed"]
    assert [report.source for report in failed] == [hf]
    assert failed[0].error == (
        f"unexpected error while recording {hf}: IntegrityError: refused by the test trigger"
    )
    db = history.open_history(tmp_path / "digest.db")
    rows = db.execute(
        "SELECT count(*) FROM sightings s JOIN sighting_sources k ON k.id = s.source_id "
        "WHERE k.source = ?",
        (hf,),
    ).fetchone()
    db.close()
    assert rows == (0,)  # the failed source's transaction was rolled back whole
    assert any(r.status == "ok" and r.novel for r in result.sources if r.source == listing)


@pytest.mark.parametrize("exception", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_is_not_swallowed_as_a_source_failure(
    tmp_path: Path, exception: type[BaseException]
) -> None:
    def interrupted(request: httpx.Request) -> httpx.Response:
        raise exception()

    with pytest.raises(exception):
        run_once(settings_for(tmp_path, BROKEN), httpx.MockTransport(interrupted))
