"""The operator's view: `digest status` tells a quiet day from a broken run; backfill seeds history."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from digest import history
from digest.cli import main
from digest.clock import CLOCK_VARIABLE
from digest.config import SourceConfig, load_settings
from digest.pipeline.backfill import Fetch, backfill, expand
from tests.conftest import NOW
from tests.servers import PageServer, Reply

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIXTURES = Path(__file__).parents[1] / "fixtures"


def cli(tmp_path: Path, *args: str) -> Any:
    """The command in-process, on a clean environment and the fixed clock (a Wednesday)."""
    env = {key: "" for key in os.environ if key.startswith("DIGEST_")}
    env |= {"DIGEST_CONFIG": "", CLOCK_VARIABLE: NOW.isoformat()}
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path), *args], env=env)


def test_status_shows_runs_sources_deliveries_and_the_next_run(tmp_path: Path) -> None:
    assert cli(tmp_path, "run", "--source", str(EXAMPLES)).exit_code == 0
    assert cli(tmp_path, "run", "--source", str(tmp_path / "missing.json")).exit_code == 1
    result = cli(tmp_path, "status", "--json")
    assert result.exit_code == 1, "the newest run failed"
    report = json.loads(result.output)
    assert [run["status"] for run in report["runs"]] == ["failed", "ok"]
    missing = next(s for s in report["sources"] if s["source"].endswith("missing.json"))
    assert missing["consecutive_failures"] == 1 and "no such file" in missing["last_error"]
    assert missing["last_success"] is None
    assert report["deliveries"]["sent"] == 1
    assert report["next_run"] and report["running"] is None
    text = cli(tmp_path, "status").output
    assert "Recent runs" in text and "no such file" in text and "next run:" in text


def test_a_quiet_day_reads_differently_from_a_broken_one(tmp_path: Path) -> None:
    cli(tmp_path, "run", "--source", str(FIXTURES / "arxiv_rss_weekend.xml"))
    report = json.loads(cli(tmp_path, "status", "--json").output)
    (source,) = report["runs"][0]["sources"]
    assert source["status"] == "empty" and "no announcement" in source["reason"].lower()
    assert report["runs"][0]["status"] == "ok"


def test_backfill_expands_each_source_kind() -> None:
    hf = SourceConfig("https://huggingface.co/api/daily_papers?limit=100")
    days = expand(hf, date(2025, 3, 10), date(2025, 3, 12))
    assert [d.source.url for d in days] == [
        f"https://huggingface.co/api/daily_papers?limit=100&date=2025-03-{day}"
        for day in (10, 11, 12)
    ]
    (recent,) = expand(
        SourceConfig("https://arxiv.org/list/cs.LG/new"), date(2025, 3, 1), date(2025, 3, 12)
    )
    assert recent.source.url == "https://arxiv.org/list/cs.LG/recent?show=2000"
    assert [d.day for d in days] == [date(2025, 3, day) for day in (10, 11, 12)]
    feed = SourceConfig("https://rss.arxiv.org/rss/cs.LG")
    assert expand(feed, date(2025, 3, 1), date(2025, 3, 12)) == [Fetch(feed)]


def test_backfill_records_past_days_as_seen_so_the_first_run_mails_nothing_old(
    tmp_path: Path,
) -> None:
    day = (EXAMPLES / "hf-daily-2025-03-12.json").read_bytes()
    with PageServer() as server:
        for number in (10, 11, 12):
            body = day if number == 12 else b"[]"
            server.route(f"/api/daily_papers?date=2025-03-{number}&limit=100", Reply(body))
        settings = load_settings(
            None, environ={"DIGEST_DATA_DIR": str(tmp_path), "DIGEST_HTTP_HOST_INTERVAL": "0"}
        )
        settings = replace(settings, sources=(SourceConfig(server.url("/api/daily_papers")),))
        result = backfill(settings, date(2025, 3, 10), today=date(2025, 3, 12))
    assert result.errors == () and result.found == result.recorded == 8
    db = history.open_history(tmp_path / "digest.db")
    assert db.execute("select count(*) from papers where state = 'skipped'").fetchone()[0] == 8
    db.close()
    # The same papers listed again are not news, so nobody is mailed about them.
    again = cli(tmp_path, "run", "--json", "--source", str(EXAMPLES / "hf-daily-2025-03-12.json"))
    assert json.loads(again.output)["emails"] == 0
