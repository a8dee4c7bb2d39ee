"""The pages as a person uses them: headless Chromium fills the form, confirms, unsubscribes.

Screenshots of the home page, a digest page and the mails' HTML parts land in
tests/output/ (git-ignored) for review, at desktop and phone widths.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    ViewportSize,
)

from digest.history import open_history
from digest.history.subscribers import find_subscriber
from digest.web import create_app
from tests.servers import SmtpSink
from tests.support import OUTPUT
from tests.web_server import EXAMPLES, MONDAY, TUESDAY, Clock, LiveServer, digest_run, live_server

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1100, "height": 900}
READER = "ada@example.org"


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def mails_to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [message for message in sink.parsed() if address in str(message["To"])]


def html_part(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def mail_titles(message: EmailMessage) -> list[str]:
    """The paper titles of a mail's HTML part, in order (each is a heading with an id)."""
    found = re.findall(r'<h[23][^>]*id="paper-\d+"[^>]*><a [^>]*>(.*?)</a>', html_part(message))
    return [unescape(title) for title in found]


def status(server: LiveServer) -> str:
    db = open_history(server.settings.data_dir / "digest.db")
    try:
        found = find_subscriber(db, READER)
    finally:
        db.close()
    return found.status if found else "none"


class Watched:
    """A page that records console errors (a CSP violation is one) and dialogs (an XSS would be)."""

    def __init__(self, browser: Browser, viewport: ViewportSize) -> None:
        self.page = browser.new_page(viewport=viewport)
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def fits(self) -> bool:
        """Nothing sticks out sideways: the page reads on its viewport without scrolling across."""
        widths: dict[str, int] = self.page.evaluate(
            "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
        )
        return widths["scroll"] <= widths["inner"]


def shoot(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / name), full_page=True)
    assert (OUTPUT / name).stat().st_size > 5_000


def show_mail(browser: Browser, html: str, name: str) -> None:
    for viewport, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        page = browser.new_page(viewport=viewport)
        page.route("**/*", lambda route: route.abort())  # a mail loads nothing remote
        page.set_content(html)
        shoot(page, f"{name}{suffix}.png")
        page.close()


def hostile_source(tmp_path: Path) -> Path:
    papers = json.loads((EXAMPLES / "hf-daily-2025-03-12.json").read_text())
    papers[0]["paper"]["title"] = (
        '<script>alert("xss")</script> Adapters <img src=x onerror=alert(2)>'
    )
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(papers))
    return path


def test_sign_up_confirm_read_and_unsubscribe_in_a_browser(
    browser: Browser, tmp_path: Path
) -> None:
    with (
        SmtpSink() as sink,
        live_server(
            tmp_path,
            lambda settings: create_app(settings, clock=Clock(MONDAY)),
            sections={
                "mail": {"smtp_url": sink.url, "from_address": "Paper digest <digest@example.org>"}
            },
        ) as server,
    ):
        digest_run(server.config, hostile_source(tmp_path))
        desk = Watched(browser, DESKTOP)
        desk.page.goto(server.url("/"))
        assert desk.page.get_by_role("heading", name="Latest digest").is_visible()
        assert (
            desk.page.get_by_text('<script>alert("xss")</script> Adapters', exact=False).count()
            == 1
        )
        shoot(desk.page, "web-home.png")
        # The page comes from the server's cache and, reloaded, is revalidated (ETag): the
        # form in it still works, since it holds no per-visit secret.
        desk.page.reload()

        desk.page.get_by_label("Your email address").fill(READER)
        desk.page.get_by_label("Weekly, on").check()
        desk.page.get_by_label("Day of the week for weekly mail").select_option("Monday")
        desk.page.get_by_role("button", name="Subscribe").click()
        assert desk.page.get_by_role("heading", name="Check your inbox").is_visible()
        wait_for(lambda: len(mails_to(sink, READER)) == 1)
        confirmation = mails_to(sink, READER)[0]
        show_mail(browser, html_part(confirmation), "web-confirm-mail")

        link = re.search(r'href="(http[^"]+/confirm/[^"]+)"', html_part(confirmation))
        assert link
        desk.page.goto(link[1])
        assert status(server) == "pending", "opening the link alone does not confirm"
        desk.page.get_by_role("button", name="Yes, subscribe me").click()
        assert desk.page.get_by_role("heading", name="You are subscribed").is_visible()
        assert status(server) == "active"

        # A weekly reader's Tuesday passes without mail; their Monday brings the whole week.
        digest_run(server.config, EXAMPLES / "hf-papers-2025-03-13.html", now=TUESDAY)
        assert len(mails_to(sink, READER)) == 1, "no mail on a Tuesday for a Monday reader"
        digest_run(server.config, EXAMPLES / "arxiv-cs.LG.rss", now=MONDAY + timedelta(days=7))
        wait_for(lambda: len(mails_to(sink, READER)) == 2)
        digest_mail = mails_to(sink, READER)[1]
        show_mail(browser, html_part(digest_mail), "web-digest-mail")

        view = re.search(r'href="(http[^"]+/read/[^"]+)"', html_part(digest_mail))
        assert view, "the mail links to the reader's own copy"
        desk.page.goto(view[1])
        # The week's copy is the mail's twin: the same papers in the same order.
        page_titles = desk.page.locator("article.paper .paper-title a").all_inner_texts()
        assert len(page_titles) >= 6
        assert page_titles[: len(mail_titles(digest_mail))] == mail_titles(digest_mail)
        shoot(desk.page, "web-reader-copy.png")

        unsubscribe = re.search(r"<(http[^>]+/unsubscribe/[^>]+)>", digest_mail["List-Unsubscribe"])
        assert unsubscribe
        desk.page.goto(unsubscribe[1])
        assert status(server) == "active", "the page asks first"
        desk.page.get_by_role("button", name="Unsubscribe").click()
        assert desk.page.get_by_role("heading", name="You are unsubscribed").is_visible()
        assert status(server) == "unsubscribed"
        assert desk.errors == [] and desk.dialogs == [], "no CSP violation, no script ran"


@pytest.mark.parametrize("path", ["/", "/digests/", "DIGEST", "/subscribe", "/nowhere"])
def test_pages_read_well_on_a_phone(browser: Browser, tmp_path: Path, path: str) -> None:
    with live_server(tmp_path, lambda settings: create_app(settings)) as server:
        digest_run(server.config, EXAMPLES)
        phone = Watched(browser, PHONE)
        phone.page.goto(server.url("/digests/"))
        if path == "DIGEST":
            phone.page.locator("ul.days a").first.click()
        else:
            phone.page.goto(server.url(path))
        assert phone.fits()
        size = phone.page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 16, "body text stays readable without zooming"
        if path in ("/", "DIGEST"):
            shoot(phone.page, "web-home-phone.png" if path == "/" else "web-digest-phone.png")
        assert phone.errors == [] or path == "/nowhere"  # a 404 page logs its own 404
