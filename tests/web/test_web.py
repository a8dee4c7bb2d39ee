"""`digest serve` over real HTTP: sign-up, confirmation, delivery, unsubscribe, and what guards them.

uvicorn runs the app on 127.0.0.1, httpx is the client, the confirmation and
digest mails arrive at a real SMTP server on 127.0.0.1 (aiosmtpd), and runs are
`digest run` subprocesses on the same data folder, as cron would start them.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from digest.history import open_history
from digest.history.subscribers import Subscriber, find_subscriber
from digest.web import create_app
from digest.web.security import Limits
from tests.servers import SmtpSink
from tests.web_server import EXAMPLES, Clock, LiveServer, digest_run, live_server, submit

READER = "reader@example.org"


@contextmanager
def served(
    tmp_path: Path,
    sink: SmtpSink,
    *,
    clock: Callable[[], Any] | None = None,
    limits: Limits | None = None,
) -> Iterator[LiveServer]:
    def build(settings: Any) -> Any:
        options: dict[str, Any] = {"limits": limits}
        if clock is not None:
            options["clock"] = clock
        return create_app(settings, **options)

    with live_server(
        tmp_path,
        build,
        sections={
            "mail": {"smtp_url": sink.url, "from_address": "Paper digest <digest@example.org>"}
        },
    ) as server:
        yield server


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def reader(server: LiveServer, address: str = READER) -> Subscriber | None:
    db = open_history(server.settings.data_dir / "digest.db")
    try:
        return find_subscriber(db, address)
    finally:
        db.close()


def status(server: LiveServer, address: str = READER) -> str:
    found = reader(server, address)
    return found.status if found else "none"


def sign_up(client: httpx.Client, address: str = READER, **fields: Any) -> httpx.Response:
    client.get("/")  # as a browser does: the page with the form sets the CSRF cookie
    data = {"email": address, "frequency": "daily", **fields}
    return client.post("/subscribe", data=data)


def mails_to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [message for message in sink.parsed() if address in str(message["To"])]


def confirm_link(message: EmailMessage) -> str:
    text = message.get_body(("plain",))
    assert text is not None
    match = re.search(r"http://\S+/confirm/\S+", text.get_content())
    assert match, text.get_content()
    return match.group(0)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_subscribe_confirm_receive_unsubscribe(tmp_path: Path) -> None:
    with (
        SmtpSink() as sink,
        served(tmp_path, sink) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        answer = sign_up(browser)
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        wait_for(lambda: len(mails_to(sink, READER)) == 1)
        (confirmation,) = mails_to(sink, READER)
        assert confirmation["Subject"] == "Confirm your subscription to Paper digest"
        assert confirmation.get_content_type() == "multipart/alternative"
        assert confirmation["Message-ID"] and confirmation["Date"]
        assert confirmation["From"] == "Paper digest <digest@example.org>"
        link = confirm_link(confirmation)
        assert link.startswith(server.base + "/confirm/")
        pending = reader(server)
        assert pending is not None and (pending.status, pending.origin) == ("pending", "web")

        # Until confirmed, nothing is sent: a run now mails nobody.
        digest_run(server.config, EXAMPLES / "hf-daily-2025-03-12.json")
        assert len(sink.messages) == 1

        page = browser.get(link)
        assert page.status_code == 200 and "Yes, subscribe me" in page.text
        assert status(server) == "pending", "a GET (a link scanner) must not confirm"
        done = browser.post(link)
        assert done.status_code == 200 and "You are subscribed" in done.text
        assert status(server) == "active"

        digest_run(server.config, EXAMPLES / "arxiv-cs.LG.rss")
        wait_for(lambda: len(mails_to(sink, READER)) == 2)
        digest = mails_to(sink, READER)[1]
        assert digest["List-Id"] and digest["List-Unsubscribe"]
        unsubscribe_url = re.search(r"<(http[^>]+/unsubscribe/[^>]+)>", digest["List-Unsubscribe"])
        assert unsubscribe_url, digest["List-Unsubscribe"]
        view = re.search(r"View in your browser: (\S+)", body_text(digest))
        assert view and re.fullmatch(re.escape(server.base) + r"/read/[\w.-]+", view[1])
        web_copy = browser.get(view[1])
        assert web_copy.status_code == 200 and web_copy.headers["X-Robots-Tag"] == "noindex"
        # The reader's copy holds the mail's papers in the mail's order.
        in_mail = re.findall(r"^\d+\.\s+(.+?)\r?$", body_text(digest), re.M)
        on_page = re.findall(r'class="paper-title">.*?<a href="[^"]+">([^<]+)</a>', web_copy.text)
        assert len(in_mail) >= 5 and on_page == in_mail
        manage = re.search(r"Manage preferences: (\S+)", body_text(digest))
        assert manage and manage[1].startswith(server.base + "/preferences/")
        assert "Your preferences" in browser.get(manage[1]).text

        # RFC 8058: what a mail client sends; no cookie, no CSRF token, no redirect.
        with httpx.Client() as mail_client:
            one_click = mail_client.post(
                unsubscribe_url[1],
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            again = mail_client.post(unsubscribe_url[1], data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 200 and not one_click.history
        assert "set-cookie" not in one_click.headers
        assert again.status_code == 200, "unsubscribing twice is fine"
        assert status(server) == "unsubscribed"

        digest_run(server.config, EXAMPLES / "hf-papers-2025-03-13.html")
        time.sleep(0.3)
        assert len(mails_to(sink, READER)) == 2, "an unsubscribed reader gets nothing more"


def test_asking_again_mails_a_reader_their_preferences_link_once_and_reveals_nothing(
    tmp_path: Path,
) -> None:
    with (
        SmtpSink() as sink,
        served(tmp_path, sink) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        first = sign_up(browser, frequency="weekly", weekday="4")
        wait_for(lambda: len(sink.messages) == 1)
        link = confirm_link(sink.parsed()[0])
        submit(browser, link)
        assert status(server) == "active"

        again = sign_up(browser, frequency="daily")
        wait_for(lambda: len(sink.messages) == 2)
        stranger = sign_up(browser, "stranger@example.org")
        wait_for(lambda: len(sink.messages) == 3)  # the stranger's confirmation
        third = sign_up(browser)  # within the window: no second reminder
        time.sleep(0.3)
        sent = sink.parsed()
        assert [str(m["To"]) for m in sent] == [READER, READER, "stranger@example.org"]
        reminder = sent[1]
        assert reminder["Subject"] == "You already get Paper digest: your preferences link"
        assert reminder["Auto-Submitted"] == "auto-generated"
        manage = re.search(r"(http\S+/preferences/\S+)", body_text(reminder))
        assert manage, body_text(reminder)
        html = reminder.get_body(("html",))
        assert html is not None and manage[1] in html.get_content()
        preferences = browser.get(manage[1])
        assert preferences.status_code == 200 and READER in preferences.text
        kept = reader(server)
        assert kept and (kept.frequency, kept.weekday) == ("weekly", 4), (
            "a sign-up cannot change a reader's settings"
        )

    def page(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, re.sub(r"[\w.+-]+@example\.org", "ADDRESS", response.text)

    assert page(first) == page(again) == page(stranger) == page(third)


def test_a_pending_address_gets_a_fresh_link_and_the_old_one_still_works(tmp_path: Path) -> None:
    with (
        SmtpSink() as sink,
        served(tmp_path, sink) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        sign_up(browser)
        sign_up(browser)
        wait_for(lambda: len(sink.messages) == 2)
        first, second = sink.parsed()
        assert first["Message-ID"] != second["Message-ID"]
        first_link = confirm_link(first)
        submit(browser, first_link)
        assert status(server) == "active"


def test_forged_and_expired_tokens_are_refused(tmp_path: Path) -> None:
    clock = Clock()
    with (
        SmtpSink() as sink,
        served(tmp_path, sink, clock=clock) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        sign_up(browser)
        wait_for(lambda: len(sink.messages) == 1)
        link = confirm_link(sink.parsed()[0])
        forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
        assert browser.get(forged).status_code == 400
        browser.get(link)
        assert browser.post(forged).status_code == 400

        clock.advance(days=3, seconds=2)
        expired = browser.get(link)
        assert expired.status_code == 400 and "expired" in expired.text
        # The CSRF cookie expires too (after 12 hours), so the page must be fresh; the link
        # stays dead.
        assert browser.post(link).status_code in (400, 403)
        assert status(server) == "pending"

        for path in ("/unsubscribe/", "/preferences/"):
            for token_text in ("MQ.forged-signature", "x" * 1000, "not-a-token"):
                assert browser.get(path + token_text).status_code == 400
        one_click = {"List-Unsubscribe": "One-Click"}
        assert browser.post("/unsubscribe/MQ.forged-signature", data=one_click).status_code == 400


def test_a_forged_cross_site_post_is_refused(tmp_path: Path) -> None:
    with (
        SmtpSink() as sink,
        served(tmp_path, sink) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        data = {"email": READER, "frequency": "daily"}
        # No CSRF cookie: this browser never loaded a form here, or it is a cross-site POST,
        # for which a browser withholds the SameSite=Lax cookie.
        assert browser.post("/subscribe", data=data).status_code == 403
        browser.get("/")
        assert browser.cookies.get("digest_csrf")
        # What a browser says when another site's page sends the form: it carries the
        # cookie only where SameSite is not honoured, and these headers it cannot choose.
        for forged in (
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another party
            {"Sec-Fetch-Site": "cross-site", "Origin": server.base},
            {"Origin": "https://attacker.example"},
            {"Origin": "null"},
        ):
            refused = browser.post("/subscribe", data=data, headers=forged)
            assert refused.status_code == 403 and "another site" in refused.text, forged
        with httpx.Client(base_url=server.base, cookies={"digest_csrf": "made-up"}) as other:
            assert other.post("/subscribe", data=data).status_code == 403, "not signed by us"
        assert status(server) == "none" and not sink.messages

        # Our own page, as a browser sends it.
        ours = {"Sec-Fetch-Site": "same-origin", "Origin": server.base}
        assert browser.post("/subscribe", data=data, headers=ours).status_code == 200
        wait_for(lambda: len(sink.messages) == 1)
        link = confirm_link(sink.parsed()[0])
        browser.get(link)
        assert browser.post(link, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
        with httpx.Client(base_url=server.base) as other_browser:
            assert other_browser.post(link).status_code == 403, "no cookie"
        assert status(server) == "pending"


def test_the_csrf_cookie_expires_and_a_form_page_renews_it(tmp_path: Path) -> None:
    clock = Clock()
    with (
        SmtpSink() as sink,
        served(tmp_path, sink, clock=clock) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        first = browser.get("/")
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "set-cookie" not in browser.get("/").headers, "a fresh cookie is kept"
        assert first.headers["cache-control"] == "no-cache"

        clock.advance(hours=13)  # past CSRF_MAX_AGE: a form left open since yesterday
        data = {"email": READER, "frequency": "daily"}
        assert browser.post("/subscribe", data=data).status_code == 403
        renewed = browser.get("/")
        assert "set-cookie" in renewed.headers
        assert renewed.content == first.content, "the page itself does not change"
        assert browser.post("/subscribe", data=data).status_code == 200

        clock.advance(hours=7)  # past half of it: the next page with a form renews it
        assert "set-cookie" in browser.get("/subscribe").headers


def test_rate_limits_per_client_and_per_address(tmp_path: Path) -> None:
    clock = Clock()
    limits = Limits(subscribe_per_address=2, subscribe_per_client=4)
    with (
        SmtpSink() as sink,
        served(tmp_path, sink, clock=clock, limits=limits) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        assert [sign_up(browser).status_code for _ in range(3)] == [200, 200, 429]
        assert sign_up(browser, "other@example.org").status_code == 200
        limited = sign_up(browser, "third@example.org")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        wait_for(lambda: len(sink.messages) == 3)
        clock.advance(hours=1, seconds=1)
        assert sign_up(browser, "third@example.org").status_code == 200


def test_input_limits(tmp_path: Path) -> None:
    with (
        SmtpSink() as sink,
        served(tmp_path, sink) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        too_long = sign_up(browser, "a" * 300 + "@example.org")
        assert too_long.status_code == 400 and "too long" in too_long.text
        not_an_address = sign_up(browser, "<script>@@")
        assert not_an_address.status_code == 400 and "<script>@@" not in not_an_address.text
        assert sign_up(browser, topics="no-such-topic").status_code == 400
        assert sign_up(browser, frequency="hourly").status_code == 400
        huge = browser.post("/subscribe", content=b"email=" + b"x" * 40_000,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert huge.status_code == 413
        time.sleep(0.2)
        assert sink.messages == []


def test_unsubscribe_page_asks_first_and_preferences_change_the_settings(tmp_path: Path) -> None:
    with (
        SmtpSink() as sink,
        served(tmp_path, sink) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        sign_up(browser)
        wait_for(lambda: len(sink.messages) == 1)
        link = confirm_link(sink.parsed()[0])
        done = submit(browser, link)
        preferences = re.search(r'href="(/preferences/[^"]+)"', done.text)
        assert preferences
        unsubscribe = preferences[1].replace("/preferences/", "/unsubscribe/")

        page = browser.get(unsubscribe)
        assert page.status_code == 200 and 'value="One-Click"' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert status(server) == "active", "GET never unsubscribes"

        form = browser.get(preferences[1])
        saved = browser.post(
            preferences[1],
            data={
                "action": "save",
                "frequency": "weekly",
                "weekday": "4",
            },
        )
        assert saved.status_code == 200 and "Saved" in saved.text
        settings = reader(server)
        assert settings is not None and (settings.frequency, settings.weekday) == ("weekly", 4)
        assert settings.updates, "a form without the updates box keeps them on"

        form = browser.get(preferences[1])
        assert 'name="updates" value="1" checked' in form.text
        fields = {"action": "save", "frequency": "daily"}
        browser.post(preferences[1], data={**fields, "updates_asked": "1"})
        settings = reader(server)
        assert settings is not None and not settings.updates, "the box unticked: no updates"
        form = browser.get(preferences[1])
        assert 'name="updates" value="1">' in form.text
        browser.post(preferences[1], data={**fields, "updates_asked": "1", "updates": "1"})
        settings = reader(server)
        assert settings is not None and settings.updates

        browser.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
        assert status(server) == "unsubscribed"
        browser.get(preferences[1])
        again = browser.post(preferences[1], data={"action": "resubscribe"})
        assert again.status_code == 200 and status(server) == "active"


def test_pages_show_source_text_as_text(tmp_path: Path) -> None:
    hostile = json.loads((EXAMPLES / "hf-daily-2025-03-12.json").read_text())[:1]
    hostile[0]["paper"]["id"] = "2599.00001"
    hostile[0]["paper"]["title"] = '<script>alert("title")</script> Hostile <b>Title</b>'
    hostile[0]["paper"]["authors"][0]["name"] = "<img src=x onerror=alert(1)>"
    hostile[0]["paper"]["summary"] = "</p><script>alert('abstract')</script>"
    source = tmp_path / "hostile.json"
    source.write_text(json.dumps(hostile))
    with (
        SmtpSink() as sink,
        served(tmp_path, sink) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        digest_run(server.config, source)
        day = re.search(r"/digests/(\d{4}-\d{2}-\d{2})", browser.get("/digests/").text)
        assert day
        for path in ("/", f"/digests/{day[1]}"):
            html = browser.get(path).text
            assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html
            assert "<script" not in html and "<img" not in html and "<b>" not in html


def test_security_headers_and_no_stack_traces(tmp_path: Path) -> None:
    with (
        SmtpSink() as sink,
        served(tmp_path, sink) as server,
        httpx.Client(base_url=server.base) as browser,
    ):
        for path in ("/", "/feed.atom", "/nowhere"):
            headers = browser.get(path).headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
        assert browser.get("/nowhere").status_code == 404

        # A real fault: the history loses a table under the running app.
        with sqlite3.connect(server.settings.data_dir / "digest.db") as db:
            db.execute("DROP TABLE digests")
        broken = browser.get("/digests/")
        assert broken.status_code == 500
        assert "Something went wrong" in broken.text
        assert "Traceback" not in broken.text and "no such table" not in broken.text
        assert broken.headers["x-frame-options"] == "DENY", "even a failure keeps the headers"


def test_serve_is_a_command_with_a_documented_help() -> None:
    from click.testing import CliRunner

    from digest.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output and "base_url" in result.output
