"""The operator's side through the real `digest` command in a subprocess.

Quiet when all is well, named and hinted when it is not, and a JSON object
wherever a script looks. Every run takes its time from DIGEST_CLOCK (a fixed
Monday), never from the machine's clock.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from digest.clock import CLOCK_VARIABLE
from tests.servers import PageServer, Reply, SmtpSink
from tests.web_server import EXAMPLES, MONDAY

HF_DAY = EXAMPLES / "hf-daily-2025-03-12.json"


def digest(
    cwd: Path, *args: str, env: dict[str, str] | None = None, now: datetime = MONDAY
) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    environment[CLOCK_VARIABLE] = now.isoformat()
    environment["DIGEST_HTTP_HOST_INTERVAL"] = "0"
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def as_json(done: subprocess.CompletedProcess[str], expect: int = 0) -> Any:
    assert done.returncode == expect, done.stdout + done.stderr
    return json.loads(done.stdout)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Quiet success


def test_a_good_run_writes_nothing_to_stderr(tmp_path: Path) -> None:
    done = digest(tmp_path, "run", "--source", str(HF_DAY))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "8 new paper(s)" in done.stdout


def test_quiet_prints_nothing_at_all_when_all_went_well(tmp_path: Path) -> None:
    done = digest(tmp_path, "-q", "run", "--source", str(HF_DAY))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_quiet_prints_only_the_failure(tmp_path: Path) -> None:
    missing = tmp_path / "gone.json"
    done = digest(tmp_path, "-q", "run", "--source", str(HF_DAY), "--source", str(missing))
    assert done.returncode == 1
    assert str(missing) in done.stdout and "FAILED" in done.stdout
    assert str(HF_DAY) not in done.stdout  # the source that worked is not mentioned
    assert "new paper(s)" not in done.stdout


def test_a_quiet_run_still_says_what_it_delivered_from_earlier(tmp_path: Path) -> None:
    """A reader who joins after the day's mail gets it on the next run, which has nothing new."""
    assert digest(tmp_path, "run", "--source", str(HF_DAY)).returncode == 0
    assert digest(tmp_path, "subscribers", "add", "ada@example.org").returncode == 0
    done = digest(tmp_path, "run", "--source", str(HF_DAY))
    assert done.returncode == 0, done.stderr
    assert "Nothing new today: no newsletter this run. 1 message(s) queued earlier delivered." in (
        done.stdout
    )
    again = digest(tmp_path, "run", "--source", str(HF_DAY))
    assert "Nothing new today: no newsletter this run. Feed:" in again.stdout


def test_verbose_says_each_stage_on_stderr(tmp_path: Path) -> None:
    done = digest(tmp_path, "-v", "run", "--source", str(HF_DAY))
    assert done.returncode == 0
    assert "INFO" in done.stderr and "8 found, 8 novel" in done.stderr


# Names where the operator looks


def test_a_source_name_appears_in_run_status_and_their_json(tmp_path: Path) -> None:
    shutil.copy(HF_DAY, tmp_path / "day.json")
    path = config(tmp_path, '[[sources]]\nurl = "day.json"\nname = "HF daily"\n')
    text = digest(tmp_path, "--config", str(path), "run")
    assert "HF daily (" in text.stdout
    ran = as_json(digest(tmp_path, "--config", str(path), "run", "--json"))
    assert ran["sources"][0]["name"] == "HF daily"
    assert ran["sources"][0]["source"] == str(tmp_path / "day.json")
    status = as_json(digest(tmp_path, "--config", str(path), "status", "--json"))
    assert status["sources"][0]["name"] == "HF daily"
    assert status["runs"][0]["sources"][0]["name"] == "HF daily"
    assert "HF daily (" in digest(tmp_path, "--config", str(path), "status").stdout


# Config mistakes


def test_an_unknown_key_suggests_the_closest_one(tmp_path: Path) -> None:
    path = config(tmp_path, '[mail]\nfrom_adress = "Lab <lab@example.org>"\n')
    done = digest(tmp_path, "--config", str(path), "run")
    assert done.returncode == 2
    assert "did you mean 'from_address'?" in done.stderr
    assert "window_days" not in done.stderr  # not the list of every key
    assert f"{path}:2" in done.stderr


def test_an_unknown_source_key_or_section_suggests_the_closest_one(tmp_path: Path) -> None:
    path = config(tmp_path, '[[sources]]\nurl = "x.json"\nnmae = "X"\n')
    done = digest(tmp_path, "--config", str(path), "run")
    assert done.returncode == 2 and "'nmae': did you mean 'name'?" in done.stderr
    path = config(tmp_path, "[mial]\noperator = 'me@example.org'\n")
    done = digest(tmp_path, "--config", str(path), "run")
    assert done.returncode == 2 and "unknown section [mial] (did you mean 'mail'?)" in done.stderr


def test_relative_paths_in_a_config_mean_beside_the_config_file(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "digest"
    (etc / "listings").mkdir(parents=True)
    shutil.copy(HF_DAY, etc / "listings" / "day.json")
    config(etc, 'data_dir = "state"\n\n[[sources]]\nurl = "listings/day.json"\n')
    elsewhere = tmp_path / "somewhere" / "else"
    done = digest(elsewhere, "--config", "../../etc/digest/digest.toml", "run", "--json")
    report = as_json(done)
    assert report["sources"][0]["status"] == "ok" and report["novel"] == 8
    assert (etc / "state" / "digest.db").exists()
    assert not (elsewhere / "state").exists() and not (elsewhere / "digest-data").exists()


def test_a_missing_relative_source_is_named_by_its_absolute_path(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    config(etc, '[[sources]]\nurl = "listings/missing.json"\n')
    done = digest(tmp_path / "cwd", "--config", "../etc/digest.toml", "--data-dir", "d", "run")
    assert done.returncode == 1
    assert str(etc / "listings" / "missing.json") in done.stdout


def test_a_misspelled_scheme_is_named_not_taken_for_a_file(tmp_path: Path) -> None:
    path = config(tmp_path, '[[sources]]\nurl = "htps://arxiv.org/list/cs.LG/new"\n')
    done = digest(tmp_path, "--config", str(path), "run")
    assert done.returncode == 2
    assert "unknown scheme 'htps': did you mean https://?" in done.stderr
    assert "no such file" not in done.stderr
    done = digest(tmp_path, "run", "--source", "htps://arxiv.org/list/cs.LG/new")
    assert done.returncode == 2 and "unknown scheme 'htps'" in done.stderr


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[[sources]]\nurl = https://arxiv.org/list/cs.LG/new\n", 2, "a URL must be quoted"),
        ('[site]\ntitle = "Lab papers\n', 2, "unclosed string"),
        ("[site]\ntitle = Lab\n", 2, "text must be quoted"),
        ("[mail\noperator = 'a@b.org'\n", 1, "unclosed table name"),
    ],
)
def test_toml_syntax_errors_are_said_in_words_with_the_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = config(tmp_path, text)
    done = digest(tmp_path, "--config", str(path), "run")
    assert done.returncode == 2
    assert f"{path}:{line}: not valid TOML at line {line}: {words}" in done.stderr


# --json on every reporting command

LAB = """\
[mail]
smtp_url = "maildir:outbox"

[[sources]]
url = "day.json"
name = "HF daily"

[[topics]]
slug = "llm"
title = "Language models"
query = "language OR LLM*"
"""


def lab(tmp_path: Path, text: str = LAB) -> Path:
    shutil.copy(HF_DAY, tmp_path / "day.json")
    return config(tmp_path, text)


def test_every_json_output_parses_back(tmp_path: Path) -> None:
    path = lab(tmp_path)

    def cli(*args: str, expect: int = 0) -> Any:
        return as_json(digest(tmp_path, "--config", str(path), *args), expect)

    for reader in (("ada@example.org", "--topics", "llm"), ("bob@example.org", "--frequency",
                   "weekly", "--weekday", "fri")):  # fmt: skip
        added = digest(tmp_path, "--config", str(path), "subscribers", "add", *reader)
        assert added.returncode == 0, added.stderr
    ran = cli("run", "--json")
    assert ran["deliveries"]["sent"] == 1 and ran["sources"][0]["name"] == "HF daily"
    preview = cli("preview", "--json")  # ada has had hers; bob's comes on Friday
    assert preview["to"] == "bob@example.org" and preview["due"] == "2026-12-04"
    assert preview["papers"] == 8 and preview["subject"] and "KV-Cache" in preview["text"]
    assert cli("status", "--json")["deliveries"]["sent"] == 1
    found = cli("search", "LLM*", "--json")
    assert found["query"] == "LLM*" and found["papers"]
    assert {"title", "reason", "score", "first_seen"} <= found["papers"][0].keys()
    topics = cli("topics", "list", "--json")
    assert topics["topics"][0]["slug"] == "llm" and topics["topics"][0]["readers"] == 1
    assert topics["orphaned"] == []
    tested = cli("topics", "test", "llm", "--days", "3", "--json")
    assert tested["topic"] == "llm" and tested["total"] == len(tested["papers"]) > 0
    readers = cli("subscribers", "list", "--json")
    assert [r["email"] for r in readers["readers"]] == ["ada@example.org", "bob@example.org"]
    assert readers["readers"][0]["topics"] == ["llm"] and readers["readers"][1]["weekday"] == "fri"
    assert cli("send", "--json") == {
        "sent": 0, "retry": 0, "failed": 0, "skipped": 0, "errors": [], "reasons": [],
    }  # fmt: skip
    backfilled = cli("backfill", "--since", "2026-11-29", "--json")
    assert backfilled["fetches"][0]["name"] == "HF daily" and backfilled["stopped"] is None


# Delivery failures


def test_a_dead_relay_is_said_in_one_line_and_status_names_digest_send(tmp_path: Path) -> None:
    port = closed_port()
    env = {"DIGEST_MAIL_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=off"}
    done = digest(tmp_path, "--data-dir", "d", "run", "--source", str(HF_DAY), env=env)
    assert done.returncode == 1
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("delivery:")]
    assert f"cannot reach the relay 127.0.0.1:{port}" in line and "`digest send`" in line
    status = digest(tmp_path, "--data-dir", "d", "status", env=env)
    assert "1 to retry" in status.stdout
    assert f"cannot reach the relay 127.0.0.1:{port}" in status.stdout
    assert "run `digest send`" in status.stdout
    # status exits 1 while the newest run is the failed one.
    report = as_json(digest(tmp_path, "--data-dir", "d", "status", "--json", env=env), 1)
    (problem,) = report["deliveries"]["problems"]
    assert problem["status"] == "retry" and problem["count"] == 1
    assert report["deliveries"]["next_step"] == "digest send"
    with SmtpSink() as relay:
        sent = digest(tmp_path, "--data-dir", "d", "send", env={"DIGEST_MAIL_SMTP_URL": relay.url})
        assert sent.returncode == 0 and len(relay.messages) == 1
    after = as_json(digest(tmp_path, "--data-dir", "d", "status", "--json"), 1)
    assert after["deliveries"]["problems"] == [] and after["deliveries"]["next_step"] is None


def test_mail_refused_for_good_goes_again_only_when_the_operator_says_so(
    tmp_path: Path,
) -> None:
    """A relay that wanted a login refused every RCPT; once fixed, --retry-failed sends them."""
    readers = ("ada@example.org", "bob@example.org", "cy@example.org")
    for address in readers:
        assert digest(tmp_path, "--data-dir", "d", "subscribers", "add", address).returncode == 0
    with SmtpSink() as relay:
        env = {"DIGEST_MAIL_SMTP_URL": relay.url}
        relay.rcpt_script = lambda address, attempt: "554 5.7.1 Relay access denied"
        done = digest(tmp_path, "--data-dir", "d", "run", "--source", str(HF_DAY), env=env)
        assert done.returncode == 1 and "3 failed" in done.stdout
        status = digest(tmp_path, "--data-dir", "d", "status", env=env).stdout
        assert "`digest send --retry-failed` sends them again" in status
        remove = ("subscribers", "remove", "cy@example.org")
        assert digest(tmp_path, "--data-dir", "d", *remove).returncode == 0

        relay.rcpt_script = None  # the operator configured the login
        plain = digest(tmp_path, "--data-dir", "d", "send", env=env)
        assert plain.returncode == 0 and relay.messages == [], "failed stays failed unless asked"
        again = digest(tmp_path, "--data-dir", "d", "send", "--retry-failed", env=env)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "2 failed message(s) queued again." in again.stdout
        assert sorted(relay.recipients()) == ["ada@example.org", "bob@example.org"]
        once_more = digest(tmp_path, "--data-dir", "d", "send", "--retry-failed", env=env)
        assert "0 failed message(s) queued again." in once_more.stdout
        assert len(relay.messages) == 2, "nothing twice"


# Orphaned topics


def test_a_reader_of_a_removed_topic_is_shown_and_gets_nothing_by_default(tmp_path: Path) -> None:
    path = lab(tmp_path)
    add = ("subscribers", "add", "ada@example.org", "--topics", "llm")
    assert digest(tmp_path, "--config", str(path), *add).returncode == 0
    path.write_text(LAB.split("[[topics]]")[0], encoding="utf-8")  # the topic is gone
    listed = digest(tmp_path, "--config", str(path), "subscribers", "list")
    assert "orphaned topic(s) llm: get none of it" in listed.stdout
    topics = digest(tmp_path, "--config", str(path), "topics", "list")
    assert "llm\tORPHANED" in topics.stdout
    ran = as_json(digest(tmp_path, "--config", str(path), "run", "--json"), expect=0)
    assert ran["deliveries"] == {**ran["deliveries"], "sent": 0, "skipped": 1}
    status = as_json(digest(tmp_path, "--config", str(path), "status", "--json"))
    assert status["orphaned_topics"] == [
        {"slug": "llm", "readers": ["ada@example.org"], "policy": "none"}
    ]
    assert "Orphaned topics" in digest(tmp_path, "--config", str(path), "status").stdout


def test_orphaned_topics_all_sends_the_reader_everything(tmp_path: Path) -> None:
    path = lab(tmp_path)
    add = ("subscribers", "add", "ada@example.org", "--topics", "llm")
    assert digest(tmp_path, "--config", str(path), *add).returncode == 0
    without = LAB.split("[[topics]]")[0].replace("[mail]\n", '[mail]\norphaned_topics = "all"\n')
    path.write_text(without, encoding="utf-8")
    ran = as_json(digest(tmp_path, "--config", str(path), "run", "--json"))
    assert ran["deliveries"]["sent"] == 1


# Preview


def test_preview_to_a_non_reader_says_so(tmp_path: Path) -> None:
    path = lab(tmp_path)
    add = ("subscribers", "add", "ada@example.org")
    assert digest(tmp_path, "--config", str(path), *add).returncode == 0
    done = digest(tmp_path, "--config", str(path), "preview", "--to", "bob@example.org")
    assert done.returncode == 2 and "bob@example.org is not a reader" in done.stderr


def test_preview_shows_a_weekly_readers_mail_on_their_day(tmp_path: Path) -> None:
    path = lab(tmp_path)
    add = ("subscribers", "add", "ada@example.org", "--frequency", "weekly", "--weekday", "fri")
    assert digest(tmp_path, "--config", str(path), *add).returncode == 0
    ran = as_json(digest(tmp_path, "--config", str(path), "run", "--json"))  # on a Monday
    assert ran["emails"] == 0
    shown = digest(tmp_path, "--config", str(path), "preview")
    assert shown.returncode == 0
    assert "Next mail: to ada@example.org on Friday 2026-12-04, 8 paper(s)." in shown.stdout
    assert "KV-Cache Compression" in shown.stdout


def test_preview_writes_nothing_not_even_the_signing_secret(tmp_path: Path) -> None:
    data = ("--data-dir", "d")
    weekly = ("--frequency", "weekly", "--weekday", "fri")
    added = digest(tmp_path, *data, "subscribers", "add", "ada@example.org", *weekly)
    assert added.returncode == 0, added.stderr
    assert digest(tmp_path, *data, "run", "--source", str(EXAMPLES)).returncode == 0
    secret = tmp_path / "d" / "secret.key"
    secret.unlink(missing_ok=True)
    shown = digest(tmp_path, *data, "preview", "--to", "ada@example.org")
    assert shown.returncode == 0, shown.stderr
    assert "Next mail: to ada@example.org" in shown.stdout
    assert not secret.exists(), "a preview signs no link, so it needs no secret"


# Backfill


def test_backfill_stops_at_the_first_connection_failure(tmp_path: Path) -> None:
    source = f"http://127.0.0.1:{closed_port()}/api/daily_papers"
    args = ("--data-dir", "d", "backfill", "--since", "2026-11-27", "--source", source)
    done = digest(tmp_path, *args, env={"DIGEST_HTTP_RETRIES": "0"})
    assert done.returncode == 1
    lines = [line for line in done.stdout.splitlines() if line.startswith("  [")]
    assert lines == [lines[0]] and lines[0].startswith("  [1/4] 2026-11-27  failed")
    assert "cannot connect to" in done.stderr
    assert "Stopped at the first connection failure; 3 fetch(es) not tried" in done.stderr
    report = as_json(digest(tmp_path, *args, "--json", env={"DIGEST_HTTP_RETRIES": "0"}), 1)
    assert len(report["fetches"]) == 1 and report["not_tried"] == 3
    assert "cannot connect to" in report["stopped"]


def test_backfill_prints_one_line_per_day(tmp_path: Path) -> None:
    with PageServer() as server:
        for day in ("2026-11-29", "2026-11-30"):
            server.route(f"/api/daily_papers?date={day}&limit=100", Reply(HF_DAY.read_bytes()))
        args = ("backfill", "--since", "2026-11-29", "--source", server.url("/api/daily_papers"))
        done = digest(tmp_path, "--data-dir", "d", *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert [line.split("  ")[1] for line in done.stdout.splitlines() if line.startswith("  [")] == [
        "[1/2] 2026-11-29",
        "[2/2] 2026-11-30",
    ]


# serve


def test_serve_on_a_busy_port_exits_2_saying_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = digest(tmp_path, "--data-dir", "d", "serve", "--port", str(port), "--no-schedule")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"digest: port {port} is in use (another `digest serve`?); choose one with --port"
    )


def test_serve_says_where_it_listens_once_and_logs_requests(tmp_path: Path) -> None:
    import httpx

    port = closed_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    environment.update({CLOCK_VARIABLE: MONDAY.isoformat(), "DIGEST_DATA_DIR": str(tmp_path)})
    environment["DIGEST_SITE_BASE_URL"] = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--port", str(port), "--no-schedule"],
        cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(300):  # bounded: about 60 s
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code in (200, 503):
                    break
            except httpx.TransportError:
                if server.poll() is not None:
                    break  # it exited: its stderr says why
                time.sleep(0.2)
        else:
            pytest.fail("digest serve did not come up")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    lines = stderr.splitlines()
    assert [line for line in lines if "127.0.0.1" in line and "Serving" in line] == [
        f"Serving http://127.0.0.1:{port}"
    ]
    assert not any("Uvicorn running" in line for line in lines)
    assert any("GET /healthz" in line for line in lines)
