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


def test_alert_subjects_are_one_line_and_recovery_does_not_repeat_the_old_error(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "a-rather-long-folder-name-for-listings" / "saved-from-the-lab-server"
    folder.mkdir(parents=True)
    broken = folder / "huggingface-daily-papers-listing-saved-by-cron.json"
    broken.write_text('{"error": "Invalid date"}')
    with SmtpSink() as relay:
        settings = settings_for(tmp_path / "data", relay, DIGEST_SCHEDULE_ALERT_AFTER="1")
        settings = replace(settings, sources=(SourceConfig(str(broken), name="HF saved day"),))
        clock = Clock(datetime(2025, 3, 10, 7, 0, tzinfo=UTC))
        for _ in range(2):
            run(settings, runtime(settings, clock))
            clock.now += timedelta(days=1)
            broken.write_bytes(EXAMPLE.read_bytes())
        raws = [raw for _, _, raw in relay.messages if b"[Paper digest] source" in raw]
        assert len(raws) == 2
        for raw in raws:
            subject = raw.split(b"Subject: ", 1)[1]
            first, rest = subject.split(b"\r\n", 1)
            assert first.strip(), "never an empty first line"
            assert not rest.startswith((b" ", b"\t")), "not folded onto a second line"
        failing, recovered = [m for m in relay.parsed() if "] source " in m["Subject"]]
        assert failing["Subject"] == "[Paper digest] source failing for 1 runs: HF saved day"
        assert "Invalid date" in failing.get_content()
        assert recovered["Subject"] == "[Paper digest] source working again: HF saved day"
        assert "Invalid date" not in recovered.get_content()
        assert "Last error" not in recovered.get_content()
