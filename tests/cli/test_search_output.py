"""`digest search` and `digest topics test` show what the sources said: TL;DR, links, categories."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from digest.cli import main
from digest.history import open_history, record_sightings
from digest.sources.arxiv import parse_listing
from digest.sources.hf import parse_api
from tests.conftest import NOW
from tests.support import fixture


def history_of_one_day(tmp_path: Path) -> Path:
    """A history holding a recorded arXiv listing and a recorded HF day (one paper in both)."""
    data = tmp_path / "data"
    db = open_history(data / "digest.db")
    for source, page in (
        (
            "https://arxiv.org/list/cs.LG/new",
            parse_listing(fixture("arxiv_list_cs.LG_new.html"), "https://arxiv.org/list/cs.LG/new"),
        ),
        (
            "https://huggingface.co/api/daily_papers",
            parse_api(
                fixture("hf_daily_papers_2025-03-12.json"),
                "https://huggingface.co/api/daily_papers?date=2025-03-12",
            ),
        ),
        (
            "https://huggingface.co/api/daily_papers",
            parse_api(
                fixture("hf_daily_papers_2025-06-18.json"),
                "https://huggingface.co/api/daily_papers?date=2025-06-18",
            ),
        ),
    ):
        record_sightings(
            db, list(page.papers), source=source, run_id=None, now=NOW, tag_authority="example.org"
        )
    db.close()
    return data


def cli(tmp_path: Path, *args: str) -> Any:
    config = tmp_path / "digest.toml"
    config.write_text('[[topics]]\nslug = "retrieval"\ntitle = "Retrieval"\nquery = "retrieval"\n')
    env = {key: "" for key in os.environ if key.startswith("DIGEST_")}
    return CliRunner().invoke(
        main,
        ["--config", str(config), "--data-dir", str(tmp_path / "data"), *args],
        env={**env, "DIGEST_CLOCK": NOW.isoformat()},
    )


def test_search_shows_the_tldr_and_every_link(tmp_path: Path) -> None:
    history_of_one_day(tmp_path)

    done = cli(tmp_path, "search", "replay")

    assert done.exit_code == 0, done.output
    lines = [line.strip() for line in done.stdout.splitlines()]
    assert lines[0] == "1. Sparse Replay Buffers for Continual Instruction Tuning"
    assert lines[1].startswith("2025-03-12 · arXiv:2503.08123 · cs.LG · relevance ")
    assert lines[3] == (
        "TL;DR: Sparse replay buffers recover most of the forgetting gap in continual "
        "instruction tuning."
    )
    assert lines[4] == (
        "Abstract https://arxiv.org/abs/2503.08123 · PDF https://arxiv.org/pdf/2503.08123 · "
        "Hugging Face https://huggingface.co/papers/2503.08123 · "
        "Code https://github.com/example-lab/sparse-replay (\u2605 128) · "
        "Project page https://sparse-replay.github.io"
    )


def test_search_shows_tex_as_readable_text(tmp_path: Path) -> None:
    history_of_one_day(tmp_path)

    done = cli(tmp_path, "search", "MapReduce")

    assert "1. LLM×MapReduce-V2: Entropy-Driven" in done.stdout  # noqa: RUF001
    assert "$" not in done.stdout and "\\" not in done.stdout


def test_search_json_has_every_field_and_nulls_for_what_no_source_gave(tmp_path: Path) -> None:
    history_of_one_day(tmp_path)

    done = cli(tmp_path, "search", "replay OR tokenizer", "--json")

    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["query"] == "replay OR tokenizer"
    by_id = {paper["arxiv_id"]: paper for paper in report["papers"]}
    replay = by_id["2503.08123"]
    assert replay["ai_summary"].startswith("Sparse replay buffers recover")
    assert replay["ai_keywords"] == ["continual learning", "instruction tuning", "replay buffer"]
    assert (replay["github_stars"], replay["primary_category"]) == (128, "cs.LG")
    assert replay["arxiv_comment"].startswith("14 pages, 5 figures")
    assert replay["featured_at"] == "2025-03-12T01:02:47+00:00"
    assert replay["links"] == {
        "abstract": "https://arxiv.org/abs/2503.08123",
        "pdf": "https://arxiv.org/pdf/2503.08123",
        "hugging_face": "https://huggingface.co/papers/2503.08123",
        "code": "https://github.com/example-lab/sparse-replay",
        "project": "https://sparse-replay.github.io",
        "thumbnail": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2503.08123.png",
    }
    speech = by_id["2503.07911"]  # a cross-list with no code and no TL;DR
    assert (speech["ai_summary"], speech["ai_keywords"], speech["github_stars"]) == (None, [], None)
    assert (speech["primary_category"], speech["listed_in"]) == ("eess.AS", "cs.LG")
    assert "code" not in speech["links"]


def test_topics_test_json_lists_the_picks_with_their_details(tmp_path: Path) -> None:
    history_of_one_day(tmp_path)

    done = cli(tmp_path, "topics", "test", "retrieval", "--days", "1", "--json")

    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert (report["topic"], report["total"]) == ("retrieval", 1)
    (paper,) = report["papers"]
    assert paper["title"] == "Reading the Boletín Oficial: Legal Text Retrieval for Spanish"
    assert paper["title_tex"] == "Reading the Bolet\\'in Oficial: Legal Text Retrieval for Spanish"
    assert paper["links"]["code"] == "https://github.com/example-legal/boe-retrieval"
    assert paper["reason"].startswith("matches")
