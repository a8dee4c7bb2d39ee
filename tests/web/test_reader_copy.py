"""The browser copy is the mail's twin, and every page passes axe-core and the Nu Html Checker.

A real `digest run` (subprocess) mails a topic reader through a real SMTP
server; the test follows the mail's own links on the live app: "View in your
browser" shows the same sections and papers in the same order, then the rest
of the reader's list, which "and N more" opens at paper N+1. Then Chromium
loads every page with axe-core injected: nothing serious or critical; and the
Nu Html Checker (vnu.jar, the W3C validator's engine) finds no error on any
page nor in the mail's HTML part.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from digest.history import open_history
from digest.history.subscribers import add_subscriber
from digest.web import create_app
from tests.servers import SmtpSink
from tests.support import OUTPUT, VNU_JAR, serious_violations
from tests.web_server import EXAMPLES, MONDAY, Clock, LiveServer, digest_run, live_server

READER = "ada@example.org"
SHOWN = 4  # [mail] max_papers: small, so that the copy has a rest to show
TOPICS = """
[[topics]]
slug = "diffusion"
title = "Diffusion"
query = "diffusion"

[[topics]]
slug = "language-models"
title = "Language models"
query = '"language model"*'
"""


def serve(tmp_path: Path, sink: SmtpSink) -> Any:
    return live_server(
        tmp_path,
        lambda settings: create_app(settings, clock=Clock(MONDAY)),
        sections={
            "mail": {
                "smtp_url": sink.url,
                "from_address": "Paper digest <digest@example.org>",
                "max_papers": SHOWN,
            }
        },
        extra_config=TOPICS,
    )


def add_reader(server: LiveServer, topics: list[str]) -> int:
    db = open_history(server.settings.data_dir / "digest.db")
    try:
        reader, _ = add_subscriber(db, READER, now=MONDAY, topics=topics, origin="cli")
    finally:
        db.close()
    return reader.id


def html_part(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def headings(html: str, pattern: str) -> list[str]:
    return [unescape(re.sub(r"<[^>]+>", "", found)).strip() for found in re.findall(pattern, html)]


def mail_titles(html: str) -> list[str]:
    return headings(html, r'<h[23][^>]*id="paper-\d+"[^>]*>(.*?)</h[23]>')


def page_titles(html: str) -> list[str]:
    titles = headings(html, r'<h[23] class="paper-title">(.*?)</h[23]>')
    return [re.sub(r"^\d+\.\s*", "", title) for title in titles]


def test_a_topic_readers_copy_is_their_mail_in_order_then_the_rest(tmp_path: Path) -> None:
    with SmtpSink() as sink, serve(tmp_path, sink) as server:
        add_reader(server, ["diffusion", "language-models"])
        digest_run(server.config, EXAMPLES)
        (mail,) = sink.parsed()
        html, text = html_part(mail), text_part(mail)
        view = re.search(r"View in your browser: (\S+)", text)
        more = re.search(r"and (\d+) more: (\S+)", text)
        assert view and more, text
        copy = httpx.get(view[1])

    assert copy.status_code == 200 and "noindex" in copy.headers["X-Robots-Tag"]
    in_mail = mail_titles(html)
    on_page = page_titles(copy.text)
    assert len(in_mail) == SHOWN
    assert on_page[:SHOWN] == in_mail, "the mail's papers, in the mail's order"
    assert len(on_page) == SHOWN + int(more[1]), "then the rest of the reader's list"
    # "and N more" opens the copy at the first paper the mail left out.
    assert more[2] == f"{view[1]}#paper-{SHOWN + 1}"
    assert f'href="{more[2]}"' in html
    assert f'id="paper-{SHOWN + 1}"' in copy.text
    # The same topic sections, in the same order.
    sections_in_mail = re.findall(r"^(Diffusion|Language models)\n=+$", text, re.M)
    sections_on_page = headings(copy.text, r'<h2 id="topic-\d+">(.*?)</h2>')
    assert sections_on_page[: len(sections_in_mail)] == sections_in_mail
    assert sections_in_mail


def test_the_day_page_and_home_page_rank_as_a_reader_without_topics_gets_it(
    tmp_path: Path,
) -> None:
    with SmtpSink() as sink, serve(tmp_path, sink) as server:
        add_reader(server, [])
        digest_run(server.config, EXAMPLES)
        (mail,) = sink.parsed()
        home = httpx.get(server.url("/")).text
        day = re.search(r'href="[^"]*/digests/(\d{4}-\d{2}-\d{2})"', home)
        assert day
        page = httpx.get(server.url(f"/digests/{day[1]}")).text

    in_mail = mail_titles(html_part(mail))
    assert len(in_mail) == SHOWN
    assert page_titles(page)[:SHOWN] == in_mail
    on_home = [
        unescape(t) for t in re.findall(r'<a class="line-title" href="[^"]+">([^<]+)</a>', home)
    ]
    assert on_home[:SHOWN] == in_mail


def test_a_copy_link_that_was_altered_does_not_work(tmp_path: Path) -> None:
    with SmtpSink() as sink, serve(tmp_path, sink) as server:
        reader_id = add_reader(server, [])
        digest_run(server.config, EXAMPLES)
        tokens = server.app.state.site.tokens  # type: ignore[attr-defined]
        good = tokens.for_copy(reader_id, 0, 1)
        someone_else = tokens.for_copy(reader_id + 1, 0, 1)
        answers = [
            httpx.get(server.url(f"/read/{token}")).status_code
            for token in (good, good[:-2] + "xx", someone_else, "x" * 500)
        ]

    assert answers == [200, 400, 404, 400]


# --- axe-core on every page ----------------------------------------------------------


LOOKS = {"": (1100, "light"), "-phone": (390, "light"), "-dark": (1100, "dark")}


def serious(browser: Browser, url: str, name: str, look: str = "") -> list[dict[str, Any]]:
    width, scheme = LOOKS[look]
    # The pages' CSP allows no script: axe is injected past it, as a developer tool would.
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        color_scheme=scheme,  # type: ignore[arg-type]
        bypass_csp=True,
    )
    page = context.new_page()
    page.goto(url)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"page-{name}{look}.png"), full_page=True)
    found = serious_violations(page)
    context.close()
    return found


def every_page(server: LiveServer, reader_id: int) -> dict[str, str]:
    """Each kind of page a visitor or a reader can open, by name: its path."""
    tokens = server.app.state.site.tokens  # type: ignore[attr-defined]
    mine = tokens.for_subscriber(reader_id)
    day = re.search(r'href="[^"]*/digests/(\d{4}-\d{2}-\d{2})"', httpx.get(server.url("/")).text)
    assert day
    return {
        "home": "/",
        "archive": "/digests/",
        "day": f"/digests/{day[1]}",
        "subscribe": "/subscribe",
        "preferences": f"/preferences/{mine}",
        "unsubscribe": f"/unsubscribe/{mine}",
        "confirm": f"/confirm/{tokens.for_confirmation(reader_id, None)}",
        "reader-copy": f"/read/{tokens.for_copy(reader_id, 0, 1)}",
        "not-found": "/nowhere",
    }


@pytest.mark.browser
def test_axe_finds_nothing_serious_on_any_page(browser: Browser, tmp_path: Path) -> None:
    with SmtpSink() as sink, serve(tmp_path, sink) as server:
        reader_id = add_reader(server, ["diffusion"])
        digest_run(server.config, EXAMPLES)
        pages = every_page(server, reader_id)
        found = {name: serious(browser, server.url(path), name) for name, path in pages.items()}
        # The reading pages also on a phone and in dark mode (screenshots kept for review).
        for name in ("home", "day", "reader-copy"):
            for look in ("-phone", "-dark"):
                found[name + look] = serious(browser, server.url(pages[name]), name, look)

    assert found == {name: [] for name in found}


# --- the Nu Html Checker on every page and the mail --------------------------------------

# Outlook's Word engine ignores display:none, so the mail's hidden preheader also says
# mso-hide:all, a property of Microsoft's own that the checker does not know. It is
# the only finding the mail may have (docs/standards.md, "HTML mail").
OUTLOOK_ONLY = re.compile(r"^CSS: “mso-[a-z-]+”: Property “mso-[a-z-]+” doesn't exist\.$")


def nu_errors(files: dict[str, Path]) -> dict[str, list[str]]:
    """The Nu Html Checker's errors per file (warnings and info left out)."""
    java = shutil.which("java")
    if java is None or not VNU_JAR.exists():
        pytest.skip(f"the Nu Html Checker needs java and {VNU_JAR} (.ci/run installs both)")
    answer = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always",
         *map(str, files.values())],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    by_file = {path.name: name for name, path in files.items()}  # it answers with file: URLs
    found: dict[str, list[str]] = {name: [] for name in files}
    for message in json.loads(answer.stderr)["messages"]:
        if message["type"] == "error":
            found[by_file[message["url"].rsplit("/", 1)[-1]]].append(
                f"{message.get('lastLine')}: {message['message']}"
            )
    return found


def test_the_nu_html_checker_finds_no_error_on_any_page_or_in_the_mail(tmp_path: Path) -> None:
    with SmtpSink() as sink, serve(tmp_path, sink) as server:
        reader_id = add_reader(server, ["diffusion"])
        digest_run(server.config, EXAMPLES)
        (mail,) = sink.parsed()
        files = {}
        for name, path in every_page(server, reader_id).items():
            files[name] = tmp_path / f"{name}.html"
            files[name].write_bytes(httpx.get(server.url(path)).content)
        files["mail"] = tmp_path / "mail.html"
        files["mail"].write_text(html_part(mail), encoding="utf-8")

    found = nu_errors(files)
    found["mail"] = [
        error for error in found["mail"] if not OUTLOOK_ONLY.match(error.split(": ", 1)[1])
    ]
    assert found == {name: [] for name in files}
