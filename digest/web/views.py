"""Stored papers as the web pages show them: the mail's entries, with more authors and the abstract.

An entry is :func:`digest.render.entry.paper_entry`'s, the one every view of a
paper shares (title, authors, meta line, TL;DR, links), so a page and the mail
say the same things in the same order. The reason is the reader's: the topics'
evidence, the Hugging Face signals and where the paper was first seen.

Everything a source said is untrusted: the entry holds plain text and safe
links only, and Jinja2 autoescapes the template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from ..model import StoredPaper
from ..render.entry import Entry, paper_entry

AUTHORS_ON_PAGES = 12  # a page has room for a long author line; the mail shows three
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def paper_views(papers: Sequence[StoredPaper], reasons: Mapping[int, str]) -> list[Entry]:
    """Numbered entries; ``reasons`` (paper id → one line) say why each paper is here."""
    return [
        paper_entry(number, paper, reasons.get(paper.id), authors_shown=AUTHORS_ON_PAGES)
        for number, paper in enumerate(papers, start=1)
    ]


def long_day(day: date) -> str:
    """``Wednesday 12 March 2025``, in English whatever the locale (like the mail)."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_day(day: date) -> str:
    return f"{_DAYS[day.weekday()][:3]} {day.day} {_MONTHS[day.month - 1][:3]} {day.year}"
