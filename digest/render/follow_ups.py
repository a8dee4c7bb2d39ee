"""How a follow-up reads, in mail and feeds: one line per event, and the link it points to.

"Code released: ★ 1.2k — github.com/…", "v2 on arXiv: 'adds experiments'",
"Accepted at ICLR 2026", "Withdrawn by the authors". Everything in an event came
from a source page: it is made plain here and escaped by the templates; a link is
kept only when it is http(s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from ..model import FollowUp, StoredPaper
from .links import paper_link, safe_http_url
from .text import plain, shorten

_COMMENT_CHARS = 160


@dataclass(frozen=True)
class UpdateLine:
    """One event as the templates show it: the paper it is about, the news, where to look."""

    title: str
    paper_link: str
    text: str
    link: str


def stars(count: int) -> str:
    """GitHub's way of writing a star count: 950, 1.2k, 12k."""
    if count < 1000:
        return str(count)
    if count < 10_000:
        return f"{count / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{round(count / 1000)}k"


def describe(event: FollowUp) -> str:
    """The news in one line of plain text."""
    value = plain(event.value)
    detail = plain(event.detail)
    if event.kind == "code":
        shown = _without_scheme(value)
        return (
            f"Code released: \u2605 {stars(int(detail))} \u2014 {shown}"
            if detail.isdigit()
            else (f"Code released \u2014 {shown}")
        )
    if event.kind == "project_page":
        return f"Project page \u2014 {_without_scheme(value)}"
    if event.kind == "version":
        comment = shorten(detail, _COMMENT_CHARS)
        return f"v{value} on arXiv: \u2018{comment}\u2019" if comment else f"v{value} on arXiv"
    if event.kind == "journal_ref":
        return f"Accepted at {value}"
    if event.kind == "doi":
        return f"Published: doi.org/{value}"
    if event.kind == "withdrawn":
        return "Withdrawn by the authors"
    return f"{value} upvotes on Hugging Face"


def feed_lines(news: Sequence[FollowUp]) -> list[str]:
    """A feed entry's opening lines, ``Update: …``, newest first (``news`` is oldest first).

    The reader who sees the entry again wants to know why: the newest news leads.
    """
    return [f"Update: {describe(event)}" for event in reversed(news)]


def event_link(event: FollowUp, paper: StoredPaper) -> str:
    """Where the news can be seen: the repo, the page, the version, the DOI; else the paper."""
    candidate: str | None = None
    if event.kind in ("code", "project_page"):
        candidate = event.value
    elif event.kind in ("version", "withdrawn") and paper.arxiv_id:
        candidate = f"https://arxiv.org/abs/{quote(paper.arxiv_id)}v{quote(event.value)}"
    elif event.kind == "doi":
        candidate = f"https://doi.org/{quote(event.value)}"
    return safe_http_url(candidate) or paper_link(paper)


def update_line(event: FollowUp, paper: StoredPaper) -> UpdateLine:
    return UpdateLine(
        title=plain(paper.title) or "(untitled)",
        paper_link=paper_link(paper),
        text=describe(event),
        link=event_link(event, paper),
    )


def _without_scheme(url: str) -> str:
    for prefix in ("https://", "http://"):
        if url.startswith(prefix):
            url = url[len(prefix) :]
    return url.removeprefix("www.").rstrip("/")
