"""The last step of every parser: text a reader can read, and links a reader can follow.

Parsers build a :class:`~digest.model.Paper` from what the payload says, with
whitespace collapsed but TeX as sent. :func:`readable_paper` converts the TeX
of every text field (:mod:`digest.tex`) and keeps the source's own title and
abstract in ``details`` when they held TeX, so history stores the readable
text (searched, matched by topics, shown everywhere) and the original too.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from ..identity import clean_text
from ..model import Paper
from ..tex import readable, tex_to_text

__all__ = ["http_url", "readable_paper", "readable_text"]


def readable_text(text: str | None) -> str | None:
    """Readable, whitespace-collapsed text, or None when nothing is left."""
    if text is None:
        return None
    return clean_text(tex_to_text(clean_text(text))) or None


def readable_paper(paper: Paper) -> Paper:
    title, title_tex = readable(paper.title)
    abstract, abstract_tex = readable(paper.abstract)
    details = replace(
        paper.details,
        ai_summary=readable_text(paper.details.ai_summary),
        arxiv_comment=readable_text(paper.details.arxiv_comment),
        journal_ref=readable_text(paper.details.journal_ref),
        title_tex=title_tex if title else None,
        abstract_tex=abstract_tex,
    )
    authors = tuple(name for raw in paper.authors if (name := readable_text(raw)))
    return replace(
        paper,
        # A title that is nothing but markup ("$$") stays as sent rather than vanish.
        title=title or clean_text(paper.title),
        abstract=abstract,
        authors=authors,
        organization=readable_text(paper.organization),
        details=details,
    )


def http_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) URL (source data is untrusted), else None."""
    if not isinstance(value, str):
        return None
    link = value.strip()
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in link):
        return None
    return link
