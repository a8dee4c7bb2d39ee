"""Real sources misbehaving, end to end: the CLI in a subprocess against a scripted HTTP server.

Every fault test also runs a healthy source (an rss.arxiv.org Atom feed whose
papers no other fixture has) in the same run, and checks that it is ``ok``
with all of its papers in history: one source failing never costs another.
The waits are real but tiny (``Retry-After: 1``, a one-second read timeout,
one retry), so the whole file runs in seconds.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_end_to_end import digest_cli
from tests.servers import PageServer, Reply, Request, page_server
from tests.support import fixture

# One retry, no pacing between requests to 127.0.0.1, short timeouts: faults show up fast.
QUICK_HTTP = {
    "DIGEST_HTTP_TIMEOUT": "2",
    "DIGEST_HTTP_RETRIES": "1",
    "DIGEST_HTTP_HOST_INTERVAL": "0",
    "DIGEST_HTTP_SOURCE_DEADLINE": "10",
}

HF_DAY = "/api/daily_papers"
HF_URL_PATH = HF_DAY + "?date=2025-03-12"
HF_IDS = {"2503.08123", "2503.07911"}
RSS_IDS = {"2503.08123", "2503.07911", "2411.01234", "hep-th/9901001"}
LISTING_IDS = RSS_IDS
PARTNER_PATH = "/atom/cs.LG"
PARTNER_IDS = {"2503.09317", "2503.08877", "2409.11111", "cond-mat/0207001"}


# --- running digest ----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One `digest run --json`: its report and what it logged."""

    report: dict[str, Any]
    log: str

    def source(self, url: str) -> dict[str, Any]:
        (entry,) = [s for s in self.report["sources"] if s["source"] == url]
        return entry


def run_digest(
    workdir: Path,
    *sources: str | Mapping[str, Any],
    expect: int,
    env: Mapping[str, str] | None = None,
) -> Run:
    """Write ``[[sources]]`` into workdir/digest.toml and run the CLI there."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "digest.toml").write_text(toml_sources(sources), encoding="utf-8")
    # -v: the retries are INFO lines, and these tests read them.
    done = digest_cli(workdir, "-v", "run", "--json", env={**QUICK_HTTP, **(env or {})})
    assert done.returncode == expect, done.stderr
    return Run(json.loads(done.stdout), done.stderr)


def toml_sources(sources: tuple[str | Mapping[str, Any], ...]) -> str:
    blocks = []
    for source in sources:
        entry = {"url": source} if isinstance(source, str) else source
        lines = [f"{key} = {toml_value(value)}" for key, value in entry.items()]
        blocks.append("\n".join(["[[sources]]", *lines]))
    return "\n\n".join(blocks) + "\n"


def toml_value(value: Any) -> str:
    if isinstance(value, Mapping):
        pairs = ", ".join(f"{json.dumps(key)} = {json.dumps(item)}" for key, item in value.items())
        return "{ " + pairs + " }"
    return json.dumps(value)  # a JSON string or number is a TOML one too


# --- the healthy partner and history ------------------------------------------------------


def serve_partner(server: PageServer) -> str:
    """A healthy rss.arxiv.org Atom feed; its four papers appear in no other fixture."""
    return server.route(PARTNER_PATH, Reply(fixture("arxiv_atom_cs.LG.xml"), etag='"atom-1"'))


def assert_partner_is_unaffected(workdir: Path, run: Run, url: str) -> None:
    partner = run.source(url)
    assert (partner["status"], partner["found"], partner["novel"]) == ("ok", 4, 4)
    assert sighted_by(workdir, url) == PARTNER_IDS


@contextmanager
def history(workdir: Path) -> Iterator[sqlite3.Connection]:
    database = sqlite3.Connection(workdir / "data" / "digest.db")
    with closing(database):
        yield database


def sighted_by(workdir: Path, source: str) -> set[str]:
    """The arXiv ids history recorded from one source (by its name, else its URL)."""
    with history(workdir) as db:
        rows = db.execute(
            "SELECT p.arxiv_id FROM sightings s JOIN papers p ON p.id = s.paper_id "
            "JOIN sighting_sources k ON k.id = s.source_id WHERE k.source = ?",
            (source,),
        ).fetchall()
    return {arxiv_id for (arxiv_id,) in rows}


def all_papers(workdir: Path) -> set[str]:
    with history(workdir) as db:
        return {arxiv_id for (arxiv_id,) in db.execute("SELECT arxiv_id FROM papers")}


def paper_row(workdir: Path, arxiv_id: str) -> dict[str, Any]:
    with history(workdir) as db:
        cursor = db.execute("SELECT * FROM papers WHERE arxiv_id = ?", (arxiv_id,))
        names = [column[0] for column in cursor.description]
        (row,) = cursor.fetchall()
    return dict(zip(names, row, strict=True))


def cached_urls(workdir: Path) -> set[str]:
    with history(workdir) as db:
        return {url for (url,) in db.execute("SELECT url FROM http_cache")}


def assert_failure_left_no_trace(workdir: Path, run: Run, url: str) -> None:
    """A failed source records no sightings and no validators, and the run is marked failed."""
    assert sighted_by(workdir, url) == set()
    assert all(not cached.startswith(url.split("?")[0]) for cached in cached_urls(workdir))
    with history(workdir) as db:
        run_status = db.execute(
            "SELECT status FROM runs WHERE id = ?", [run.report["run_id"]]
        ).fetchone()
        stored = db.execute(
            "SELECT status, error FROM run_sources WHERE run_id = ? AND source = ?",
            [run.report["run_id"], url],
        ).fetchone()
    assert run_status == ("failed",)
    assert stored == ("failed", run.source(url)["error"])


def a_day_passes(workdir: Path) -> None:
    """Move history one day back, as if the last run had been yesterday (the CLI's clock is real)."""
    with history(workdir) as db, db:
        db.execute(
            "UPDATE papers SET first_seen = strftime('%Y-%m-%dT%H:%M:%SZ', first_seen, '-1 day'), "
            "updated = strftime('%Y-%m-%dT%H:%M:%SZ', updated, '-1 day')"
        )


def requests_to(server: PageServer, path: str) -> list[Request]:
    """Requests for a path, whatever their query string."""
    return [request for request in server.requests if request.path.split("?")[0] == path]


# --- a server misbehaving on purpose --------------------------------------------------------


def test_a_503_with_retry_after_is_waited_out_and_the_source_recovers(tmp_path: Path) -> None:
    busy = Reply(b"<h1>Service Unavailable</h1>", 503, headers={"Retry-After": "1"})
    with page_server() as server:
        url = server.route(HF_DAY, busy, Reply(fixture("hf_daily_papers_2025-03-12.json")))
        url += "?date=2025-03-12"
        partner = serve_partner(server)
        run = run_digest(tmp_path, url, partner, expect=0)

    hf = run.source(url)
    assert (hf["status"], hf["found"], hf["novel"]) == ("ok", 2, 2)
    assert len(requests_to(server, HF_DAY)) == 2
    assert "HTTP 503 from" in run.log and "retrying in 1.0 s" in run.log
    assert sighted_by(tmp_path, url) == HF_IDS
    assert_partner_is_unaffected(tmp_path, run, partner)


def test_a_429_with_a_hugging_face_ratelimit_header_waits_for_the_reset(tmp_path: Path) -> None:
    limited = Reply(
        b'{"error":"You have been rate-limited"}',
        429,
        headers={"RateLimit": '"api";r=0;t=1', "RateLimit-Policy": '"fixed window";q=500;w=300'},
    )
    with page_server() as server:
        url = server.route(HF_DAY, limited, Reply(fixture("hf_daily_papers_2025-03-12.json")))
        url += "?date=2025-03-12"
        partner = serve_partner(server)
        run = run_digest(tmp_path, url, partner, expect=0)

    assert run.source(url)["status"] == "ok"
    assert len(requests_to(server, HF_DAY)) == 2
    assert "HTTP 429 from" in run.log and "retrying in 1.0 s" in run.log
    assert sighted_by(tmp_path, url) == HF_IDS
    assert_partner_is_unaffected(tmp_path, run, partner)


def test_a_read_that_never_finishes_times_out_and_fails_only_that_source(tmp_path: Path) -> None:
    with page_server() as server:
        # The headers come at once, the body only after 4 s: far beyond the 1 s read timeout.
        hung = server.route("/list/cs.LG/new", Reply(fixture("arxiv_list_cs.LG_new.html"), stall=4))
        partner = serve_partner(server)
        run = run_digest(tmp_path, {"url": hung, "timeout": 1}, partner, expect=1)

    error = run.source(hung)["error"]
    assert run.source(hung)["status"] == "failed"
    assert f"read timed out after 1 s fetching {hung}" in error
    assert "gave up after 2 attempt(s)" in error
    assert len(requests_to(server, "/list/cs.LG/new")) == 2
    assert_failure_left_no_trace(tmp_path, run, hung)
    assert_partner_is_unaffected(tmp_path, run, partner)


def test_a_changed_layout_fails_and_says_what_is_missing(tmp_path: Path) -> None:
    with page_server() as server:
        drifted = server.route("/list/cs.LG/new", Reply(fixture("arxiv_list_drifted.html")))
        partner = serve_partner(server)
        run = run_digest(tmp_path, drifted, partner, expect=1)

    report = run.source(drifted)
    assert report["status"] == "failed"
    assert "layout drifted: no dl#articles in div#dlpage" in report["error"]
    assert_failure_left_no_trace(tmp_path, run, drifted)
    assert_partner_is_unaffected(tmp_path, run, partner)


def test_an_html_login_page_for_a_json_url_is_a_failure_not_an_empty_day(
    tmp_path: Path,
) -> None:
    login = Reply(fixture("login_page.html"), headers={"Content-Type": "text/html; charset=utf-8"})
    with page_server() as server:
        url = server.route(HF_DAY, login) + "?date=2025-03-12"
        partner = serve_partner(server)
        run = run_digest(tmp_path, url, partner, expect=1)

    report = run.source(url)
    assert (report["status"], report["found"]) == ("failed", 0)
    assert (
        "not JSON: the answer is an HTML page titled 'Log in | Example University Library'"
        in report["error"]
    )
    assert_failure_left_no_trace(tmp_path, run, url)
    assert_partner_is_unaffected(tmp_path, run, partner)


def test_a_truncated_body_is_retried_then_reported_as_incomplete(tmp_path: Path) -> None:
    payload = fixture("hf_daily_papers_2025-03-12.json")
    with page_server() as server:
        url = server.route(HF_DAY, Reply(payload, truncate_to=200)) + "?date=2025-03-12"
        partner = serve_partner(server)
        run = run_digest(tmp_path, url, partner, expect=1)

    error = run.source(url)["error"]
    assert f"incomplete body from {server.url(HF_URL_PATH)}" in error
    assert f"the connection closed after 200 of {len(payload)} bytes (truncated)" in error
    assert "gave up after 2 attempt(s)" in error
    assert len(requests_to(server, HF_DAY)) == 2
    assert_failure_left_no_trace(tmp_path, run, url)
    assert_partner_is_unaffected(tmp_path, run, partner)


def test_a_body_that_says_gzip_but_is_not_fails_only_that_source(tmp_path: Path) -> None:
    broken = Reply(b"definitely not gzip", headers={"Content-Encoding": "gzip"})
    with page_server() as server:
        url = server.route(HF_DAY, broken) + "?date=2025-03-12"
        partner = serve_partner(server)
        run = run_digest(tmp_path, url, partner, expect=1)

    error = run.source(url)["error"]
    assert f"cannot decode the gzip body from {server.url(HF_URL_PATH)}" in error
    assert_failure_left_no_trace(tmp_path, run, url)
    assert_partner_is_unaffected(tmp_path, run, partner)


def test_a_wait_beyond_the_source_deadline_fails_at_once(tmp_path: Path) -> None:
    # arXiv answers 503 with Retry-After: ~300 while its replicas lag (docs/formats.md §4.2).
    lagging = Reply(b"", 503, headers={"Retry-After": "300"})
    with page_server() as server:
        url = server.route("/list/cs.LG/new", lagging)
        partner = serve_partner(server)
        run = run_digest(tmp_path, url, partner, expect=1)

    assert "the server asked to wait 300 s" in run.source(url)["error"]
    assert len(requests_to(server, "/list/cs.LG/new")) == 1
    assert_failure_left_no_trace(tmp_path, run, url)
    assert_partner_is_unaffected(tmp_path, run, partner)


# --- nothing lost, nothing fetched twice ----------------------------------------------------


def test_papers_of_a_failed_source_are_novel_on_its_next_successful_run(tmp_path: Path) -> None:
    payload = fixture("hf_daily_papers_2025-03-12.json")
    with page_server() as server:
        # The same resource both times (same ETag); the first answer is cut short.
        url = server.route(HF_DAY, Reply(payload, etag='"hf-1"', truncate_to=100))
        url += "?date=2025-03-12"
        partner = serve_partner(server)
        first = run_digest(tmp_path, url, partner, expect=1)
        server.route(HF_DAY, Reply(payload, etag='"hf-1"'))
        second = run_digest(tmp_path, url, partner, expect=0)

    assert first.source(url)["status"] == "failed"
    assert (second.source(url)["status"], second.source(url)["novel"]) == ("ok", 2)
    assert second.report["novel"] == 2
    # No validators were kept for the failed fetch, so the retry was not a conditional GET.
    assert "If-None-Match" not in requests_to(server, HF_DAY)[-1].headers
    assert second.source(partner)["status"] == "unchanged"
    assert all_papers(tmp_path) == HF_IDS | PARTNER_IDS


def test_a_second_run_sends_conditional_requests_and_reports_unchanged(tmp_path: Path) -> None:
    stamp = "Wed, 12 Mar 2025 04:00:21 GMT"
    with page_server() as server:
        feed = server.route(
            "/rss/cs.LG",
            Reply(
                fixture("arxiv_rss_cs.LG.xml"), etag='W/"rss-1"', headers={"Last-Modified": stamp}
            ),
        )
        hf = server.route(
            HF_DAY,
            Reply(fixture("hf_daily_papers_2025-03-12.json"), headers={"Last-Modified": stamp}),
            Reply(status=304),
        )
        hf += "?date=2025-03-12"
        first = run_digest(tmp_path, feed, hf, expect=0)
        second = run_digest(tmp_path, feed, hf, expect=0)

    assert [s["status"] for s in first.report["sources"]] == ["ok", "ok"]
    assert [s["status"] for s in second.report["sources"]] == ["unchanged", "unchanged"]
    assert all(s["found"] == s["novel"] == 0 for s in second.report["sources"])
    assert second.report["emails"] == 0
    assert second.source(feed)["reason"] == "not modified (304)"
    feed_again, hf_again = requests_to(server, "/rss/cs.LG")[1], requests_to(server, HF_DAY)[1]
    assert feed_again.headers["If-None-Match"] == 'W/"rss-1"'
    assert feed_again.headers["If-Modified-Since"] == stamp
    assert hf_again.headers["If-Modified-Since"] == stamp
    assert "If-None-Match" not in hf_again.headers
    assert all_papers(tmp_path) == RSS_IDS


def test_the_same_bytes_again_are_unchanged_without_being_parsed(tmp_path: Path) -> None:
    """A server that keeps no validators: a hash of the body stands in for a 304."""
    with page_server() as server:
        feed = server.route("/rss/cs.LG", Reply(fixture("arxiv_rss_cs.LG.xml")))
        first = run_digest(tmp_path, feed, expect=0)
        second = run_digest(tmp_path, feed, expect=0)
        # The page changes (another day's feed at the same address): read it again.
        server.route("/rss/cs.LG", Reply(fixture("arxiv_atom_cs.LG.xml")))
        third = run_digest(tmp_path, feed, expect=0)

    assert (first.source(feed)["status"], first.source(feed)["novel"]) == ("ok", 4)
    assert second.source(feed)["status"] == "unchanged"
    assert second.source(feed)["reason"] == "same bytes as last time"
    assert "If-None-Match" not in requests_to(server, "/rss/cs.LG")[1].headers
    assert (third.source(feed)["status"], third.source(feed)["novel"]) == ("ok", 4)
    assert all_papers(tmp_path) == RSS_IDS | PARTNER_IDS


def test_a_body_that_failed_to_parse_is_parsed_again_next_time(tmp_path: Path) -> None:
    """Only a body whose papers were recorded counts as seen: a failure is retried in full."""
    with page_server() as server:
        feed = server.route("/rss/cs.LG", Reply(b"<html><title>Sign in</title></html>"))
        run_digest(tmp_path, feed, expect=1)
        second = run_digest(tmp_path, feed, expect=1)

    assert second.source(feed)["status"] == "failed"


# --- empty is not broken --------------------------------------------------------------------


def test_an_arxiv_weekend_feed_is_empty_and_the_run_succeeds(tmp_path: Path) -> None:
    with page_server() as server:
        weekend = server.route("/rss/cs.LG", Reply(fixture("arxiv_rss_weekend.xml")))
        partner = serve_partner(server)
        run = run_digest(tmp_path, weekend, partner, expect=0)

    report = run.source(weekend)
    assert (report["status"], report["kind"], report["found"]) == ("empty", "arxiv-rss", 0)
    assert report["reason"] == "no announcement: the feed for 2025-03-15 has no items"
    assert report["error"] is None
    assert_partner_is_unaffected(tmp_path, run, partner)


def test_an_empty_hugging_face_day_is_empty_and_the_run_succeeds(tmp_path: Path) -> None:
    with page_server() as server:
        url = server.route(HF_DAY, Reply(fixture("hf_daily_papers_empty.json")))
        url += "?date=2025-03-15"
        run = run_digest(tmp_path, url, expect=0)

    assert (run.source(url)["status"], run.source(url)["kind"]) == ("empty", "hf-api")
    assert run.source(url)["reason"] == "no papers listed for this date"


def test_an_arxiv_listing_with_no_updates_is_empty(tmp_path: Path) -> None:
    with page_server() as server:
        url = server.route("/list/cs.LG/new", Reply(fixture("arxiv_list_empty.html")))
        run = run_digest(tmp_path, url, expect=0)

    assert (run.source(url)["status"], run.source(url)["reason"]) == ("empty", "No updates today.")


def test_an_arxiv_api_error_entry_fails_the_source(tmp_path: Path) -> None:
    with page_server() as server:
        url = server.route("/api/query", Reply(fixture("arxiv_api_error.xml")))
        url += "?id_list=2503.0812x"
        partner = serve_partner(server)
        run = run_digest(tmp_path, url, partner, expect=1)

    report = run.source(url)
    assert report["status"] == "failed"
    assert report["error"].endswith(
        "the arXiv API answered with an error: incorrect id format for 2503.0812x"
    )
    assert_failure_left_no_trace(tmp_path, run, url)
    assert_partner_is_unaffected(tmp_path, run, partner)


# --- identity across sources and days -------------------------------------------------------


def test_a_replacement_of_a_known_paper_updates_it_and_is_not_novel(tmp_path: Path) -> None:
    with page_server() as server:
        listing = server.route("/list/cs.LG/new", Reply(fixture("arxiv_list_cs.LG_new.html")))
        feed = server.route("/rss/cs.LG", Reply(fixture("arxiv_rss_cs.LG.xml")))
        day_one = run_digest(tmp_path, listing, expect=0)
        a_day_passes(tmp_path)
        day_two = run_digest(tmp_path, feed, expect=0)

    assert day_one.report["novel"] == 4
    assert (day_two.source(feed)["found"], day_two.report["novel"]) == (4, 0)
    replaced = paper_row(tmp_path, "2411.01234")  # `replace`, v3, in the feed
    assert replaced["version"] == 3
    assert replaced["updated"] > replaced["first_seen"]
    assert paper_row(tmp_path, "hep-th/9901001")["version"] == 2  # `replace-cross`, v2
    assert all_papers(tmp_path) == LISTING_IDS


def test_a_replacement_never_seen_before_is_novel(tmp_path: Path) -> None:
    with page_server() as server:
        feed = server.route("/rss/cs.LG", Reply(fixture("arxiv_rss_cs.LG.xml")))
        run = run_digest(tmp_path, feed, expect=0)

    assert run.source(feed)["novel"] == 4  # two of them are replacements: new to us all the same
    assert paper_row(tmp_path, "2411.01234")["version"] == 3


@pytest.mark.parametrize("first", ["cs.CL", "cs.LG"])
def test_a_cross_list_is_novel_once_whichever_category_shows_it_first(
    tmp_path: Path, first: str
) -> None:
    pages = {
        "cs.CL": ("/list/cs.CL/pastweek", "arxiv_list_cs.CL_pastweek.html"),  # cross from cs.LG
        "cs.LG": ("/list/cs.LG/new", "arxiv_list_cs.LG_new.html"),  # new in cs.LG
    }
    order = [first, *(category for category in pages if category != first)]
    with page_server() as server:
        urls = [server.route(path, Reply(fixture(name))) for path, name in pages.values()]
        by_category = dict(zip(pages, urls, strict=True))
        runs = [run_digest(tmp_path / "w", by_category[category], expect=0) for category in order]

    novel = [run.report["novel"] for run in runs]
    assert sum(novel) == len(all_papers(tmp_path / "w")) == 5
    assert paper_row(tmp_path / "w", "2503.08123")["first_run_id"] == runs[0].report["run_id"]
    assert "2503.08123" in sighted_by(tmp_path / "w", urls[0])
    assert "2503.08123" in sighted_by(tmp_path / "w", urls[1])


def test_the_same_paper_on_hugging_face_and_arxiv_the_same_day_is_one_paper(
    tmp_path: Path,
) -> None:
    with page_server() as server:
        hf = server.route(HF_DAY, Reply(fixture("hf_daily_papers_2025-03-12.json")))
        hf += "?date=2025-03-12"
        feed = server.route("/rss/cs.LG", Reply(fixture("arxiv_rss_cs.LG.xml")))
        run = run_digest(tmp_path, hf, feed, expect=0)

    assert (run.source(hf)["novel"], run.source(feed)["novel"]) == (2, 2)
    assert all_papers(tmp_path) == RSS_IDS
    merged = paper_row(tmp_path, "2503.08123")
    assert (merged["upvotes"], merged["version"]) == (41, 1)  # HF's upvotes, arXiv's version
    assert sighted_by(tmp_path, feed) >= HF_IDS and sighted_by(tmp_path, hf) == HF_IDS


# --- what every request carries -------------------------------------------------------------


def test_per_source_headers_and_name_from_digest_toml_reach_the_server(tmp_path: Path) -> None:
    with page_server() as server:
        url = server.route(HF_DAY, Reply(fixture("hf_daily_papers_2025-03-12.json")))
        url += "?date=2025-03-12"
        partner = serve_partner(server)
        token = {"Authorization": "Bearer hf_test_token", "X-Lab": "nlp"}
        source = {"url": url, "name": "HF daily", "kind": "hf-api", "headers": token}
        run = run_digest(tmp_path, source, partner, expect=0)

    (hf_request,) = requests_to(server, HF_DAY)
    (partner_request,) = requests_to(server, PARTNER_PATH)
    assert hf_request.headers["Authorization"] == "Bearer hf_test_token"
    assert hf_request.headers["X-Lab"] == "nlp"
    assert "Authorization" not in partner_request.headers  # a token goes to its own source only
    assert run.source(url)["status"] == "ok"
    assert sighted_by(tmp_path, "HF daily") == HF_IDS


def test_requests_name_digest_and_its_url_and_accept_gzip(tmp_path: Path) -> None:
    with page_server() as server:
        partner = serve_partner(server)
        run_digest(tmp_path, partner, expect=0)

    (request,) = server.requests
    assert request.headers["User-Agent"].startswith("digest/")
    assert "+https://github.com/digest-papers/digest" in request.headers["User-Agent"]
    assert "gzip" in request.headers["Accept-Encoding"]


def test_requests_to_one_host_are_paced(tmp_path: Path) -> None:
    with page_server() as server:
        hf = server.route(HF_DAY, Reply(fixture("hf_daily_papers_2025-03-12.json")))
        partner = serve_partner(server)
        pace = {"DIGEST_HTTP_HOST_INTERVAL": "0.5"}
        run_digest(tmp_path, hf + "?date=2025-03-12", partner, expect=0, env=pace)

    first, second = server.requests
    assert second.at - first.at >= 0.45  # 0.5 s apart, less what connecting the first one took


def test_a_gzip_encoded_response_is_decoded(tmp_path: Path) -> None:
    packed = gzip.compress(fixture("hf_daily_papers_2025-03-12.json"))
    with page_server() as server:
        url = server.route(HF_DAY, Reply(packed, headers={"Content-Encoding": "gzip"}))
        url += "?date=2025-03-12"
        run = run_digest(tmp_path, url, expect=0)

    assert (run.source(url)["status"], run.source(url)["found"]) == ("ok", 2)
    assert sighted_by(tmp_path, url) == HF_IDS
