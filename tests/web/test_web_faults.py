"""The web app under abuse and contention: a held write lock, mail bombing, old links, a foreign Host.

The app runs under uvicorn on a real socket (tests/web_server.py), mail goes
to a real SMTP sink, and the database is the real SQLite file a run would use.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from digest.history import open_history
from digest.history.subscribers import add_subscriber, find_subscriber
from digest.pipeline.readers import mailbox_key
from digest.web import create_app
from digest.web.protocol import HeaderDeadlineProtocol
from tests.servers import SmtpSink
from tests.web_server import MONDAY, Clock, LiveServer, live_server, submit

READER = "reader@example.org"


@contextmanager
def served(tmp_path: Path, sink: SmtpSink, clock: Callable[[], Any]) -> Iterator[LiveServer]:
    sections = {"mail": {"smtp_url": sink.url, "from_address": "Paper digest <d@example.org>"}}
    with live_server(
        tmp_path, lambda settings: create_app(settings, clock=clock), sections=sections
    ) as server:
        yield server


def sign_up(client: httpx.Client, address: str, **headers: str) -> httpx.Response:
    client.get("/")  # as a browser does: the page with the form sets the CSRF cookie
    data = {"email": address, "frequency": "daily"}
    return client.post("/subscribe", data=data, headers=headers)


def stored(server: LiveServer, address: str) -> str:
    db = open_history(server.settings.data_dir / "digest.db")
    try:
        found = find_subscriber(db, address)
        return found.status if found else "none"
    finally:
        db.close()


def settle(sink: SmtpSink, count: int, timeout: float = 10.0) -> None:
    """Wait until the sink holds ``count`` messages, then a moment more for any stragglers."""
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count:
        assert time.monotonic() < deadline, f"{len(sink.messages)} of {count} mails arrived"
        time.sleep(0.02)
    time.sleep(0.3)


def test_a_held_write_lock_answers_503_and_stores_nothing(tmp_path: Path) -> None:
    with SmtpSink() as sink, served(tmp_path, sink, Clock()) as server:
        db = open_history(server.settings.data_dir / "digest.db")
        reader, _ = add_subscriber(db, "kept@example.org", now=MONDAY)
        db.close()
        unsubscribe = "/unsubscribe/" + server.app.state.site.tokens.for_subscriber(reader.id)
        with httpx.Client(base_url=server.base, timeout=60) as browser:
            browser.get("/")
            holder = sqlite3.connect(server.settings.data_dir / "digest.db", isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # a run writing for a long time
            try:
                began = time.monotonic()
                busy = browser.post("/subscribe", data={"email": READER, "frequency": "daily"})
                one_click = browser.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
                took = time.monotonic() - began
            finally:
                holder.rollback()
                holder.close()
            for answer in (busy, one_click):
                assert answer.status_code == 503, answer.text
                assert int(answer.headers["Retry-After"]) > 0
                assert "try again" in answer.text and "Check your inbox" not in answer.text
            assert took < 25, "a busy database is answered in seconds, not after SQLite's 30 s"
            assert stored(server, READER) == "none"
            assert stored(server, "kept@example.org") == "active"

            assert sign_up(browser, READER).status_code == 200  # the lock is gone: it works
            assert browser.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).is_success
        settle(sink, 1)
        assert len(sink.messages) == 1
        assert stored(server, READER) == "pending"
        assert stored(server, "kept@example.org") == "unsubscribed"


VARIANTS = [
    "reader@example.org",
    "Reader@Example.org",
    "READER+news@example.org",
    "reader+1@EXAMPLE.ORG",
    "reader+digest@example.org",
]


def test_tag_and_case_variants_from_many_clients_get_three_mails_a_day_across_a_restart(
    tmp_path: Path,
) -> None:
    clock = Clock()
    with SmtpSink() as sink:
        with served(tmp_path, sink, clock) as server, httpx.Client(base_url=server.base) as browser:
            answers = [
                sign_up(browser, VARIANTS[n % len(VARIANTS)], **{"X-Forwarded-For": f"10.0.0.{n}"})
                for n in range(10)
            ]
        assert [a.status_code for a in answers] == [200] * 3 + [429] * 7
        settle(sink, 3)
        mailboxes = [mailbox_key(address) for address in sink.recipients()]
        assert mailboxes == ["reader@example.org"] * 3

        # A restart keeps the count: the limits live in the database, not in memory.
        with served(tmp_path, sink, clock) as server, httpx.Client(base_url=server.base) as browser:
            assert sign_up(browser, "reader+again@example.org").status_code == 429
            assert sign_up(browser, "r.eader@example.org").status_code == 200, "dots count"
            clock.advance(days=1, seconds=1)
            assert sign_up(browser, "READER@example.org").status_code == 200
        settle(sink, 5)
        assert len(sink.messages) == 5


def test_a_confirmation_link_from_before_an_unsubscribe_cannot_reactivate(tmp_path: Path) -> None:
    clock = Clock()
    with (
        SmtpSink() as sink,
        served(tmp_path, sink, clock) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        sign_up(browser, READER)
        settle(sink, 1)
        old_link = _link(sink, 0)
        submit(browser, old_link)
        assert stored(server, READER) == "active"
        reader_id = server.app.state.site.tokens.confirmed_id(old_link.rsplit("/", 1)[1])
        unsubscribe = "/unsubscribe/" + server.app.state.site.tokens.for_subscriber(reader_id)
        assert browser.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).is_success
        assert stored(server, READER) == "unsubscribed"

        page = browser.get(old_link)
        assert page.status_code == 400 and "earlier sign-up" in page.text
        browser.get("/")
        assert browser.post(old_link).status_code == 400
        assert stored(server, READER) == "unsubscribed"

        clock.advance(minutes=5)
        sign_up(browser, READER)  # signing up again: a fresh link, the old one stays dead
        settle(sink, 2)
        assert browser.post(old_link).status_code == 400
        assert stored(server, READER) == "pending"
        new_link = _link(sink, 1)
        submit(browser, new_link)
        assert stored(server, READER) == "active"


def _link(sink: SmtpSink, index: int) -> str:
    import re

    text = sink.parsed()[index].get_body(("plain",))
    assert text is not None
    match = re.search(r"http://\S+/confirm/\S+", text.get_content())
    assert match
    return match.group(0)


def test_redirects_use_base_url_never_the_host_header(tmp_path: Path) -> None:
    with SmtpSink() as sink, served(tmp_path, sink, Clock()) as server:
        answer = httpx.get(server.url("/digests"), headers={"Host": "evil.example"})
        assert answer.status_code in (301, 307, 308)
        assert answer.headers["location"] == server.base + "/digests/"


class QuickDeadline(HeaderDeadlineProtocol):
    header_seconds = 0.5


def test_a_request_head_that_never_ends_is_cut_off(tmp_path: Path) -> None:
    app = create_app_for(tmp_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, http=QuickDeadline, log_level="warning", lifespan="off")
    )
    import threading

    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            began = time.monotonic()
            assert slow.recv(100) == b"", "the server closes the connection"
            assert time.monotonic() - began < 8
        whole = httpx.get(f"http://127.0.0.1:{port}/healthz")
        assert whole.status_code in (200, 503), "a complete request is served as usual"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def create_app_for(tmp_path: Path) -> Any:
    from digest.config import load_settings

    settings = load_settings(None, environ={"DIGEST_DATA_DIR": str(tmp_path / "data")})
    return create_app(settings)
