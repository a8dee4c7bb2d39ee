"""One paper as a reader sees it, wherever they see it: mail, web page, feed summary.

:func:`paper_entry` is the only place that decides what a paper's entry says
and in which order: the linked title, the authors (the first few, then "et
al."), one meta line (organisation · author count · upvotes · category · the
reason, each said once), a TL;DR (Hugging Face's AI summary, labelled as such,
else the abstract's first sentence or two), and a row of links (arXiv · PDF ·
Hugging Face · Code (★ stars) · Project · DOI, each only when known).
Templates and the feed only lay it out, so the mail's text and HTML parts, the
day page and the feed cannot drift apart.

Every string here is plain text (:func:`.text.plain`) and every URL passed
:func:`.links.safe_http_url` or was built by us from an id; escaping is the
serialiser's job.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ..model import StoredPaper
from .links import paper_link, safe_http_url
from .text import plain, plural, shorten

__all__ = [
    "AI_SUMMARY_LABEL",
    "Entry",
    "Link",
    "authors_short",
    "entry_html",
    "entry_text",
    "feed_extras",
    "first_sentences",
    "paper_entry",
]

AUTHORS_IN_MAIL = 3  # "A, B, C et al.": enough to recognise a group, one line on a phone
_TLDR_CHARS = 280  # two sentences of a typical abstract; a longer first sentence is cut
_TLDR_SENTENCES = 2
_TLDR_ENOUGH = 120  # one sentence this long says enough on its own
# A sentence ends at . ! or ? followed by space and a capital or a digit; "e.g. the"
# and "Fig. 3a" mostly stay whole because lower case follows.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])")
_HF_HOSTS = ("huggingface.co", "hf.co")
# HF writes ai_summary with a model; a reader should know it is not the authors' words.
AI_SUMMARY_LABEL = "TL;DR (AI summary by Hugging Face)"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Entry:
    """What every view of a paper shows, in this order."""

    number: int
    title: str
    url: str  # the title's link
    authors: str  # names only; a bare count goes to ``meta``
    meta: tuple[str, ...]
    tldr: str
    tldr_label: str  # who wrote the TL;DR ("" when it is the abstract's own start)
    abstract: str  # the whole abstract, for pages and the feed
    links: tuple[Link, ...]

    @property
    def anchor(self) -> str:
        """The fragment id of this entry on a page: ``#paper-12``."""
        return f"paper-{self.number}"

    @property
    def tldr_is_abstract(self) -> bool:
        """The TL;DR is the abstract itself (short abstracts), so showing both repeats it."""
        return not self.tldr_label and self.tldr == self.abstract


def paper_entry(
    number: int,
    paper: StoredPaper,
    reason: str | None = None,
    *,
    authors_shown: int = AUTHORS_IN_MAIL,
) -> Entry:
    """The entry for ``paper``, numbered ``number`` in its list; ``reason`` says why it is here."""
    abstract = plain(paper.abstract)
    summary = plain(paper.details.ai_summary)
    return Entry(
        number=number,
        title=plain(paper.title) or "(untitled)",
        url=paper_link(paper),
        authors=authors_short(paper.authors, authors_shown),
        meta=_meta(paper, plain(reason)),
        tldr=summary or first_sentences(abstract),
        tldr_label=AI_SUMMARY_LABEL if summary else "",
        abstract=abstract,
        links=_links(paper),
    )


def feed_extras(paper: StoredPaper) -> tuple[str, ...]:
    """Facts a feed entry has room for beyond the mail's: arXiv's comments and journal-ref."""
    details = paper.details
    facts = (
        f"Comments: {plain(details.arxiv_comment)}" if details.arxiv_comment else "",
        f"Journal-ref: {plain(details.journal_ref)}" if details.journal_ref else "",
    )
    return tuple(fact for fact in facts if fact)


def entry_text(entry: Entry, extras: Sequence[str] = ()) -> str:
    """The entry as plain text in its order of facts, for a feed's summary.

    Authors; the meta line; ``extras`` (:func:`feed_extras`); the TL;DR when
    somebody else wrote it (the abstract follows in full, so its own first
    sentences are not repeated); the abstract; one ``label: URL`` line per link,
    for readers that show no related links (newsboat, rss2email).
    """
    head = [entry.authors, " · ".join(entry.meta), *extras]
    parts = [
        "\n".join(line for line in head if line),
        f"{entry.tldr_label}: {entry.tldr}" if entry.tldr_label and entry.tldr else "",
        entry.abstract,
        "\n".join(f"{link.label}: {link.url}" for link in entry.links),
    ]
    return "\n\n".join(part for part in parts if part)


def entry_html(entry: Entry, extras: Sequence[str] = ()) -> str:
    """The same as :func:`entry_text` as escaped HTML paragraphs, for a JSON Feed's content."""
    lines = [entry.authors, " · ".join(entry.meta), *extras]
    parts = [f"<p>{html.escape(line)}</p>" for line in lines if line]
    if entry.tldr_label and entry.tldr:
        label, text = html.escape(entry.tldr_label), html.escape(entry.tldr)
        parts.append(f"<p><strong>{label}:</strong> {text}</p>")
    if entry.abstract:
        parts.append(f"<p>{html.escape(entry.abstract)}</p>")
    anchors = (
        f'<a href="{html.escape(link.url, quote=True)}">{html.escape(link.label)}</a>'
        for link in entry.links
    )
    parts.append(f"<p>{' · '.join(anchors)}</p>")
    return "\n".join(parts)


def authors_short(authors: Sequence[str], shown: int) -> str:
    """``"A, B, C et al."`` (names only: a source that gave a count gives no name).

    >>> authors_short(["Ada", "Grace", "Alan", "Edsger"], 3)
    'Ada, Grace, Alan et al.'
    >>> authors_short(["Ada", "Grace"], 3)
    'Ada and Grace'
    """
    names = [name for name in map(plain, authors) if name]
    if len(names) > shown:
        return ", ".join(names[:shown]) + " et al."
    if len(names) == 2:
        return " and ".join(names)
    return ", ".join(names)


def first_sentences(text: str) -> str:
    """The first sentence or two of ``text`` (one when it is long), cut at a word if need be.

    >>> first_sentences("We add X. It helps. A lot.")
    'We add X. It helps.'
    """
    sentences = _SENTENCE_END.split(text)
    taken: list[str] = []
    for sentence in sentences[:_TLDR_SENTENCES]:
        if taken and len(" ".join(taken)) >= _TLDR_ENOUGH:
            break
        taken.append(sentence)
    return shorten(" ".join(taken), _TLDR_CHARS)


def _meta(paper: StoredPaper, reason: str) -> tuple[str, ...]:
    names = [name for name in map(plain, paper.authors) if name]
    total = max(len(names), paper.author_count or 0)
    # A count with no names is a fact about the paper, not an author: it goes here.
    count = plural(total, "author") if total and not names else ""
    upvotes = plural(paper.upvotes, "upvote") if paper.upvotes else ""
    primary = paper.details.primary_category or (paper.categories[0] if paper.categories else "")
    category = plain(primary)
    # The reason already names the signals and the listing it came from; say them once.
    if upvotes and upvotes.rstrip("s") in reason:
        upvotes = ""
    if category and category in reason:
        category = ""
    facts = (plain(paper.organization), count, upvotes, category, reason)
    return tuple(fact for fact in facts if fact)


def _links(paper: StoredPaper) -> tuple[Link, ...]:
    details = paper.details
    links: list[Link] = []
    pdf = safe_http_url(details.pdf_url)
    if paper.arxiv_id:
        arxiv = quote(paper.arxiv_id)
        links.append(Link("arXiv", f"https://arxiv.org/abs/{arxiv}"))
        pdf = pdf or f"https://arxiv.org/pdf/{arxiv}"
    if pdf:
        links.append(Link("PDF", pdf))
    own = safe_http_url(paper.url)
    hf_page = safe_http_url(details.hf_url)
    if own and _is_hugging_face((urlsplit(own).hostname or "").lower()):
        hf_page = hf_page or own
    elif own and all(own != link.url for link in links):
        links.append(Link(_site_label(own), own))
    if hf_page is None and paper.arxiv_id and _seen_on_hugging_face(paper):
        hf_page = f"https://huggingface.co/papers/{quote(paper.arxiv_id)}"
    if hf_page:
        links.append(Link("Hugging Face", hf_page))
    code = safe_http_url(details.github_repo)
    if code:
        stars = details.github_stars
        links.append(Link(f"Code (\u2605 {stars:,})" if stars else "Code", code))
    project = safe_http_url(details.project_page)
    if project:
        links.append(Link("Project", project))
    if paper.doi:
        links.append(Link("DOI", f"https://doi.org/{quote(paper.doi)}"))
    if not links:
        links.append(Link("Search", paper_link(paper)))
    return tuple(links)


def _site_label(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    if _is_hugging_face(host):
        return "Hugging Face"
    return host.removeprefix("www.") or "Source"


def _is_hugging_face(host: str) -> bool:
    return any(host == name or host.endswith("." + name) for name in _HF_HOSTS)


def _seen_on_hugging_face(paper: StoredPaper) -> bool:
    # Every paper Hugging Face lists has a page at /papers/<arXiv id>.
    return any(
        _is_hugging_face((urlsplit(source).hostname or "").lower())
        for source in paper.sources
        if "://" in source
    )
