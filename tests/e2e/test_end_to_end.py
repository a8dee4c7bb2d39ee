"""`digest run` end to end: the real CLI, a real HTTP server on 127.0.0.1, real SQLite and Maildir.

Nothing of ours is mocked. The CLI runs in a subprocess from the installed
package, so templates must ship in the wheel for these tests to pass.
"""

from __future__ import annotations

import json
import mailbox
import os
import re
import sqlite3
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import feedparser
import pytest

from digest.identity import title_key
from digest.sources import text as text_listing
from tests.servers import PageServer, Reply, page_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def digest_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "digest", "--data-dir", str(tmp_path / "data"), *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_json(
    tmp_path: Path, *args: str, expect: int = 0, env: dict[str, str] | None = None
) -> dict[str, Any]:
    done = digest_cli(tmp_path, "run", "--json", *args, env=env)
    assert done.returncode == expect, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def outbox(tmp_path: Path) -> list[Any]:
    box = mailbox.Maildir(tmp_path / "data" / "outbox", create=False)
    return [message_from_bytes(bytes(message), policy=policy.default) for message in box]


@pytest.mark.seeds
def test_the_seeds_served_over_http_are_diffed_in_order(tmp_path: Path, seeds: list[Path]) -> None:
    with page_server() as server:
        urls = [server.route(f"/saved/{seed.name}", Reply(seed.read_bytes())) for seed in seeds]
        report = run_json(tmp_path, *[arg for url in urls for arg in ("--source", url)])

    # What each seed should add: its papers minus every paper an earlier seed had.
    seen: set[str] = set()
    expected_novel = []
    for seed in seeds:
        keys = {
            paper.title_key for paper in text_listing.parse(seed.read_bytes(), seed.name).papers
        }
        expected_novel.append(len(keys - seen))
        seen |= keys
    assert [s["source"] for s in report["sources"]] == urls
    assert [s["status"] for s in report["sources"]] == ["ok"] * len(seeds)
    assert [s["novel"] for s in report["sources"]] == expected_novel
    assert report["novel"] == len(seen)
    assert sum(expected_novel) < sum(s["found"] for s in report["sources"]), "seeds share papers"

    db = sqlite3.Connection(tmp_path / "data" / "digest.db")
    assert db.execute("select count(*) from papers").fetchone()[0] == len(seen)

    feed = feedparser.parse((tmp_path / "data" / "feed.atom").read_bytes())
    assert not feed.bozo
    assert len(feed.entries) == len(seen)
    assert {title_key(entry.title) for entry in feed.entries} == seen
    assert all(entry.link.startswith("https://") for entry in feed.entries)

    (message,) = outbox(tmp_path)
    assert message["To"] == "operator@localhost"
    assert message.get_content_type() == "multipart/alternative"
    text_part = message.get_body(("plain",)).get_content()
    assert f"{len(seen)} new papers" in message["Subject"]
    # Ranked by digest.topics: more Hugging Face upvotes first; past 30 papers, a link.
    # (the reason is the meta line's last fact: "Org · 4 upvotes on HF, seen in …")
    found = [re.search(rf"(?m)(^ {{4}}|· ){n} upvotes on HF", text_part) for n in (4, 3, 2)]
    positions = [match.start() if match else -1 for match in found]
    assert -1 not in positions
    assert positions == sorted(positions)
    assert f"and {len(seen) - 30} more" in text_part


@pytest.mark.seeds
def test_a_second_run_over_the_same_seeds_finds_nothing_and_sends_nothing(
    tmp_path: Path, seeds: list[Path]
) -> None:
    args = [arg for seed in seeds for arg in ("--source", str(seed))]
    run_json(tmp_path, *args)
    feed_before = (tmp_path / "data" / "feed.atom").read_bytes()
    again = run_json(tmp_path, *args)
    assert again["novel"] == 0 and again["emails"] == 0
    assert all(s["novel"] == 0 for s in again["sources"])
    assert (tmp_path / "data" / "feed.atom").read_bytes() == feed_before
    assert len(outbox(tmp_path)) == 1


@pytest.mark.seeds
def test_a_resaved_copy_of_a_seed_is_not_new(tmp_path: Path, seeds: list[Path]) -> None:
    import unicodedata

    original = seeds[1].read_text(encoding="utf-8")
    resaved = unicodedata.normalize("NFD", original).replace("\n", "\r\n").replace(". ", ".  ")
    (tmp_path / "resaved.txt").write_text(resaved, encoding="utf-8", newline="")
    run_json(tmp_path, "--source", str(seeds[1]))
    assert run_json(tmp_path, "--source", str(tmp_path / "resaved.txt"))["novel"] == 0


def test_the_examples_folder_runs_the_whole_pipeline_offline(tmp_path: Path) -> None:
    report = run_json(tmp_path, "--source", str(EXAMPLES))
    (source,) = report["sources"]
    assert source["status"] == "ok" and source["novel"] > 0
    assert source["found"] > source["novel"], "the examples overlap, to show that papers are merged"
    assert len(outbox(tmp_path)) == 1


def test_a_failed_source_does_not_stop_the_others_and_exits_1(tmp_path: Path) -> None:
    with page_server() as server:
        good = server.route(
            "/api/daily_papers", Reply((EXAMPLES / "hf-daily-2025-03-12.json").read_bytes())
        )
        bad = server.route(
            "/papers/date/2025-03-12",
            Reply(b"<html><title>Log in</title><body>Sign in</body></html>"),
        )
        report = run_json(
            tmp_path, "--source", bad, "--source", good + "?date=2025-03-12", expect=1
        )
    failed, ok = report["sources"]
    assert failed["status"] == "failed" and "no data-props" in failed["error"]
    assert ok["status"] == "ok" and ok["novel"] > 0


def test_a_page_nobody_recognises_is_an_error_not_an_empty_day(tmp_path: Path) -> None:
    page = tmp_path / "mystery.html"
    page.write_text("<html><head><title>Something else</title></head><body><p>hi</p></body></html>")
    report = run_json(tmp_path, "--source", str(page), expect=1)
    assert "layout not recognised" in report["sources"][0]["error"]
    assert "Something else" in report["sources"][0]["error"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text("[feed]\nwindow_days = -1\n")
    done = digest_cli(tmp_path, "--config", str(tmp_path / "digest.toml"), "run")
    assert done.returncode == 2
    assert "digest.toml:2" in done.stderr and "feed.window_days" in done.stderr


def test_the_data_dir_can_come_from_the_environment(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    environment["DIGEST_DATA_DIR"] = str(tmp_path / "elsewhere")
    done = subprocess.run(
        [sys.executable, "-m", "digest", "run", "--source", str(EXAMPLES)],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "elsewhere" / "feed.atom").exists()


def test_server_recordings_and_pages_on_disk_read_the_same(tmp_path: Path) -> None:
    """Detection looks at path and content, never at the host: 127.0.0.1 is as good as the site."""
    payload = (EXAMPLES / "hf-papers-2025-03-13.html").read_bytes()
    with PageServer() as server:
        url = server.route("/papers/date/2025-03-13", Reply(payload))
        over_http = run_json(tmp_path / "a", "--source", url)
    on_disk = run_json(tmp_path / "b", "--source", str(EXAMPLES / "hf-papers-2025-03-13.html"))
    assert over_http["sources"][0]["kind"] == on_disk["sources"][0]["kind"] == "hf-page"
    assert over_http["novel"] == on_disk["novel"] > 0
