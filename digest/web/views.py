"""Stored papers as the web pages show them: clean strings, safe links, and why each was picked.

The reason is the feed's (:func:`digest.selection.feed_reasons`): the Hugging
Face signals and where the paper was first seen.

Everything a source said is untrusted: it passes :func:`~digest.render.text.plain`
here and Jinja2 autoescape in the template, and every link passes
:func:`~digest.render.links.safe_http_url` (or is built by us from an id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlsplit

from ..model import StoredPaper
from ..render.links import paper_link, safe_http_url
from ..render.text import authors_line, plain

_AUTHORS_SHOWN = 12
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class PaperView:
    number: int
    title: str
    link: str
    links: tuple[tuple[str, str], ...]  # (label, url)
    authors: str
    kicker: tuple[str, ...]
    details: tuple[str, ...]
    why: str
    abstract: str


def paper_views(papers: Sequence[StoredPaper], reasons: Mapping[int, str]) -> list[PaperView]:
    """Numbered views; ``reasons`` (paper id → one line) say why each paper is here."""
    return [
        paper_view(number, paper, reasons.get(paper.id, ""))
        for number, paper in enumerate(papers, start=1)
    ]


def paper_view(number: int, paper: StoredPaper, reason: str) -> PaperView:
    categories = ", ".join(filter(None, map(plain, paper.categories[:4])))
    return PaperView(
        number=number,
        title=plain(paper.title) or "(untitled)",
        link=paper_link(paper),
        links=_links(paper),
        authors=authors_line(paper.authors, paper.author_count, _AUTHORS_SHOWN),
        kicker=tuple(
            filter(None, (f"arXiv:{plain(paper.arxiv_id)}" if paper.arxiv_id else "", categories))
        ),
        details=tuple(filter(None, (plain(paper.organization),))),
        why=plain(reason),
        abstract=plain(paper.abstract),
    )


def _links(paper: StoredPaper) -> tuple[tuple[str, str], ...]:
    links: list[tuple[str, str]] = []
    if paper.arxiv_id:
        arxiv = quote(paper.arxiv_id)
        links += [
            ("arXiv", f"https://arxiv.org/abs/{arxiv}"),
            ("PDF", f"https://arxiv.org/pdf/{arxiv}"),
        ]
    own = safe_http_url(paper.url)
    if own and all(own != url for _, url in links):
        host = urlsplit(own).hostname or ""
        links.append(("Hugging Face" if host.endswith("huggingface.co") else host, own))
    if paper.doi:
        links.append(("DOI", f"https://doi.org/{quote(paper.doi)}"))
    if not links:
        links.append(("Search", paper_link(paper)))
    return tuple(links)


def long_day(day: date) -> str:
    """``Wednesday 12 March 2025``, in English whatever the locale (like the mail)."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_day(day: date) -> str:
    return f"{_DAYS[day.weekday()][:3]} {day.day} {_MONTHS[day.month - 1][:3]} {day.year}"
