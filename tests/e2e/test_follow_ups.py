"""Follow-ups end to end: real `digest run` subprocesses, HF and arXiv served from 127.0.0.1, SMTP.

Day 1 announces paper X (no code) to the readers of the day. Later a listing
(passive) or the daily check (active) shows X with code, a v2, a venue, a
withdrawal or more upvotes: the next mail of each reader who received X says so
once, in its "Updates" section; a reader who never got X hears nothing, no run
tells anyone twice, and feed readers (feedparser, newsboat) keep one entry for X.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import feedparser
import httpx
import pytest

from digest.clock import CLOCK_VARIABLE
from digest.history import open_history
from digest.history.subscribers import find_subscriber
from digest.pipeline.reader_feeds import feed_urls
from digest.pipeline.site import site_tokens
from digest.web import create_app
from tests.e2e.test_channels_end_to_end import Receiver, delivered
from tests.e2e.test_newsboat import newsboat
from tests.servers import PageServer, Reply, SmtpSink
from tests.web_server import MONDAY, Clock, LiveServer, live_server

X, W, V, Y, Z = "2611.00001", "2611.00002", "2611.00003", "2611.00004", "2611.00005"
TITLES = {
    X: "Sparse replay buffers for continual instruction tuning",
    W: "Retrieval heads in long-context transformers",
    V: "A benchmark of seismic phase pickers",
    Y: "Diffusion priors for inverse rendering",
    Z: "Scaling laws for small data regimes",
}
REPO = "https://github.com/example-lab/sparse-replay"
DAY2, DAY3, DAY4 = (MONDAY + timedelta(days=n) for n in (1, 2, 3))


def hf_item(arxiv_id: str, **paper: Any) -> dict[str, Any]:
    """One item of /api/daily_papers as Hugging Face sends it (an outer object around ``paper``)."""
    inner = {
        "id": arxiv_id,
        "title": TITLES[arxiv_id],
        "summary": f"We study {TITLES[arxiv_id].lower()}.",
        "authors": [{"name": "Mina Okafor"}, {"name": "Wen Li"}],
        "publishedAt": "2026-11-27T17:00:00.000Z",
        "upvotes": 3,
        **paper,
    }
    return {"paper": inner, "title": inner["title"], "numComments": 0}


def hf_listing(*items: dict[str, Any]) -> Reply:
    return Reply(json.dumps(list(items)).encode(), headers={"Content-Type": "application/json"})


def hf_paper(arxiv_id: str, **paper: Any) -> Reply:
    """/api/papers/<id>: the paper object alone, its fields at the top level."""
    body = json.dumps(hf_item(arxiv_id, **paper)["paper"]).encode()
    return Reply(body, headers={"Content-Type": "application/json"})


def arxiv_entry(arxiv_id: str, version: int, *, comment: str = "", journal_ref: str = "") -> str:
    extra = f"<arxiv:comment>{escape(comment)}</arxiv:comment>" if comment else ""
    if journal_ref:
        extra += f"<arxiv:journal_ref>{escape(journal_ref)}</arxiv:journal_ref>"
    return f"""
  <entry>
    <id>http://arxiv.org/abs/{arxiv_id}v{version}</id>
    <updated>2026-11-30T17:00:00Z</updated>
    <published>2026-11-27T17:00:00Z</published>
    <title>{escape(TITLES[arxiv_id])}</title>
    <summary>We study {escape(TITLES[arxiv_id].lower())}, version {version}.</summary>
    <author><name>Mina Okafor</name></author>
    {extra}
    <link href="https://arxiv.org/abs/{arxiv_id}v{version}" rel="alternate" type="text/html"/>
    <arxiv:primary_category term="cs.LG"/> <category term="cs.LG"/>
  </entry>"""


def arxiv_answer(*entries: str) -> Reply:
    body = f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/query-hash</id>
  <title>arXiv Query: id_list</title>
  <updated>2026-12-01T07:00:00Z</updated>
  <opensearch:itemsPerPage>{len(entries)}</opensearch:itemsPerPage>
  <opensearch:totalResults>{len(entries)}</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>{"".join(entries)}
</feed>
"""
    return Reply(body.encode(), headers={"Content-Type": "application/atom+xml"})


class Home:
    """A digest home: digest.toml pointing at the page server and the SMTP sink."""

    def __init__(
        self, path: Path, server: PageServer, sink: SmtpSink, check: bool, extra: str = ""
    ) -> None:
        self.path = path
        self.config = path / "digest.toml"
        self.config.write_text(
            f"""data_dir = "{path / "data"}"
[site]
base_url = "https://digest.example.org"
[mail]
smtp_url = "{sink.url}"
from_address = "Paper digest <papers@example.org>"
[http]
host_interval = 0
retries = 0
[follow_ups]
check = {str(check).lower()}
hf_api_base = "{server.base}"
arxiv_api_base = "{server.base}"
[[sources]]
url = "{server.url("/api/daily_papers")}"
name = "Hugging Face"
"""
            + extra
        )

    def cli(self, *args: str, now: Any, env: dict[str, str] | None = None, exits: int = 0) -> str:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        environment[CLOCK_VARIABLE] = now.isoformat()
        environment.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "digest", "--config", str(self.config), *args],
            cwd=self.path, env=environment, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == exits, done.stdout + done.stderr
        return done.stdout

    def run(self, now: Any, env: dict[str, str] | None = None, exits: int = 0) -> dict[str, Any]:
        """``digest run --json`` at ``now``; ``exits=1``: a delivery is expected to fail."""
        report: dict[str, Any] = json.loads(
            self.cli("run", "--json", now=now, env=env, exits=exits)
        )
        return report


@pytest.fixture
def server() -> Iterator[PageServer]:
    with PageServer() as pages:
        yield pages


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as relay:
        yield relay


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def mails_to(sink: SmtpSink, address: str, since: int = 0) -> list[EmailMessage]:
    return [m for m in sink.parsed()[since:] if m["To"] and address in str(m["To"])]


def updates_of(message: EmailMessage) -> list[str]:
    """The lines of the text part's Updates section that say what happened."""
    text = text_of(message)
    if "\nUpdates\n=======\n" not in text:
        return []
    section = text.split("\nUpdates\n=======\n", 1)[1].split("\n-- \n", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    ") and
            not line.strip().startswith("http")]  # fmt: skip


def json_items(home: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((home / "data" / "feed.json").read_bytes())["items"]
    return items


def day_one(home: Home, server: PageServer) -> None:
    """X and W are announced to ada (everything) and carol (no updates); bob joins on day 2."""
    server.route("/api/daily_papers", hf_listing(hf_item(X), hf_item(W), hf_item(V)))
    home.cli("subscribers", "add", "ada@example.org", now=MONDAY)
    home.cli("subscribers", "add", "carol@example.org", "--no-updates", now=MONDAY)
    first = home.run(MONDAY)
    assert first["novel"] == 3
    home.cli("subscribers", "add", "bob@example.org", now=DAY2 - timedelta(hours=1))


def test_code_in_a_later_listing_reaches_each_reader_who_got_the_paper_once(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    home = Home(tmp_path, server, sink, check=False)
    day_one(home, server)
    feed_before = feedparser.parse((tmp_path / "data" / "feed.atom").read_bytes())
    json_before = {item["id"].rsplit("/", 1)[1]: item for item in json_items(tmp_path)}
    sent_day_one = len(sink.messages)

    # Day 2: Hugging Face lists X again, now with code; and one new paper, Y.
    with_code = hf_item(X, githubRepo=REPO, githubStars=1234)
    server.route("/api/daily_papers", hf_listing(with_code, hf_item(Y)))
    second = home.run(DAY2)

    assert second["novel"] == 1, "a follow-up never makes X new again"
    assert second["follow_ups"]["found"] == 1
    [ada] = mails_to(sink, "ada@example.org", sent_day_one)
    assert updates_of(ada) == [f"Code released: \u2605 1.2k \u2014 {REPO.removeprefix('https://')}"]
    assert TITLES[Y] in text_of(ada)
    assert text_of(ada).index(TITLES[Y]) < text_of(ada).index("Updates")
    assert "Updates" in html_of(ada) and f'href="{REPO}"' in html_of(ada)
    assert "1 new paper, 1 update" in str(ada["Subject"])
    [bob] = mails_to(sink, "bob@example.org", sent_day_one)
    assert updates_of(bob) == [] and TITLES[X] not in text_of(bob), "bob never received X"
    [carol] = mails_to(sink, "carol@example.org", sent_day_one)
    assert updates_of(carol) == [], "carol turned updates off"
    assert second["follow_ups"]["delivered"] == 1

    # The feed: the same entry for X, a newer `updated`, the news in its summary.
    feed = feedparser.parse((tmp_path / "data" / "feed.atom").read_bytes())
    entries = [e for e in feed.entries if e.id == f"https://arxiv.org/abs/{X}"]
    [before] = [e for e in feed_before.entries if e.id == f"https://arxiv.org/abs/{X}"]
    assert len(entries) == 1
    assert entries[0].updated_parsed > before.updated_parsed
    assert entries[0].summary.startswith("Update: Code released")
    # The JSON Feed twin: the same item, a newer date_modified, the news first.
    [item] = [i for i in json_items(tmp_path) if i["id"] == f"https://arxiv.org/abs/{X}"]
    assert item["date_modified"] > json_before[X]["date_modified"]
    assert item["date_published"] == json_before[X]["date_published"]
    assert item["summary"].startswith("Update: Code released")
    assert item["content_html"].startswith("<p>Update: Code released")

    # The operator's views.
    status = json.loads(home.cli("status", "--json", now=DAY2))
    assert status["runs"][0]["follow_ups"]["found"] == 1
    assert status["runs"][0]["follow_ups"]["delivered"] == 1
    found = json.loads(home.cli("search", X, "--json", now=DAY2))
    [paper] = found["papers"]
    assert [(e["kind"], e["value"], e["source"]) for e in paper["follow_ups"]] == [
        ("code", REPO, "Hugging Face")
    ]

    # Day 3: the same facts again, and a new paper: nobody hears of X's code twice.
    sent_day_two = len(sink.messages)
    server.route("/api/daily_papers", hf_listing(with_code, hf_item(Y), hf_item(Z)))
    third = home.run(DAY3)
    assert third["follow_ups"] == {"found": 0, "delivered": 0, "posted": 0, "checks": []}
    later = sink.parsed()[sent_day_two:]
    assert later and all(updates_of(message) == [] for message in later)


def test_the_daily_check_finds_code_no_listing_shows(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    home = Home(tmp_path, server, sink, check=True)
    server.route(f"/api/papers/{X}", hf_paper(X))
    server.route("/api/query", arxiv_answer(*(arxiv_entry(i, 1) for i in (X, W, V))))
    day_one(home, server)
    assert server.requests_for(f"/api/papers/{X}") == [], "today's papers were just listed"
    sent = len(sink.messages)

    # Day 2: the listing has moved on; only HF's page for X knows the code.
    server.route("/api/daily_papers", hf_listing(hf_item(Y)))
    server.route(f"/api/papers/{X}", hf_paper(X, githubRepo=REPO, githubStars=87))
    second = home.run(DAY2)

    checks = {check["kind"]: check for check in second["follow_ups"]["checks"]}
    assert checks["hf-check"]["status"] == "ok" and checks["hf-check"]["novel"] == 1
    assert checks["arxiv-check"]["status"] == "ok" and checks["arxiv-check"]["novel"] == 0
    [ada] = mails_to(sink, "ada@example.org", sent)
    assert updates_of(ada) == [f"Code released: \u2605 87 \u2014 {REPO.removeprefix('https://')}"]
    [bob] = mails_to(sink, "bob@example.org", sent)
    assert updates_of(bob) == []
    arxiv_requests = [r for r in server.requests if r.path.startswith("/api/query?")]
    assert len(arxiv_requests) == 1
    [ids] = re.findall(r"id_list=([^&]+)", arxiv_requests[0].path)
    assert sorted(ids.split(",")) == [X, W, V], "every watched paper in one request"

    # A second run the same day asks nobody again; day 3 asks again and repeats nothing.
    asked = len(server.requests)
    again = home.run(DAY2 + timedelta(hours=6))
    assert again["follow_ups"]["checks"] == [] and len(server.requests) == asked + 1
    sent = len(sink.messages)
    server.route("/api/daily_papers", hf_listing(hf_item(Z)))
    third = home.run(DAY3)
    assert third["follow_ups"]["found"] == 0
    assert all(updates_of(message) == [] for message in sink.parsed()[sent:])


def test_a_new_version_a_venue_a_withdrawal_and_an_upvote_mark_are_one_update_each(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    home = Home(tmp_path, server, sink, check=True)
    for arxiv_id in (X, W, V):
        server.route(f"/api/papers/{arxiv_id}", hf_paper(arxiv_id))
    server.route("/api/query", arxiv_answer(*(arxiv_entry(i, 1) for i in (X, W, V))))
    day_one(home, server)
    sent = len(sink.messages)

    server.route("/api/daily_papers", hf_listing(hf_item(Y)))
    server.route(f"/api/papers/{X}", hf_paper(X, upvotes=120))  # past 50 and 100: one mark
    server.route(
        "/api/query",
        arxiv_answer(
            arxiv_entry(X, 2, comment="adds experiments on ImageNet"),
            arxiv_entry(W, 1, journal_ref="ICLR 2026"),
            arxiv_entry(V, 3, comment="This paper has been withdrawn by the authors"),
        ),
    )
    second = home.run(DAY2)

    assert second["follow_ups"]["found"] == 4
    [ada] = mails_to(sink, "ada@example.org", sent)
    assert sorted(updates_of(ada)) == sorted(
        [
            "v2 on arXiv: \u2018adds experiments on ImageNet\u2019",
            "100 upvotes on Hugging Face",
            "Accepted at ICLR 2026",
            "Withdrawn by the authors",
        ]
    )
    assert f"https://arxiv.org/abs/{X}v2" in text_of(ada)

    sent = len(sink.messages)
    server.route("/api/daily_papers", hf_listing(hf_item(Z)))
    third = home.run(DAY3)
    assert third["follow_ups"]["found"] == 0
    assert all(updates_of(message) == [] for message in sink.parsed()[sent:])


def test_an_update_in_a_mail_refused_for_good_rides_the_next_mail_that_goes(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    home = Home(tmp_path, server, sink, check=False)
    day_one(home, server)
    # Day 2: code for X, and ada's relay refuses that mail for good (a spam filter).
    server.route("/api/daily_papers", hf_listing(hf_item(X, githubRepo=REPO), hf_item(Y)))
    sink.data_script = lambda rcpts: (
        "554 5.7.1 Rejected as spam" if "ada@example.org" in rcpts else None
    )
    refused = home.run(DAY2, exits=1)
    assert refused["deliveries"]["failed"] == 1 and refused["follow_ups"]["delivered"] == 0

    sink.data_script = None
    sent = len(sink.messages)
    server.route("/api/daily_papers", hf_listing(hf_item(Z)))
    home.run(DAY3)
    [ada] = mails_to(sink, "ada@example.org", sent)
    assert updates_of(ada) == [f"Code released \u2014 {REPO.removeprefix('https://')}"]
    assert TITLES[Z] in text_of(ada)


def test_a_failing_check_is_a_failed_check_in_an_ok_run(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    home = Home(tmp_path, server, sink, check=True)
    server.route(f"/api/papers/{X}", hf_paper(X))
    day_one(home, server)
    server.route("/api/daily_papers", hf_listing(hf_item(Y)))
    server.route("/api/query", Reply(b"<html>busy</html>", 503))
    server.route(f"/api/papers/{X}", hf_paper(X, githubRepo=REPO))

    second = home.run(DAY2)  # exit status 0: the run is ok

    checks = {check["kind"]: check for check in second["follow_ups"]["checks"]}
    assert checks["arxiv-check"]["status"] == "failed"
    assert "HTTP 503" in checks["arxiv-check"]["error"]
    assert checks["hf-check"]["status"] == "ok", "one check failing touches only itself"
    assert [source["status"] for source in second["sources"]] == ["ok"]
    status = json.loads(home.cli("status", "--json", now=DAY2))
    assert status["runs"][0]["status"] == "ok"
    text = home.cli("status", now=DAY2)
    assert re.search(r"failed\s+arxiv-check", text)


def test_status_lists_the_checks_apart_from_the_sources_the_operator_configured(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    home = Home(tmp_path, server, sink, check=True)
    day_one(home, server)
    server.route("/api/daily_papers", hf_listing(hf_item(Y)))
    server.route("/api/query", Reply(b"<html>busy</html>", 503))
    home.run(DAY2)

    status = json.loads(home.cli("status", "--json", now=DAY2))
    assert [source["kind"] for source in status["sources"]] == ["hf-api"]
    checks = {check["kind"]: check for check in status["follow_up_checks"]}
    assert checks["arxiv-check"]["name"] == "arXiv check"
    assert checks["arxiv-check"]["last_status"] == "failed"
    assert "HTTP 503" in checks["arxiv-check"]["last_error"]
    assert checks["hf-check"]["name"] == "Hugging Face check"
    text = home.cli("status", now=DAY2)
    sources, follow_ups = text.split("Sources\n")[1].split("Follow-up checks")
    assert "/api/daily_papers" in sources and "/api/query" not in sources
    assert "arXiv check (" in follow_ups and "HTTP 503" in follow_ups


def test_updates_wait_for_new_papers_unless_they_may_go_alone(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    home = Home(tmp_path, server, sink, check=False)
    day_one(home, server)
    sent = len(sink.messages)
    server.route("/api/daily_papers", hf_listing(hf_item(X, githubRepo=REPO)))

    quiet = home.run(DAY2)
    assert quiet["follow_ups"]["found"] == 1 and len(sink.messages) == sent, "no new papers"

    # The preview says what waits, and shows the mail the updates would make alone.
    waiting = json.loads(home.cli("preview", "--to", "ada@example.org", "--json", now=DAY3))
    assert waiting["updates"] == 1 and waiting["text"] is None
    assert "1 update waiting for new papers" in waiting["note"]
    alone_env = {"DIGEST_FOLLOW_UPS_SEND_ALONE": "true"}
    shown = home.cli("preview", "--to", "ada@example.org", now=DAY3, env=alone_env)
    assert shown.startswith(
        "Next mail: to ada@example.org on Wednesday 2026-12-02, 0 paper(s), 1 update(s)."
    )
    assert f"Code released \u2014 {REPO.removeprefix('https://')}" in shown
    carol = json.loads(
        home.cli("preview", "--to", "carol@example.org", "--json", now=DAY3, env=alone_env)
    )
    assert carol["updates"] == 0 and carol["text"] is None, "carol turned updates off"

    alone = home.run(DAY3, env=alone_env)
    [ada] = mails_to(sink, "ada@example.org", sent)
    assert updates_of(ada) == [f"Code released \u2014 {REPO.removeprefix('https://')}"]
    assert updates_of(ada)[0] in shown, "the preview showed the mail that went"
    assert "1 update" in str(ada["Subject"]) and "No new papers today" not in text_of(ada)
    assert mails_to(sink, "bob@example.org", sent) == [], "nothing for bob, who never got X"
    assert mails_to(sink, "carol@example.org", sent) == []
    assert alone["follow_ups"]["delivered"] == 1


def test_a_run_killed_before_sending_then_a_run_deliver_each_update_once(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    home = Home(tmp_path, server, sink, check=False)
    day_one(home, server)
    sent = len(sink.messages)
    server.route("/api/daily_papers", hf_listing(hf_item(X, githubRepo=REPO), hf_item(Y)))

    # The relay sits on the first mail of day 2 (ada's: readers go in address order).
    sink.hold_at = sent + 1
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    environment[CLOCK_VARIABLE] = DAY2.isoformat()
    killed = subprocess.Popen(
        [sys.executable, "-m", "digest", "--config", str(home.config), "run"],
        cwd=tmp_path, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert sink.held.wait(60), "the run never reached the relay"
    killed.kill()  # SIGKILL: no cleanup, the lock and the ledger as they were
    killed.wait(30)

    home.run(DAY2 + timedelta(hours=1))
    home.run(DAY3)

    ada = mails_to(sink, "ada@example.org", sent)
    assert [updates_of(message) for message in ada] == [
        [f"Code released \u2014 {REPO.removeprefix('https://')}"]
    ]


@pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed")
def test_newsboat_keeps_one_entry_for_a_paper_with_news(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    (tmp_path / "digest").mkdir()
    home = Home(tmp_path / "digest", server, sink, check=False)
    reader = tmp_path / "reader"
    reader.mkdir()
    (reader / "urls").write_text(server.url("/feed.atom") + "\n")
    (reader / "config").write_text("download-retries 1\n")
    feed = tmp_path / "digest" / "data" / "feed.atom"

    day_one(home, server)
    server.route(
        "/feed.atom", Reply(feed.read_bytes(), headers={"Content-Type": "application/atom+xml"})
    )
    newsboat(reader, "reload")
    server.route("/api/daily_papers", hf_listing(hf_item(X, githubRepo=REPO), hf_item(Y)))
    home.run(DAY2)
    server.route(
        "/feed.atom", Reply(feed.read_bytes(), headers={"Content-Type": "application/atom+xml"})
    )
    newsboat(reader, "reload")

    with sqlite3.connect(reader / "cache.db") as db:
        guids = [row[0] for row in db.execute("SELECT guid FROM rss_item")]
    assert guids.count(f"https://arxiv.org/abs/{X}") == 1
    assert sorted(guids) == sorted(f"https://arxiv.org/abs/{i}" for i in (X, W, V, Y))


def channels(hook: PageServer) -> str:
    """Two channels behind Apprise's json:// on the receiver: one of everything, one of seismology."""
    port = hook.base.rsplit(":", 1)[1]
    return f"""[[topics]]
slug = "seismic"
title = "Seismology"
query = "seismic"
[[channels]]
name = "lab"
url = "json://127.0.0.1:{port}/lab"
[[channels]]
name = "quakes"
url = "json://127.0.0.1:{port}/quakes"
topics = ["seismic"]
"""


def update_lines_of(post: dict[str, Any]) -> list[str]:
    """The lines of a post's Updates part (Markdown list items)."""
    message: str = post["message"]
    if "**Updates**\n" not in message:
        return []
    return [
        line for line in message.split("**Updates**\n", 1)[1].splitlines() if line.startswith("- ")
    ]


def test_a_channel_that_was_shown_a_paper_gets_its_update_once_in_its_next_post(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    with Receiver() as hook:
        # The update's post is refused once (a 500): the retry carries it, and only it.
        hook.route("/lab", Reply(b"ok"), Reply(b"busy", 500), Reply(b"ok"))
        hook.route("/quakes", Reply(b"ok"))
        home = Home(tmp_path, server, sink, check=False, extra=channels(hook))
        day_one(home, server)
        [lab_day_one] = delivered(hook, "/lab")
        [quakes_day_one] = delivered(hook, "/quakes")
        assert TITLES[X] in lab_day_one["message"] and TITLES[X] not in quakes_day_one["message"]

        server.route(
            "/api/daily_papers",
            hf_listing(hf_item(X, githubRepo=REPO, githubStars=1234), hf_item(Y)),
        )
        second = home.run(DAY2, exits=1)  # the post must be retried
        assert second["channels"]["lab"]["retry"] == 1
        again = home.run(DAY2 + timedelta(hours=1))  # nothing new: the waiting post goes
        assert again["channels"]["lab"]["sent"] == 1
        assert (second["follow_ups"]["posted"], again["follow_ups"]["posted"]) == (0, 1)

        server.route("/api/daily_papers", hf_listing(hf_item(Z)))
        third = home.run(DAY3)
        assert third["follow_ups"]["posted"] == 0
        status = json.loads(home.cli("status", "--json", now=DAY3))
        assert [run["follow_ups"]["posted"] for run in status["runs"][:3]] == [0, 1, 0]

    lab = delivered(hook, "/lab")
    assert [post["title"] for post in lab] == [
        "3 new papers \u2014 Mon 30 Nov",
        "1 new paper, 1 update \u2014 Tue 1 Dec",
        "1 new paper \u2014 Wed 2 Dec",
    ]
    update = lab[1]["message"]
    assert update.index(TITLES[Y]) < update.index("**Updates**"), "after the new papers"
    assert update_lines_of(lab[1]) == [
        f"- [{TITLES[X]}](https://arxiv.org/abs/{X}): "
        f"[Code released: \u2605 1.2k \u2014 {REPO.removeprefix('https://')}]({REPO})"
    ]
    assert all(update_lines_of(post) == [] for post in lab[2:]), "never twice"
    quakes = delivered(hook, "/quakes")
    assert all(update_lines_of(post) == [] for post in quakes), "quakes was never shown X"


def test_a_channel_post_of_updates_alone_goes_only_with_send_alone(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    with Receiver() as hook:
        hook.route("/lab", Reply(b"ok"))
        hook.route("/quakes", Reply(b"ok"))
        home = Home(tmp_path, server, sink, check=False, extra=channels(hook))
        day_one(home, server)
        server.route("/api/daily_papers", hf_listing(hf_item(X, githubRepo=REPO)))
        home.run(DAY2)
        assert len(delivered(hook, "/lab")) == 1, "no new papers, no digest, no post"

        home.run(DAY3, env={"DIGEST_FOLLOW_UPS_SEND_ALONE": "true"})
        home.run(DAY4, env={"DIGEST_FOLLOW_UPS_SEND_ALONE": "true"})

    lab = delivered(hook, "/lab")
    assert [post["title"] for post in lab] == [
        "3 new papers \u2014 Mon 30 Nov",
        "1 update \u2014 Wed 2 Dec",
    ]
    assert update_lines_of(lab[1]) == [
        f"- [{TITLES[X]}](https://arxiv.org/abs/{X}): "
        f"[Code released \u2014 {REPO.removeprefix('https://')}]({REPO})"
    ]
    assert "day page" not in lab[1]["message"]
    assert len(delivered(hook, "/quakes")) == 1, "quakes has no update and no paper"


def test_a_private_reader_feed_carries_the_update_in_the_same_entry(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    clock = Clock(DAY2 + timedelta(hours=2))
    extra = f'[[sources]]\nurl = "{server.url("/api/daily_papers")}"\nname = "Hugging Face"\n'
    sections = {
        "mail": {"smtp_url": sink.url, "from_address": "Paper digest <papers@example.org>"},
        "http": {"host_interval": 0, "retries": 0},
    }
    with (
        live_server(
            tmp_path, lambda s: create_app(s, clock=clock), sections=sections, extra_config=extra
        ) as web,
        httpx.Client() as client,
    ):
        home = Home.__new__(Home)  # the live server wrote the config: use it as it is
        home.path, home.config = tmp_path, web.config
        day_one(home, server)
        ada_atom, ada_json = reader_feed_urls(web, "ada@example.org")
        carol_atom, _ = reader_feed_urls(web, "carol@example.org")
        before = entry_for(client.get(ada_atom).content, X)

        server.route("/api/daily_papers", hf_listing(hf_item(X, githubRepo=REPO), hf_item(Y)))
        home.run(DAY2)
        ada = feedparser.parse(client.get(ada_atom).content)
        ada_items = json.loads(client.get(ada_json).content)["items"]
        carol = entry_for(client.get(carol_atom).content, X)

    entries = [entry for entry in ada.entries if entry.id == f"https://arxiv.org/abs/{X}"]
    assert len(entries) == 1, "one entry for X, not a second one"
    assert entries[0].updated_parsed > before.updated_parsed
    assert entries[0].summary.startswith(
        f"Update: Code released \u2014 {REPO.removeprefix('https://')}"
    )
    [item] = [item for item in ada_items if item["id"] == f"https://arxiv.org/abs/{X}"]
    assert item["date_modified"] > item["date_published"]
    assert item["summary"].startswith("Update: Code released")
    assert "Update:" not in carol.summary, "carol turned updates off: her feed has none"


def reader_feed_urls(web: LiveServer, email: str) -> tuple[str, str]:
    db = open_history(web.settings.data_dir / "digest.db")
    try:
        reader = find_subscriber(db, email)
        assert reader is not None
        return feed_urls(web.settings, site_tokens(web.settings), reader)
    finally:
        db.close()


def entry_for(feed: bytes, arxiv_id: str) -> Any:
    [entry] = [
        e for e in feedparser.parse(feed).entries if e.id == f"https://arxiv.org/abs/{arxiv_id}"
    ]
    return entry


def test_the_hf_check_takes_turns_when_the_window_holds_more_than_hf_per_day(
    tmp_path: Path, server: PageServer, sink: SmtpSink
) -> None:
    home = Home(tmp_path, server, sink, check=True)
    everything = (X, W, V, Y, Z)
    for arxiv_id in everything:
        server.route(f"/api/papers/{arxiv_id}", hf_paper(arxiv_id))
    server.route("/api/query", arxiv_answer(*(arxiv_entry(i, 1) for i in everything)))
    server.route("/api/daily_papers", hf_listing(*(hf_item(i) for i in everything)))
    home.cli("subscribers", "add", "ada@example.org", now=MONDAY)
    home.run(MONDAY)
    server.route("/api/daily_papers", hf_listing())

    asked: list[set[str]] = []
    for day in (DAY2, DAY3, DAY4):
        before = len(server.requests)
        report = home.run(day, env={"DIGEST_FOLLOW_UPS_HF_PER_DAY": "2"})
        [hf] = [check for check in report["follow_ups"]["checks"] if check["kind"] == "hf-check"]
        assert hf["status"] == "ok" and hf["found"] == 2
        paths = [request.path for request in server.requests[before:]]
        asked.append({path.rsplit("/", 1)[1] for path in paths if path.startswith("/api/papers/")})

    # Five papers, two a day: every one asked within ceil(5 / 2) = 3 days, newest first,
    # then the one asked longest ago.
    assert asked[0] == {Z, Y} and asked[1] == {V, W} and asked[2] == {X, Z}
    assert set().union(*asked) == set(everything)
