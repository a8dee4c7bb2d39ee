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

from ..identity import all_clean, clean_text, is_clean
from ..model import Paper
from ..tex import has_tex, readable, tex_to_text

__all__ = ["http_url", "readable_paper", "readable_text"]


def readable_text(text: str | None) -> str | None:
    """Readable, whitespace-collapsed text, or None when nothing is left."""
    if text is None:
        return None
    source = clean_text(text)  # a parser's text is clean already: checked, not redone
    return (clean_text(tex_to_text(source)) if has_tex(source) else source) or None


def _readable_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Each name made readable, the empty ones dropped: ``names`` itself when none changes.

    Most bylines are plain clean names: checked together, or else one check of each
    (the same ones :func:`readable_text` makes first) rather than three calls per name.
    """
    if all_clean(names) and not has_tex("".join(names)):
        return names
    for name in names:
        if not name or not is_clean(name) or has_tex(name):
            return tuple(readable for raw in names if (readable := readable_text(raw)))
    return names


def readable_paper(paper: Paper) -> Paper:
    title, title_tex = readable(paper.title)
    abstract, abstract_tex = readable(paper.abstract)
    old = paper.details
    texts = (
        readable_text(old.ai_summary),
        readable_text(old.arxiv_comment),
        readable_text(old.journal_ref),
        title_tex if title else None,
        abstract_tex,
    )
    details = old
    if texts != (old.ai_summary, old.arxiv_comment, old.journal_ref, old.title_tex,
                 old.abstract_tex):  # fmt: skip
        ai_summary, arxiv_comment, journal_ref, title_tex, abstract_tex = texts
        details = replace(
            old, ai_summary=ai_summary, arxiv_comment=arxiv_comment, journal_ref=journal_ref,
            title_tex=title_tex, abstract_tex=abstract_tex,
        )  # fmt: skip
    authors = _readable_names(paper.authors)
    # A title that is nothing but markup ("$$") stays as sent rather than vanish.
    title = title or clean_text(paper.title)
    organization = readable_text(paper.organization)
    if (title, abstract, authors, organization, details) == (
        paper.title,
        paper.abstract,
        paper.authors,
        paper.organization,
        paper.details,
    ):
        return paper  # plain text, already clean (most papers): nothing to copy
    return replace(
        paper, title=title, abstract=abstract, authors=authors, organization=organization,
        details=details,
    )  # fmt: skip


def http_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) URL (source data is untrusted), else None."""
    if not isinstance(value, str):
        return None
    link = value.strip()
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in link):
        return None
    return link
