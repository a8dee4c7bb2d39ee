"""Pages from cache: the home page, day pages and the archive are rendered once per change.

The same bytes for everyone (no CSRF token in them), a strong ETag, 304 and
gzip; a run that publishes, a template edit or a new topic feed shows at once;
a kept page costs no database connection; memory stays bounded.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.requests import Request

from digest.history import open_history
from digest.history.public import DataWatch
from digest.render.templates import shipped_folder
from digest.web import create_app
from digest.web.feeds import Representation, conditional_response
from digest.web.page_cache import CachedPage, PageCache, Version
from digest.web.security import security_heads
from tests.web_server import EXAMPLES, MONDAY, TUESDAY, Clock, digest_run, live_server

PAGES = ("/", "/digests/", "/digests/2026-11-30")


def app_at(clock: Clock) -> Callable[[Any], Any]:
    return lambda settings: create_app(settings, clock=clock)


def test_the_home_page_has_a_strong_etag_a_304_and_gzip(tmp_path: Path) -> None:
    with (
        live_server(tmp_path, app_at(Clock(MONDAY))) as server,
        httpx.Client(base_url=server.base) as browser,
        httpx.Client(base_url=server.base) as other_browser,
    ):
        digest_run(server.config, EXAMPLES / "hf-daily-2025-03-12.json", now=MONDAY)
        page = browser.get("/", headers={"Accept-Encoding": "gzip"})
        plain = browser.get("/", headers={"Accept-Encoding": "identity"})
        someone_else = other_browser.get("/", headers={"Accept-Encoding": "identity"})
        again = browser.get("/", headers={"If-None-Match": page.headers["etag"]})
        # A browser that kept the page but not the cookie: the 304 brings a cookie along.
        no_cookie = httpx.get(server.url("/"), headers={"If-None-Match": page.headers["etag"]})

    assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
    assert page.headers["etag"].startswith('"') and plain.headers["etag"] != page.headers["etag"]
    assert "Latest digest" in plain.text and 'action="/subscribe"' in plain.text
    assert someone_else.content == plain.content, "the same bytes for every browser"
    assert someone_else.headers["etag"] == plain.headers["etag"]
    assert again.status_code == 304 and again.content == b""
    assert again.headers["content-security-policy"], "security headers on the 304 too"
    assert page.headers["cache-control"] == "no-cache", "kept, but asked again each time"
    assert no_cookie.status_code == 304 and "digest_csrf=" in no_cookie.headers["set-cookie"]
    assert "set-cookie" not in again.headers, "a fresh cookie is not sent again"


def test_a_run_that_publishes_changes_the_pages_at_once(tmp_path: Path) -> None:
    with (
        live_server(tmp_path, app_at(Clock(MONDAY))) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        digest_run(server.config, EXAMPLES / "hf-daily-2025-03-12.json", now=MONDAY)
        before = {path: browser.get(path) for path in PAGES}
        assert browser.get("/digests/2026-12-01").status_code == 404

        digest_run(server.config, EXAMPLES / "arxiv-cs.LG.rss", now=TUESDAY)
        after = {path: browser.get(path) for path in PAGES}
        tuesday = browser.get("/digests/2026-12-01")
        monday = browser.get("/digests/2026-11-30", headers={"If-None-Match": "x"})

    assert all(page.status_code == 200 for page in [*before.values(), *after.values()])
    assert "Tuesday 1 December 2026" in after["/"].text
    assert "Tuesday 1 December 2026" not in before["/"].text
    assert after["/"].headers["etag"] != before["/"].headers["etag"]
    assert after["/digests/"].headers["etag"] != before["/digests/"].headers["etag"]
    assert tuesday.status_code == 200, "a day that was a 404 is never kept as one"
    # Monday's page gained a link to the newer day: new bytes, so a new ETag.
    assert "/digests/2026-12-01" in monday.text
    assert monday.headers["etag"] != before["/digests/2026-11-30"].headers["etag"]


def test_a_kept_page_is_answered_without_opening_the_database(tmp_path: Path) -> None:
    with (
        live_server(tmp_path, app_at(Clock(MONDAY))) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        digest_run(server.config, EXAMPLES / "hf-daily-2025-03-12.json", now=MONDAY)
        site = server.app.state.site
        opened: list[int] = []
        open_db = site.open_db
        site.open_db = lambda: opened.append(1) or open_db()
        first = {path: browser.get(path).content for path in PAGES}
        rendered = len(opened)
        for _ in range(5):
            for path in PAGES:
                assert browser.get(path).content == first[path]
        head = browser.head("/")

    assert rendered == len(PAGES), "each page rendered once, with one connection"
    assert len(opened) == rendered, "no database connection for a kept page"
    assert head.status_code == 200 and head.headers["etag"]


def test_a_template_edit_and_a_new_topic_feed_show_at_once(tmp_path: Path) -> None:
    overrides = tmp_path / "templates"
    (overrides / "web").mkdir(parents=True)
    home = overrides / "web" / "home.html.j2"
    shutil.copy(shipped_folder() / "web" / "home.html.j2", home)
    sections = {"site": {"templates_dir": str(overrides)}}
    with (
        live_server(tmp_path, app_at(Clock(MONDAY)), sections=sections) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        before = browser.get("/")
        home.write_text(home.read_text().replace("{% block main %}", "{% block main %}Edited!"))
        stamp = home.stat().st_mtime_ns + 10**9  # an editor a second later, whatever the clock
        os.utime(home, ns=(stamp, stamp))
        edited = browser.get("/")
        topics = server.settings.data_dir / "topics"
        topics.mkdir(exist_ok=True)
        (topics / "robots.atom").write_bytes(b"<feed/>")
        with_topic = browser.get("/")

    assert "Edited!" not in before.text and "Edited!" in edited.text
    assert "/topics/robots.atom" not in edited.text and "/topics/robots.atom" in with_topic.text


class _Watch(DataWatch):
    """A database that says what version it is at."""

    def __init__(self) -> None:
        self.now: tuple[int, int] | None = (1, 1)

    def version(self) -> tuple[int, int] | None:
        return self.now


def _page(size: int) -> CachedPage:
    return CachedPage.of(Representation.of(b"x" * size, MONDAY, "text/html"), "no-cache", False)


def test_the_cache_is_bounded_and_forgets_what_an_older_version_made() -> None:
    watch = _Watch()
    cache = PageCache(watch, lambda: (), max_bytes=10_000, max_entries=2)
    version = cache.version()
    assert cache.lookup("/a", version) is None
    cache.store("/a", version, _page(100))
    cache.store("/b", version, _page(100))
    assert cache.get("/a") is not None  # /a is now the most recently used
    cache.store("/c", version, _page(100))
    assert (cache.get("/a"), cache.get("/b"), cache.get("/c")) != (None, None, None)
    assert cache.get("/b") is None and len(cache) == 2, "the least recently used left"

    cache.store("/big", version, _page(20_000))
    assert cache.get("/big") is None and cache.get("/a") is not None, "too big to keep"

    watch.now = (1, 2)  # someone committed
    assert cache.get("/a") is None and len(cache) == 0
    cache.store("/a", version, _page(100))
    assert cache.get("/a") is None, "rendered from before the change: not kept"
    watch.now = None  # cannot tell: no cache at all
    assert cache.version() is None and cache.lookup("/a", None) is None


def test_the_cache_holds_at_most_its_bytes() -> None:
    cache = PageCache(_Watch(), lambda: (), max_bytes=10_000, max_entries=100)
    version = cache.version()
    assert cache.lookup("/a", version) is None  # as a request does first
    for path in ("/a", "/b", "/c"):
        cache.store(path, version, _page(4_000))
    assert cache.size <= 10_000 and len(cache) == 2 and cache.get("/a") is None


def test_requests_of_one_turn_of_the_event_loop_share_one_look_at_the_data() -> None:
    watch = _Watch()
    cache = PageCache(watch, lambda: ())

    async def turns() -> None:
        first = cache.version_this_turn()
        watch.now = (1, 2)  # a run commits while this turn's requests are answered
        assert cache.version_this_turn() == first, "the same turn: the same look"
        assert cache.version() == ((1, 2), ()), "an explicit look is always fresh"
        await asyncio.sleep(0)  # the loop turns: it would read new requests now
        assert cache.version_this_turn() == ((1, 2), ())

    async def another_loop_meanwhile() -> None:
        cache.version_this_turn()
        watch.now = (1, 4)
        assert on_a_loop_of_its_own(look) == ((1, 4), ()), "a loop in another thread"

    async def look() -> Version | None:
        return cache.version_this_turn()

    async def commit_in_a_worker_thread_then_look() -> Version | None:
        cache.version_this_turn()  # an earlier request of this turn looked

        def commit() -> None:
            watch.now = (1, 6)

        await asyncio.get_running_loop().run_in_executor(None, commit)  # as Site.query does
        return cache.version_this_turn()

    on_a_loop_of_its_own(turns)
    on_a_loop_of_its_own(another_loop_meanwhile)
    assert on_a_loop_of_its_own(commit_in_a_worker_thread_then_look) == ((1, 6), ()), (
        "the handler that committed sees its commit"
    )


T = TypeVar("T")


def on_a_loop_of_its_own(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run on a new loop in a new thread (the browser tests' playwright holds this thread's)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine()).result()


def test_the_data_watch_sees_every_commit_and_only_commits(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    assert DataWatch(path).version() is None, "no history yet"
    db = open_history(path)
    watch = DataWatch(path)
    try:
        first = watch.version()
        assert first is not None and watch.version() == first
        db.execute("SELECT count(*) FROM papers").fetchall()
        assert watch.version() == first, "a read is not a change"
        db.execute("CREATE TABLE scratch (x)")
        changed = watch.version()
        assert changed is not None and changed != first
        assert watch.version() == changed
    finally:
        watch.close()
        db.close()


def test_a_kept_page_answers_what_conditional_response_would() -> None:
    representation = Representation.of(b"<p>page</p>" * 100, MONDAY, "text/html; charset=utf-8")
    page = CachedPage.of(representation, "public, max-age=300", False)
    for headers in (
        {},
        {"accept-encoding": "gzip"},
        {"if-none-match": f'"{representation.tag}"'},
        {"if-none-match": f'W/"{representation.tag}-gz"', "accept-encoding": "gzip, br"},
        {"if-none-match": '"other"', "accept-encoding": "gzip;q=0"},
    ):
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        }
        expected = conditional_response(
            Request(scope), representation, cache_control=page.cache_control, last_modified=False
        )
        sent = _sent(page, scope)
        assert sent[0]["status"] == expected.status_code, headers
        # Answered before the middleware, so the page adds the security headers itself.
        expected_heads = [*expected.raw_headers, *security_heads(scope)]
        assert sorted(sent[0]["headers"]) == sorted(expected_heads), headers
        assert sent[1]["body"] == expected.body, headers


def _sent(page: CachedPage, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def record(message: Any) -> None:
        sent.append(message)

    # A thread of its own: the browser tests' Playwright may hold a running loop in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, page.send(scope, None, record)).result()  # type: ignore[arg-type]  # no form: never asked
    return sent
