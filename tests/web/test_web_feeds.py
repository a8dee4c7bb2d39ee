"""Feeds over real HTTP: conditional GETs, gzip, Cache-Control from the schedule, RFC 5005
archives a reader can walk back, OPML, the health check, and the WebSub ping.

History is filled through the library with chosen first-seen times, so each
test knows exactly which day holds which paper.
"""

from __future__ import annotations

import gzip
import shutil
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import feedparser
import httpx
import pytest

from digest import history
from digest.config import load_settings
from digest.model import Paper
from digest.pipeline.run import publish_feed
from digest.web import create_app
from tests.servers import PageServer, Reply
from tests.web_server import Clock, LiveServer, live_server

NOW = datetime(2025, 3, 21, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
HISTORY_NS = "{http://purl.org/syndication/history/1.0}"
# Papers first seen on these days (UTC), two on the 1st, three on the 20th, one today.
DAYS = {
    "2025-03-01T09:00:00": 2,
    "2025-03-05T09:00:00": 1,
    "2025-03-20T09:00:00": 3,
    "2025-03-21T07:30:00": 1,
}


def fill_history(config: Path, days: dict[str, int] = DAYS, *, first: int = 1) -> int:
    """Record papers first seen at the given moments, then publish the feed as a run would."""
    settings = load_settings(config, environ={})
    db = history.open_history(settings.data_dir / "digest.db")
    number = first - 1
    try:
        for moment, count in days.items():
            papers = []
            for _ in range(count):
                number += 1
                papers.append(Paper(title=f"Paper number {number}", arxiv_id=f"2503.{number:05d}"))
            seen = datetime.fromisoformat(moment).replace(tzinfo=UTC)
            history.record_sightings(
                db, papers, source="test", run_id=None, now=seen, tag_authority="example.org"
            )
        publish_feed(settings, db, NOW)
    finally:
        db.close()
    return number


@contextmanager
def served(
    tmp_path: Path, clock: Clock | None = None, **sections: dict[str, Any]
) -> Iterator[LiveServer]:
    sections.setdefault("schedule", {"timezone": "UTC", "times": ["07:00"]})
    with live_server(
        tmp_path,
        lambda settings: create_app(settings, clock=clock or Clock(NOW)),
        sections=sections,
    ) as server:
        yield server


def links(feed: bytes) -> dict[str, str]:
    """The first link of each rel (the HTML alternate comes before the JSON Feed one)."""
    root = ElementTree.fromstring(feed)
    found: dict[str, str] = {}
    for link in root.findall(f"{ATOM}link"):
        found.setdefault(link.get("rel", ""), link.get("href", ""))
    return found


def entry_ids(feed: bytes) -> list[str]:
    root = ElementTree.fromstring(feed)
    return [entry.findtext(f"{ATOM}id", "") for entry in root.findall(f"{ATOM}entry")]


def test_conditional_gets_gzip_and_validators(tmp_path: Path) -> None:
    with served(tmp_path) as server, httpx.Client(base_url=server.base) as client:
        fill_history(server.config)
        on_disk = (server.settings.data_dir / "feed.atom").read_bytes()
        plain = client.get("/feed.atom", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and plain.content == on_disk
        assert plain.headers["content-type"] == "application/atom+xml; charset=utf-8"
        etag, modified = plain.headers["etag"], plain.headers["last-modified"]
        assert etag.startswith('"') and not etag.startswith("W/"), "a strong ETag"
        assert parsedate_to_datetime(modified).tzinfo is not None
        assert (
            "public" in plain.headers["cache-control"]
            and "max-age=" in plain.headers["cache-control"]
        )

        for validators in ({"If-None-Match": etag}, {"If-Modified-Since": modified},
                           {"If-None-Match": f'"other", {etag}'}):  # fmt: skip
            cached = client.get("/feed.atom", headers={**validators, "Accept-Encoding": "identity"})
            assert cached.status_code == 304 and cached.content == b""
            assert cached.headers["etag"] == etag
        stale = client.get(
            "/feed.atom", headers={"If-None-Match": '"old"', "If-Modified-Since": modified}
        )
        assert stale.status_code == 200, "If-None-Match decides when both are sent"
        earlier = format_datetime(parsedate_to_datetime(modified) - timedelta(hours=1), usegmt=True)
        assert client.get("/feed.atom", headers={"If-Modified-Since": earlier}).status_code == 200

        packed = httpx.get(server.url("/feed.atom"), headers={"Accept-Encoding": "gzip"})
        assert (
            packed.headers["content-encoding"] == "gzip"
            and "Accept-Encoding" in packed.headers["vary"]
        )
        assert packed.content == on_disk  # httpx decodes; the wire carried fewer bytes
        assert int(packed.headers["content-length"]) < len(on_disk) / 2
        assert packed.headers["etag"] != etag
        assert (
            client.get("/feed.atom", headers={"If-None-Match": packed.headers["etag"]}).status_code
            == 304
        )
        head = client.head("/feed.atom")
        assert head.status_code == 200 and head.headers["etag"] and head.content == b""

        fill_history(server.config, {"2025-03-21T11:00:00": 1}, first=100)
        changed = client.get("/feed.atom", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_the_feed_links_right_and_a_quiet_day_is_a_valid_feed(tmp_path: Path) -> None:
    with served(tmp_path) as server, httpx.Client(base_url=server.base) as client:
        quiet = client.get("/feed.atom")  # written at start, before any run
        assert quiet.status_code == 200
        parsed = feedparser.parse(quiet.content)
        assert not parsed.bozo and parsed.entries == []
        assert links(quiet.content)["self"] == server.url("/feed.atom")
        assert links(quiet.content)["alternate"] == server.url("/")

        (server.settings.data_dir / "feed.atom").unlink()
        missing = client.get("/feed.atom")
        assert missing.status_code == 503 and missing.headers["retry-after"]


@pytest.mark.parametrize("max_entries", [500, 2])
def test_a_reader_walks_the_archives_back_to_every_paper(tmp_path: Path, max_entries: int) -> None:
    with served(tmp_path, feed={"window_days": 7, "max_entries": max_entries}) as server:
        total = fill_history(server.config)
        live = httpx.get(server.url("/feed.atom")).content
        seen = entry_ids(live)
        assert len(seen) == min(4, max_entries), "the live feed holds the window"
        url: str | None = links(live).get("prev-archive")
        assert url, "older papers are one link away"
        documents = 0
        while url:
            response = httpx.get(url)
            assert response.status_code == 200, url
            root = ElementTree.fromstring(response.content)
            assert root.find(f"{HISTORY_NS}archive") is not None
            rels = links(response.content)
            assert rels["current"] == server.url("/feed.atom") and rels["self"] == url
            assert not feedparser.parse(response.content).bozo
            seen += entry_ids(response.content)
            url = rels.get("prev-archive")
            documents += 1
        assert len(set(seen)) == total, "nothing is lost between the live feed and the archives"
        assert documents == (2 if max_entries == 500 else 3)


def test_archive_documents_chain_only_closed_days(tmp_path: Path) -> None:
    with (
        served(tmp_path, feed={"window_days": 7}) as server,
        httpx.Client(base_url=server.base) as client,
    ):
        fill_history(server.config)
        first = client.get("/archive/2025-03-01.atom")
        assert len(entry_ids(first.content)) == 2
        assert "prev-archive" not in links(first.content)
        assert links(first.content)["next-archive"] == server.url("/archive/2025-03-05.atom")
        newest = links(client.get("/archive/2025-03-20.atom").content)
        assert "next-archive" not in newest, "today is not closed, so it is no archive yet"
        again = client.get(
            "/archive/2025-03-01.atom", headers={"If-None-Match": first.headers["etag"]}
        )
        assert again.status_code == 304
        assert "max-age=86400" in first.headers["cache-control"]
        for missing in ("2025-03-21", "2025-03-10", "2025-13-01", "latest", "..%2Ffeed"):
            assert client.get(f"/archive/{missing}.atom").status_code == 404, missing


def test_cache_control_follows_the_schedule(tmp_path: Path) -> None:
    clock = Clock(datetime(2025, 3, 21, 6, 55, tzinfo=UTC))
    with served(tmp_path, clock) as server, httpx.Client(base_url=server.base) as client:

        def max_age() -> int:
            control = client.get("/feed.atom").headers["cache-control"]
            return int(control.split("max-age=")[1])

        assert max_age() == 15 * 60, "until ten minutes after the 07:00 run"
        clock.advance(minutes=10)
        assert max_age() == 5 * 60, "a run that just fired may still be writing"
        clock.advance(hours=5)
        assert max_age() == 3 * 3600, "between runs: at most three hours"


def test_topic_feeds_and_the_opml_list(tmp_path: Path) -> None:
    topics = '\n[[topics]]\nslug = "ml"\ntitle = "Machine <learning>"\n'
    with (
        live_server(
            tmp_path, lambda s: create_app(s, clock=Clock(NOW)), extra_config=topics
        ) as server,
        httpx.Client(base_url=server.base) as client,
    ):
        path = server.settings.data_dir / "topics" / "ml.atom"
        assert path.exists(), "written at start with the main feed"
        served_feed = client.get("/topics/ml.atom")
        assert served_feed.status_code == 200 and served_feed.content == path.read_bytes()
        etag = served_feed.headers["etag"]
        assert client.get("/topics/ml.atom", headers={"If-None-Match": etag}).status_code == 304
        shutil.copy(path, path.with_name("extra.atom"))  # a file the config does not name
        for missing in ("nope", "ML", "..%2F..%2Fdigest", "a" * 80):
            assert client.get(f"/topics/{missing}.atom").status_code == 404, missing

        opml = client.get("/feeds.opml")
        assert opml.status_code == 200 and opml.headers["content-type"].startswith("text/x-opml")
        *outlines, other = ElementTree.fromstring(opml.content).findall("body/outline")
        assert [o.get("xmlUrl") for o in outlines] == [
            server.url("/feed.atom"), server.url("/topics/extra.atom"), server.url("/topics/ml.atom"),
        ]  # fmt: skip
        assert outlines[2].get("title") == "Paper digest: Machine <learning>"
        assert all(o.get("type") == "rss" and o.get("htmlUrl") == server.url("/") for o in outlines)
        # The JSON Feed list is linked, not listed: importing one list subscribes once.
        assert (other.get("type"), other.get("url")) == (
            "link",
            server.url("/feeds.opml?format=json"),
        )

        as_json = client.get(other.get("url") or "")
        *json_outlines, back = ElementTree.fromstring(as_json.content).findall("body/outline")
        assert [o.get("xmlUrl") for o in json_outlines] == [
            server.url("/feed.json"), server.url("/topics/extra.json"), server.url("/topics/ml.json"),
        ]  # fmt: skip
        assert [o.get("title") for o in json_outlines] == [o.get("title") for o in outlines]
        assert {o.get("version") for o in json_outlines} == {"JSONFEED"}
        assert back.get("url") == server.url("/feeds.opml")
        assert client.get("/feeds.opml?format=rdf").status_code == 400


def test_healthz(tmp_path: Path) -> None:
    clock = Clock(NOW)
    with served(tmp_path, clock) as server, httpx.Client(base_url=server.base) as client:
        never = client.get("/healthz")
        assert never.status_code == 503 and "no run" in never.json()["reason"]

        db = history.open_history(server.settings.data_dir / "digest.db")
        run_id = history.start_run(db, NOW - timedelta(minutes=3))
        history.finish_run(db, run_id, now=NOW, ok=True, novel=0, digest_id=None, report={})
        db.close()
        healthy = client.get("/healthz")
        assert healthy.status_code == 200, healthy.text
        assert healthy.json()["status"] == "ok"
        assert healthy.json()["allowed_age_seconds"] == 30 * 3600, "daily: 24 h + misfire_grace"
        assert healthy.headers["cache-control"] == "no-store"

        clock.advance(hours=29)
        assert client.get("/healthz").status_code == 200
        clock.advance(hours=2)
        late = client.get("/healthz")
        assert late.status_code == 503 and "31.0 h ago" in late.json()["reason"]

        database = server.settings.data_dir / "digest.db"
        for leftover in database.parent.glob("digest.db*"):
            leftover.unlink()
        database.mkdir()  # something that is not a database where the database should be
        broken = client.get("/healthz")
        assert broken.status_code == 503 and "database" in broken.json()["reason"]


def test_the_feed_names_its_hub_and_a_changed_feed_pings_it(tmp_path: Path) -> None:
    with PageServer() as hub:
        hub_url = hub.route("/hub", Reply(b"", 204))
        with served(tmp_path, site={"websub_hub": hub_url}) as server:
            feed = (server.settings.data_dir / "feed.atom").read_bytes()
            assert links(feed)["hub"] == hub_url
            pings = publishes(hub.requests)
            assert pings == [server.url("/feed.atom")], "the first feed, written at start"

            settings = server.settings
            db = history.open_history(settings.data_dir / "digest.db")
            try:
                with httpx.Client() as client:
                    history.record_sightings(
                        db, [Paper(title="A new paper", arxiv_id="2503.99999")], source="t",
                        run_id=None, now=NOW, tag_authority="example.org",
                    )  # fmt: skip
                    publish_feed(settings, db, NOW, client=client)
                    publish_feed(settings, db, NOW, client=client)  # same bytes: no ping
                    assert len(publishes(hub.requests)) == 2
                    hub.route("/hub", Reply(b"hub is down", 503))
                    history.record_sightings(
                        db, [Paper(title="Another paper", arxiv_id="2503.99998")], source="t",
                        run_id=None, now=NOW, tag_authority="example.org",
                    )  # fmt: skip
                    publish_feed(
                        settings, db, NOW, client=client
                    )  # a hub failure is no run failure
            finally:
                db.close()
            assert len(publishes(hub.requests)) == 3


def publishes(requests: Sequence[Any]) -> list[str]:
    urls = []
    for request in requests:
        if request.method == "POST":
            form = parse_qs(request.body.decode())
            assert form["hub.mode"] == ["publish"]
            urls += form["hub.url"]
    return urls


def test_gzip_bytes_are_stable() -> None:
    """The same feed gzips to the same bytes (mtime=0), so a cache never sees a new variant."""
    from digest.web.feeds import Representation

    body = b"<feed>" + b"x" * 4000 + b"</feed>"
    first = Representation.of(body, NOW, "application/atom+xml")
    second = Representation.of(body, NOW + timedelta(days=1), "application/atom+xml")
    assert first.gzipped == second.gzipped and first.tag == second.tag
    assert first.gzipped is not None and gzip.decompress(first.gzipped) == body


def test_a_changed_feed_is_always_a_second_newer(tmp_path: Path) -> None:
    """HTTP dates have whole seconds; curl-based readers drop a 200 not newer than their
    If-Modified-Since, so two versions written within one second must not share one."""
    from digest.deliver.files import write_atomically

    path = tmp_path / "feed.atom"
    assert write_atomically(path, b"<feed>one</feed>")
    first = int(path.stat().st_mtime)
    assert write_atomically(path, b"<feed>two</feed>")
    assert int(path.stat().st_mtime) > first
    before = path.stat().st_mtime_ns
    assert not write_atomically(path, b"<feed>two</feed>")
    assert path.stat().st_mtime_ns == before, "the same bytes keep their date (and 304s)"


def test_a_304_carries_every_header_of_the_200(tmp_path: Path) -> None:
    """Polls of the live feed are answered before routing (NotModifiedFastPath); they must
    still be the endpoint's own 304: validators, caching, CORS and security headers."""
    with served(tmp_path) as server, httpx.Client(base_url=server.base) as client:
        fill_history(server.config)
        full = client.get("/feed.atom", headers={"Accept-Encoding": "identity"})
        for validators in ({"If-None-Match": full.headers["etag"]},
                           {"If-Modified-Since": full.headers["last-modified"]}):  # fmt: skip
            cached = client.get("/feed.atom", headers={**validators, "Accept-Encoding": "identity"})
            assert cached.status_code == 304
            content = {"content-type", "content-length", "date"}
            expected = {k: v for k, v in full.headers.items() if k not in content}
            assert {k: v for k, v in cached.headers.items() if k not in content} == expected
        gzipped = client.get("/feed.atom", headers={"Accept-Encoding": "gzip"})
        assert gzipped.headers["etag"].endswith('-gz"')
        again = client.get(
            "/feed.atom",
            headers={"If-None-Match": gzipped.headers["etag"], "Accept-Encoding": "gzip"},
        )
        content = {"content-type", "content-length", "content-encoding", "date"}
        assert again.status_code == 304
        assert {k: v for k, v in again.headers.items() if k not in content} == {
            k: v for k, v in gzipped.headers.items() if k not in content
        }
        head = client.head("/feed.atom", headers={"If-None-Match": full.headers["etag"]})
        assert head.status_code == 304 and head.content == b""
        assert client.post("/feed.atom", headers={"If-None-Match": "*"}).status_code == 405
