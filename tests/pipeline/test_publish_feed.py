"""feed.atom is rendered only when what it shows changed; otherwise the run skips the render."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest import history
from digest.config import Settings, load_settings
from digest.model import Paper
from digest.pipeline import run as pipeline_run
from digest.pipeline.run import publish_feed

NOW = datetime(2025, 3, 21, 12, 0, tzinfo=UTC)


def settings_in(folder: Path, **environ: str) -> Settings:
    return load_settings(
        None,
        environ={"DIGEST_DATA_DIR": str(folder), "DIGEST_SITE_BASE_URL": "https://papers.example.org",
                 **environ},
    )  # fmt: skip


def record(settings: Settings, *papers: Paper) -> None:
    db = history.open_history(settings.data_dir / "digest.db")
    try:
        history.record_sightings(
            db, list(papers), source="test", run_id=None, now=NOW - timedelta(hours=1),
            tag_authority="example.org",
        )  # fmt: skip
    finally:
        db.close()


def publish(settings: Settings) -> bytes:
    db = history.open_history(settings.data_dir / "digest.db")
    try:
        return publish_feed(settings, db, NOW).read_bytes()
    finally:
        db.close()


def refuse_to_render(*args: object, **kwargs: object) -> bytes:
    raise AssertionError("the feed was rendered although nothing it shows changed")


def test_nothing_changed_means_no_render_and_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_in(tmp_path)
    record(settings, Paper("Sparse replay buffers", arxiv_id="2503.08123"))
    first = publish(settings)
    stat = settings.data_dir.joinpath("feed.atom").stat()
    monkeypatch.setattr(pipeline_run, "render_feed", refuse_to_render)
    assert publish(settings) == first
    assert settings.data_dir.joinpath("feed.atom").stat().st_mtime_ns == stat.st_mtime_ns


def test_a_new_paper_a_changed_paper_or_a_changed_setting_renders_again(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    record(settings, Paper("Sparse replay buffers", arxiv_id="2503.08123"))
    first = publish(settings)
    record(settings, Paper("Tokenizer-free speech models", arxiv_id="2503.07911"))
    second = publish(settings)
    assert b"Tokenizer-free speech models" in second and second != first
    record(settings, Paper("Sparse replay buffers", arxiv_id="2503.08123", upvotes=41))
    third = publish(settings)
    assert b"41" in third and third != second
    retitled = settings_in(tmp_path, DIGEST_SITE_TITLE="Replay papers")
    assert b"Replay papers" in publish(retitled)


def test_a_deleted_feed_is_written_again_whatever_the_inputs_say(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    record(settings, Paper("Sparse replay buffers", arxiv_id="2503.08123"))
    first = publish(settings)
    settings.data_dir.joinpath("feed.atom").unlink()
    assert publish(settings) == first
