"""The HTML mail as a person sees it: rendered by headless Chromium, screenshots kept.

The PNGs land in tests/output/ (git-ignored) so a reviewer can look at the
desktop and phone layouts after a run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import Browser

from digest.model import Digest
from digest.render.mail import MailMeta, Recipient, build_message, message_id_for, render_digest
from tests.factories import FIRST_SEEN, make_stored_paper
from tests.support import OUTPUT

pytestmark = pytest.mark.browser

DAY = date(2025, 3, 12)
META = MailMeta(
    site_title="Paper digest",
    site_url="https://papers.example.org/",
    feed_url="https://papers.example.org/feed.atom",
    archive_url="https://papers.example.org/archive/",
    from_address="Paper digest <digest@papers.example.org>",
    list_id="daily.papers.example.org",
    message_domain="papers.example.org",
    max_papers=5,
)
RECIPIENT = Recipient(
    address="ada@example.org",
    name="Ada Lovelace",
    unsubscribe_url="https://papers.example.org/u/3f9a1c",
    unsubscribe_mailto="unsub+3f9a1c@papers.example.org",
    view_url="https://papers.example.org/d/2025-03-12",
)
FIRST_TITLE = "Annealed Load Balancing Prevents Routing Collapse in Sparse Mixture-of-Experts"


def sample_digest() -> Digest:
    """Papers shaped like a real day: long and short, many authors, TeX, a reason."""
    abstract = (
        "Sparse mixture-of-experts (MoE) layers route each token to $k$ of $E$ experts, "
        "but routers often collapse onto a handful of experts early in training. We show "
        "that annealing the auxiliary load-balancing loss from a large to a small weight "
        "keeps utilisation above 90% without hurting perplexity, and we prove a bound of "
        "$\\mathcal{O}(\\sqrt{k/E})$ on the imbalance at convergence. Experiments on "
        "language models from 125M to 7B parameters confirm the analysis, and the schedule "
        "transfers unchanged to vision transformers and speech recognition. Code and "
        "checkpoints are released to support further work on efficient conditional "
        "computation at scale."
    )
    papers = (
        make_stored_paper(id=1, title=FIRST_TITLE, abstract=abstract, upvotes=128),
        make_stored_paper(
            id=2,
            title=r"Gr{\"o}bner Bases for Neural Network Verification",
            authors=(r"Jos\'e Garc\'{\i}a", "Mei Chen", "Sven Ødegaard"),
            organization="Universidad de Sevilla",
            categories=("cs.LO", "cs.LG"),
            upvotes=None,
            sources=("arxiv-cs.LO",),
            abstract="We reduce ReLU network verification to ideal membership. " * 4,
        ),
        make_stored_paper(
            id=3,
            title="Observation of a new boson at 125 GeV with the full Run 3 dataset",
            authors=tuple(f"Physicist {n}" for n in range(40)),
            author_count=2913,
            organization="CERN",
            categories=("hep-ex",),
            upvotes=7,
            abstract="A short abstract.",
        ),
        make_stored_paper(id=4, title="Tiny", abstract="", authors=(), author_count=None),
        make_stored_paper(id=5, arxiv_id=None, url=None, doi="10.1000/xyz123"),
        *(make_stored_paper(id=n) for n in range(6, 13)),
    )
    return Digest(id=7, created=FIRST_SEEN, papers=papers)


def mail_html() -> str:
    reasons = {1: "matches your topic \u201cmixture of experts\u201d", 3: "you follow CERN"}
    rendered = render_digest(sample_digest(), META, day=DAY, reasons=reasons)
    message_id = message_id_for(7, DAY, RECIPIENT.address, META.message_domain)
    sent = datetime(2025, 3, 12, 7, 0, tzinfo=UTC)
    raw = build_message(rendered, RECIPIENT, META, message_id=message_id, date=sent).as_bytes()
    html = message_from_bytes(raw, policy=policy.default).get_body(("html",))
    assert html is not None
    content: str = html.get_content()
    return content


def render_page(browser: Browser, width: int, screenshot: str) -> dict[str, int | bool]:
    OUTPUT.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.route("**/*", lambda route: route.abort())  # a mail loads nothing remote
    page.set_content(mail_html())
    page.screenshot(path=str(OUTPUT / screenshot), full_page=True)
    facts: dict[str, int | bool] = page.evaluate(
        """() => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
        })"""
    )
    facts["titleVisible"] = page.get_by_text(FIRST_TITLE, exact=True).is_visible()
    facts["footerVisible"] = page.get_by_text("Unsubscribe", exact=True).is_visible()
    page.close()
    return facts


def test_desktop_layout(browser: Browser) -> None:
    facts = render_page(browser, 1024, "mail.png")

    assert facts["titleVisible"]
    assert facts["footerVisible"]
    assert (OUTPUT / "mail.png").stat().st_size > 10_000


def test_phone_layout_has_no_horizontal_overflow(browser: Browser) -> None:
    facts = render_page(browser, 390, "mail-phone.png")

    assert facts["titleVisible"]
    assert facts["scrollWidth"] <= facts["innerWidth"]
