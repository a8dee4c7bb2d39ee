"""Chat channels end to end: the real `digest` CLI posting through Apprise's json:// to a real receiver.

The receiver is an HTTP server on 127.0.0.1 (tests/servers.py) scripted per
path: "500, then 200". Every run happens at an injected instant
(``DIGEST_CLOCK``), so "two days of downtime" is two runs on two days.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from digest.clock import CLOCK_VARIABLE
from tests.servers import PageServer, Reply
from tests.web_server import MONDAY

TUESDAY, WEDNESDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
GRAPH_TITLE = "Graph Transformers Are Message Passers, Day {day}"


def listing(day: int, count: int = 3) -> str:
    """A text listing: title line, abstract line; one graph paper, the rest about pre-training."""
    papers = [(GRAPH_TITLE.format(day=day), "We study graph attention on molecules. It helps.")]
    papers += [
        (f"Scaling Pre-training Recipe {day}.{n}", "We pre-train a model on tables. It works.")
        for n in range(1, count)
    ]
    header = "Get trending papers in your email inbox!\nSubscribe\n"
    return header + "\n".join(f"{title}\n{abstract}" for title, abstract in papers) + "\n"


def write_config(tmp_path: Path, receiver: PageServer, *, combine: bool = False) -> Path:
    config = tmp_path / "digest.toml"
    port = receiver.base.rsplit(":", 1)[1]
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        '[site]\nbase_url = "https://papers.example.org"\n'
        '[[topics]]\nslug = "graphs"\ntitle = "Graphs"\nquery = "graph*"\n'
        f'[[channels]]\nname = "everything"\nurl = "json://127.0.0.1:{port}/all"\n'
        f"combine_missed = {str(combine).lower()}\n"
        '[[channels]]\nname = "graph-team"\nurl_env = "TEAM_HOOK"\ntopics = ["graphs"]\n',
        encoding="utf-8",
    )
    return config


def environment(receiver: PageServer, now: datetime) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    port = receiver.base.rsplit(":", 1)[1]
    env.update({CLOCK_VARIABLE: now.isoformat(), "TEAM_HOOK": f"json://127.0.0.1:{port}/team"})
    return env


def digest(
    config: Path, receiver: PageServer, now: datetime, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", "--config", str(config), *args],
        cwd=config.parent,
        env=environment(receiver, now),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_on(config: Path, receiver: PageServer, now: datetime, day: int) -> Any:
    (config.parent / "listing.txt").write_text(listing(day), encoding="utf-8")
    done = digest(config, receiver, now, "run", "--json", "--source", "listing.txt")
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def delivered(receiver: PageServer, path: str) -> list[dict[str, Any]]:
    """The posts the receiver answered 200 to, as Apprise's json:// sends them."""
    posts = [json.loads(r.body) for r in receiver.requests_for(path)]
    return [post for post, ok in zip(posts, receiver.answers[path], strict=True) if ok]


def ledger(tmp_path: Path) -> list[tuple[str, int, str, int]]:
    with sqlite3.connect(tmp_path / "data" / "digest.db") as db:
        return db.execute(
            "SELECT channel, digest_id, status, attempts FROM channel_posts ORDER BY channel, digest_id"
        ).fetchall()


class Receiver(PageServer):
    """The scripted server, remembering which status each POST got (200 or not, in order)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, list[bool]] = {}

    def _next(self, path: str) -> Reply:
        reply = super()._next(path)
        self.answers.setdefault(path, []).append(reply.status == 200)
        return reply


def receiver() -> Receiver:
    return Receiver()


def test_a_500_is_retried_and_each_digest_reaches_each_channel_exactly_once(
    tmp_path: Path,
) -> None:
    with receiver() as hook:
        hook.route("/all", Reply(b"busy", 500), Reply(b"ok"))
        hook.route("/team", Reply(b"ok"))
        config = write_config(tmp_path, hook)

        first = run_on(config, hook, MONDAY, day=1)
        assert first["channels"]["everything"]["retry"] == 1
        assert first["channels"]["graph-team"]["sent"] == 1
        sent = digest(config, hook, MONDAY + timedelta(minutes=5), "send")
        assert sent.returncode == 0, sent.stdout + sent.stderr
        again = run_on(config, hook, MONDAY + timedelta(hours=1), day=1)  # nothing new

    everything, team = delivered(hook, "/all"), delivered(hook, "/team")
    assert [post["title"] for post in everything] == ["3 new papers \u2014 Mon 30 Nov"]
    assert len(hook.requests_for("/all")) == 2  # the 500, then the one that arrived
    assert [post["title"] for post in team] == ["1 new paper \u2014 Mon 30 Nov"]
    message = team[0]["message"]
    assert GRAPH_TITLE.format(day=1) in message and "Pre-training" not in message
    assert "https://papers.example.org/digests/2026-11-30" in message
    assert "**[Scaling Pre-training Recipe 1.1](" in everything[0]["message"]
    assert again["digest_id"] is None and again["channels"]["everything"]["sent"] == 0
    assert ledger(tmp_path) == [("everything", 1, "sent", 2), ("graph-team", 1, "sent", 1)]


def test_after_two_days_of_downtime_each_missed_digest_is_posted_once_in_order(
    tmp_path: Path,
) -> None:
    with receiver() as hook:
        hook.route("/all", Reply(b"down", 503))
        hook.route("/team", Reply(b"down", 503))
        config = write_config(tmp_path, hook)
        run_on(config, hook, MONDAY, day=1)
        tuesday = run_on(config, hook, TUESDAY, day=2)
        assert tuesday["channels"]["everything"]["retry"] == 2  # Monday's again, Tuesday's waits
        hook.route("/all", Reply(b"ok"))
        hook.route("/team", Reply(b"ok"))
        run_on(config, hook, WEDNESDAY, day=3)

    titles = [post["title"] for post in delivered(hook, "/all")]
    assert titles == [
        "3 new papers \u2014 Mon 30 Nov",
        "3 new papers \u2014 Tue 1 Dec",
        "3 new papers \u2014 Wed 2 Dec",
    ]
    team = [post["message"] for post in delivered(hook, "/team")]
    assert [
        GRAPH_TITLE.format(day=day) in text for day, text in zip((1, 2, 3), team, strict=True)
    ] == [True] * 3
    # While down, only the oldest digest was tried: Tuesday's never went before Monday's.
    assert len(hook.requests_for("/all")) == 2 + 3


def test_combine_missed_makes_the_missed_digests_one_post(tmp_path: Path) -> None:
    with receiver() as hook:
        hook.route("/all", Reply(b"down", 503))
        hook.route("/team", Reply(b"ok"))
        config = write_config(tmp_path, hook, combine=True)
        run_on(config, hook, MONDAY, day=1)
        run_on(config, hook, TUESDAY, day=2)
        hook.route("/all", Reply(b"ok"))
        run_on(config, hook, WEDNESDAY, day=3)

    posts = delivered(hook, "/all")
    assert [post["title"] for post in posts] == ["9 new papers \u2014 Mon 30 Nov to Wed 2 Dec"]
    assert all(GRAPH_TITLE.format(day=day) in posts[0]["message"] for day in (1, 2, 3))
    assert [row[2] for row in ledger(tmp_path) if row[0] == "everything"] == ["sent"] * 3


def test_a_4xx_fails_the_post_and_keeps_the_answer(tmp_path: Path) -> None:
    with receiver() as hook:
        hook.route("/all", Reply(b'{"error": "invalid_token"}', 403))
        hook.route("/team", Reply(b"ok"))
        config = write_config(tmp_path, hook)
        report = run_on(config, hook, MONDAY, day=1)
        status = digest(config, hook, MONDAY, "status", "--json")
        resend = digest(config, hook, MONDAY, "send")

    assert report["channels"]["everything"]["failed"] == 1
    channels = {c["name"]: c for c in json.loads(status.stdout)["channels"]}
    assert channels["everything"]["failed"] == 1
    assert "HTTP 403" in channels["everything"]["last_error"]
    assert "invalid_token" in channels["everything"]["last_error"]
    assert channels["graph-team"]["sent"] == 1
    assert resend.returncode == 0 and len(hook.requests_for("/all")) == 1  # never retried


def test_kill_9_during_a_post_loses_nothing(tmp_path: Path) -> None:
    with receiver() as hook:
        # The receiver holds the first post for a while: the run is killed meanwhile.
        hook.route("/all", Reply(b"ok", stall=3.0), Reply(b"ok"))
        hook.route("/team", Reply(b"ok"))
        config = write_config(tmp_path, hook)
        (tmp_path / "listing.txt").write_text(listing(1), encoding="utf-8")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "digest",
                "--config",
                str(config),
                "run",
                "--source",
                "listing.txt",
            ],
            cwd=tmp_path,
            env=environment(hook, MONDAY),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not hook.requests_for("/all"):
            assert time.monotonic() < deadline and process.poll() is None, "no post arrived"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert ledger(tmp_path)[0][2] == "pending"  # the row outlived the process
        sent = digest(config, hook, MONDAY + timedelta(minutes=10), "send")

    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert [row[2] for row in ledger(tmp_path)] == ["sent", "sent"]
    # The post in flight at the kill may have arrived too: the one documented duplicate.
    titles = [json.loads(r.body)["title"] for r in hook.requests_for("/all")]
    assert titles == ["3 new papers \u2014 Mon 30 Nov"] * 2


def test_channels_list_and_test_post_without_touching_the_ledger(tmp_path: Path) -> None:
    with receiver() as hook:
        hook.route("/all", Reply(b"ok"))
        hook.route("/team", Reply(b"nope", 404))
        config = write_config(tmp_path, hook)
        run_on(config, hook, MONDAY, day=1)
        before = ledger(tmp_path)
        listed = digest(config, hook, MONDAY, "channels", "list", "--json")
        tested = digest(config, hook, MONDAY, "channels", "test", "everything", "--json")
        failed = digest(config, hook, MONDAY, "channels", "test", "graph-team")
        unknown = digest(config, hook, MONDAY, "channels", "test", "nobody")
        text = digest(config, hook, MONDAY, "channels", "list")

    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["everything"]["service"] == "JSON" and rows["everything"]["sent"] == 1
    assert (
        rows["graph-team"]["topics"] == ["graphs"] and rows["graph-team"]["url_env"] == "TEAM_HOOK"
    )
    assert rows["graph-team"]["failed"] == 1
    outcome = json.loads(tested.stdout)
    assert tested.returncode == 0 and outcome["sent"] is True
    assert outcome["title"] == "Test post: 3 new papers \u2014 Mon 30 Nov"
    assert delivered(hook, "/all")[-1]["title"].startswith("Test post:")
    assert failed.returncode == 1 and "HTTP 404" in failed.stderr
    assert unknown.returncode == 2 and "no channel 'nobody'" in unknown.stderr
    assert "everything  JSON  json://127.0.0.1" in text.stdout
    assert ledger(tmp_path) == before
