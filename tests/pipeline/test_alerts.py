"""The operator hears about a broken source once when it breaks and once when it recovers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.config import SourceConfig
from digest.pipeline.run import run
from tests.pipeline.test_delivery import Clock, runtime, settings_for
from tests.servers import SmtpSink

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hf-daily-2025-03-12.json"


def test_one_alert_after_two_failures_and_one_when_it_recovers(tmp_path: Path) -> None:
    broken = tmp_path / "listing.json"
    broken.write_text('{"error": "Invalid date"}')
    with SmtpSink() as relay:
        settings = settings_for(tmp_path / "data", relay, DIGEST_MAIL_OPERATOR="ops@example.org")
        settings = replace(settings, sources=(SourceConfig(str(broken)),))
        clock = Clock(datetime(2025, 3, 10, 7, 0, tzinfo=UTC))
        for _ in range(4):
            run(settings, runtime(settings, clock))
            clock.now += timedelta(days=1)
        alerts = [m for m in relay.parsed() if "source failing" in m["Subject"]]
        assert len(alerts) == 1, "one alert, not one per failed run"
        body = alerts[0].get_content()
        assert "failed 2 run(s) in a row" in body and "Invalid date" in body
        assert alerts[0]["To"] == "ops@example.org"

        broken.write_bytes(EXAMPLE.read_bytes())
        run(settings, runtime(settings, clock))
        run(settings, runtime(settings, clock))
        recovered = [m for m in relay.parsed() if "working again" in m["Subject"]]
        assert len(recovered) == 1
        assert "after 0 failed" not in recovered[0].get_content()
