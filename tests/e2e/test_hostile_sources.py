"""Hostile values from a source, end to end: the real `digest run` against HTTP and SMTP on 127.0.0.1.

Each test serves one hostile answer as the only bad thing beside a healthy
source (an arXiv Atom feed). The bad item, or the bad source, fails alone: the
healthy source is recorded and mailed. Then two more runs, on the next two
days, with good answers: both succeed and both mail (a value stored on the
first day must not wedge the runs after it). Finally the refusal of a 0-byte
database, which must never become a new, empty history.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digest.clock import CLOCK_VARIABLE
from tests.e2e.test_end_to_end import digest_cli
from tests.e2e.test_sources_faults import PARTNER_IDS, Run, run_digest, serve_partner
from tests.servers import PageServer, Reply, SmtpSink, page_server

DAY_ONE = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
HF_PATH = "/api/daily_papers"
BAD_ID = "2503.09001"  # the hostile item
PLAIN_ID = "2503.09002"  # an ordinary item in the same answer
PARTNER_TITLE = "Monotone Probes for Reward Models"


def item(arxiv_id: str, title: str, **fields: Any) -> dict[str, Any]:
    outer = {"numComments": fields.pop("numComments")} if "numComments" in fields else {}
    paper = {
        "id": arxiv_id,
        "title": title,
        "summary": "An abstract.",
        "publishedAt": "2025-03-11T17:58:02.000Z",
        "upvotes": 3,
        "authors": [{"name": "Ada Lovelace"}],
    }
    return {"paper": {**paper, **fields}, **outer}


def answer(*items: dict[str, Any]) -> bytes:
    return json.dumps(list(items)).encode()  # \ud800 travels escaped, as JSON allows


def with_bad(**fields: Any) -> Reply:
    return Reply(answer(item(BAD_ID, "Hostile item", **fields), item(PLAIN_ID, "Plain item")))


# name -> (what the HF route serves on day one, the column of the bad item that must be
# NULL, whether the boundary warns: a float count never reaches it, the parser reads no float)
VALUES: dict[str, tuple[Callable[[], Reply], str, bool]] = {
    "upvotes -1": (lambda: with_bad(upvotes=-1), "upvotes", True),
    "upvotes -1000000": (lambda: with_bad(upvotes=-1_000_000), "upvotes", True),
    "numComments -5": (lambda: with_bad(numComments=-5), "comments", True),
    "upvotes 2**63": (lambda: with_bad(upvotes=2**63), "upvotes", True),
    "numComments 10**30": (lambda: with_bad(numComments=10**30), "comments", True),
    "numComments 1e30": (lambda: with_bad(numComments=1e30), "comments", False),
    "publishedAt 0001-01-01": (lambda: with_bad(publishedAt="0001-01-01T00:00:00.000Z"), "published", True),
    "publishedAt 0999-12-31": (lambda: with_bad(publishedAt="0999-12-31T00:00:00.000Z"), "published", True),
}  # fmt: skip

# name -> (what the HF route serves on day one, what the failed source's error says)
BROKEN_SOURCES: dict[str, tuple[Callable[[], Reply], str]] = {
    "JSON nested 200,000 deep": (
        lambda: Reply(b"[" * 200_000 + b"]" * 200_000),
        "JSON nested too deeply",
    ),
    "302 to javascript:": (
        lambda: Reply(status=302, headers={"Location": "javascript:alert(document.cookie)"}),
        "redirected to a Location that is not a valid http(s) URL",
    ),
    "302 to data:": (
        lambda: Reply(status=302, headers={"Location": "data:text/html,<script>x</script>"}),
        "redirected to a Location that is not a valid http(s) URL",
    ),
    "302 to file://": (
        lambda: Reply(status=302, headers={"Location": "file:///etc/passwd"}),
        "redirected to 'file:///etc/passwd', which is not an http(s) URL",
    ),
    "302 to ftp://": (
        lambda: Reply(status=302, headers={"Location": "ftp://127.0.0.1/listing"}),
        "redirected to 'ftp://127.0.0.1/listing', which is not an http(s) URL",
    ),
}


@pytest.fixture
def servers() -> Iterator[tuple[PageServer, SmtpSink]]:
    with page_server() as pages, SmtpSink() as relay:
        yield pages, relay


def run_day(
    workdir: Path, pages: PageServer, relay: SmtpSink, day: int, *, expect: int
) -> tuple[Run, str]:
    """One `digest run --json` on day ``day`` (0, 1, 2); returns its report and the mail sent."""
    before = len(relay.messages)
    env = {
        CLOCK_VARIABLE: (DAY_ONE + timedelta(days=day)).isoformat(),
        "DIGEST_MAIL_SMTP_URL": relay.url,
        "DIGEST_MAIL_FROM_ADDRESS": "Paper digest <papers@example.org>",
        "DIGEST_SITE_BASE_URL": "https://digest.example.org",
    }
    sources = ({"url": pages.url(HF_PATH), "name": "hf"}, serve_partner(pages))
    run = run_digest(workdir, *sources, expect=expect, env=env)
    # Operator alerts (a source failing, or stale, or working again) may come too.
    mails = [m for m in relay.parsed()[before:] if "] source " not in m["Subject"]]
    assert len(mails) == 1, f"day {day}: {len(mails)} digests; log:\n{run.log}"
    return run, mails[0].get_body(("plain",)).get_content()


def good_days_after(workdir: Path, pages: PageServer, relay: SmtpSink) -> None:
    """Days two and three, with good answers: each run is ok and mails its new papers."""
    for day in (1, 2):
        title = f"Good paper of day {day + 1}"
        pages.route(HF_PATH, Reply(answer(item(f"2503.1000{day}", title))))
        run, text = run_day(workdir, pages, relay, day, expect=0)
        hf, partner = run.report["sources"]
        assert hf["status"] == "ok" and partner["status"] != "failed"  # same feed: stale
        assert title in text


def column_of(workdir: Path, column: str, arxiv_id: str) -> Any:
    with closing(sqlite3.connect(workdir / "data" / "digest.db")) as db:
        return db.execute(
            f"SELECT {column} FROM papers WHERE arxiv_id = ?", (arxiv_id,)
        ).fetchone()[0]


@pytest.mark.parametrize("name", sorted(VALUES))
def test_a_hostile_value_is_dropped_and_its_paper_kept(
    tmp_path: Path, servers: tuple[PageServer, SmtpSink], name: str
) -> None:
    pages, relay = servers
    reply, column, warned = VALUES[name]
    pages.route(HF_PATH, reply())
    run, text = run_day(tmp_path, pages, relay, 0, expect=0)
    hf, partner = run.report["sources"]
    assert (hf["status"], hf["found"], hf["novel"]) == ("ok", 2, 2)
    assert (partner["status"], partner["novel"]) == ("ok", len(PARTNER_IDS))
    assert column_of(tmp_path, column, BAD_ID) is None
    assert column_of(tmp_path, "title", PLAIN_ID) == "Plain item"
    if warned:  # the warning names the source, the paper and the field
        assert f"hf: '{BAD_ID}': {column} " in run.log
    assert PARTNER_TITLE in text and "Hostile item" in text
    good_days_after(tmp_path, pages, relay)


def test_a_lone_surrogate_is_replaced_and_the_paper_mailed(
    tmp_path: Path, servers: tuple[PageServer, SmtpSink]
) -> None:
    pages, relay = servers
    pages.route(HF_PATH, Reply(answer(item(BAD_ID, "Broken \ud800 text"))))
    run, text = run_day(tmp_path, pages, relay, 0, expect=0)
    assert run.report["sources"][0]["status"] == "ok"
    assert column_of(tmp_path, "title", BAD_ID) == "Broken \ufffd text"
    assert "Broken \ufffd text" in text and PARTNER_TITLE in text
    good_days_after(tmp_path, pages, relay)


@pytest.mark.parametrize("name", sorted(BROKEN_SOURCES))
def test_a_hostile_answer_fails_its_source_alone(
    tmp_path: Path, servers: tuple[PageServer, SmtpSink], name: str
) -> None:
    pages, relay = servers
    reply, message = BROKEN_SOURCES[name]
    pages.route(HF_PATH, reply())
    run, text = run_day(tmp_path, pages, relay, 0, expect=1)
    hf, partner = run.report["sources"]
    assert hf["status"] == "failed" and message in hf["error"]
    assert (partner["status"], partner["novel"]) == ("ok", len(PARTNER_IDS))
    asked = [r for r in pages.requests if r.path.startswith(HF_PATH)]
    assert len(asked) == 1  # failed at once: no retry, nothing followed
    assert PARTNER_TITLE in text
    good_days_after(tmp_path, pages, relay)


def test_a_zero_byte_database_is_refused_with_exit_2(tmp_path: Path) -> None:
    database = tmp_path / "data" / "digest.db"
    database.parent.mkdir(parents=True)
    database.touch()
    (tmp_path / "digest.toml").write_text('[[sources]]\nurl = "http://127.0.0.1:9/x"\n')
    done = digest_cli(tmp_path, "run", "--json")
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "the history database is empty (0 bytes" in done.stderr
    assert "restore your backup" in done.stderr and "digest check" in done.stderr
    assert "Traceback" not in done.stderr
    assert database.stat().st_size == 0  # still the operator's file, not a new history
