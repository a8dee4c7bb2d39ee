"""A command imports only what it uses: `digest --version` and `digest status` stay light.

Checked with ``python -X importtime`` (which lists every module a process
imports), not with a stopwatch: the heavy parts a command does not need must
not be imported at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from digest.cli import main
from digest.cli.group import COMMAND_MODULES
from tests.servers import Reply, page_server
from tests.web_server import EXAMPLES

# The scheduler service, the web app, mail rendering, the SMTP stack, address checks;
# the HTTP client.
HEAVY = ("apscheduler.schedulers", "starlette", "uvicorn", "jinja2", "css_inline", "smtplib",
         "email_validator", "feedgen", "feedparser", "lxml", "httpx")  # fmt: skip


def imported_by(tmp_path: Path, *args: str) -> set[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    env["DIGEST_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "digest", *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[-1].strip() for line in lines}


@pytest.mark.parametrize("args", [("--version",), ("status",)], ids=" ".join)
def test_a_light_command_imports_none_of_the_heavy_parts(tmp_path: Path, args: tuple[str]) -> None:
    modules = imported_by(tmp_path, *args)
    assert "digest.cli.group" in modules  # the check itself sees our imports
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)
    assert heavy == []


def test_status_loads_apscheduler_only_when_the_next_run_is_not_kept(tmp_path: Path) -> None:
    first = imported_by(tmp_path, "status")
    again = imported_by(tmp_path, "status")

    assert "apscheduler.triggers.cron" in first  # to compute when the schedule fires next
    assert not any(m.startswith("apscheduler") for m in again)  # next-run.json said it
    assert {"socket", "ssl", "asyncio"}.isdisjoint(again)  # which only APScheduler brought


# A run over a source that answered 304 parses, renders, mails and posts nothing.
NOT_USED_ON_A_304 = ("jinja2", "feedgen", "lxml", "css_inline", "apprise", "feedparser",
                     "email_validator", "pylatexenc", "apscheduler", "starlette", "uvicorn",
                     "selectolax", "tomllib", "difflib",
                     # the parsers: a 304 has no body
                     "digest.sources.feed", "digest.sources.arxiv", "digest.sources.hf",
                     # composing mail: the ranking for readers, the renderer, its serialiser,
                     # the operator's alert and the email policies
                     "digest.pipeline.compose", "digest.render.mail", "digest.render.bulk",
                     "digest.render.alert", "email.policy")  # fmt: skip


def test_a_run_answered_304_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    feed = (EXAMPLES / "arxiv-cs.LG.rss").read_bytes()
    with page_server() as server:
        url = server.route("/cs.LG.rss", Reply(feed, etag='"v1"'))
        imported_by(tmp_path, "run", "--source", url)  # reads it: the ETag is kept
        modules = imported_by(tmp_path, "run", "--source", url)
        answers = [request.headers.get("If-None-Match") for request in server.requests]

    assert answers == [None, '"v1"']  # so the second run was answered 304
    heavy = sorted(
        m for m in modules if m.split(".")[0] in NOT_USED_ON_A_304 or m in NOT_USED_ON_A_304
    )
    assert heavy == []


def test_every_command_is_found_by_name() -> None:
    for name in COMMAND_MODULES:
        command = main.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None and command.name == name
    assert set(main.commands) == set(COMMAND_MODULES)  # and no command is missing a name
