"""Saved text renderings of Hugging Face listing pages ("save as text", copy-paste, reader mode).

Three layouts are seen in real saves, all after a header of fixed lines ("new",
"Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
"byAK and the research community", a date such as "Mar 12"):

(a) title and abstract as blank-line separated paragraphs;
(b) as (a), plus after the abstract a meta block: "• N authors" or an
    organisation line "<slug> <Display Name>", then "·", then the date as
    shown ("Feb 19", "May 13, 2023"), optionally followed by a count
    ("Sep 29 1"); some papers have no meta block;
(c) no blank lines at all, title and abstract on alternating lines, the first
    title glued to "Subscribe" ("SubscribePre-Trained Models: …").

Title or abstract is decided per line by content, not by position, so one
missing abstract cannot shift every later pair. Real titles run to about 150
characters and never hold two sentences; real abstracts run from about 500
characters. A line is an abstract when it is long (``_PROSE_LENGTH``) or holds
two or more sentence breaks. A short line ending in a full stop is read by
position: the abstract of a title still waiting for one, else a title.
Meta lines are recognised by their own shape; an organisation line only as the
line just before a "·". No arXiv ids exist in these renderings, so papers
carry only what is shown, keyed by title.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from ..errors import ParseError
from ..identity import clean_text, parse_arxiv_id
from ..model import Page, Paper
from .readable import readable_paper

log = logging.getLogger(__name__)

EMPTY_LISTING = "the saved listing shows no papers"

_HEADER_LINES = frozenset(
    line.casefold()
    for line in (
        "new",
        "Get trending papers in your email inbox!",
        "Get trending papers in your email inbox once a day!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
    )
)
_HEADER_MARKERS = (b"Get trending papers in your email inbox", b"byAK and the research community")
_GLUED_SUBSCRIBE = "Subscribe"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# The number after the date ("Sep 29 1") is read as upvotes. HF's compact cards also show a
# comment count near the date (docs/formats.md §3); should that be what it is, only this changes.
_DATE_LINE = re.compile(rf"(?P<date>{_MONTH} \d{{1,2}}(?:, \d{{4}})?)(?: (?P<count>\d+))?")
_AUTHORS_LINE = re.compile(r"[•·∙]? ?(?P<n>\d+) authors?")
_SEPARATORS = frozenset({"·", "•", "∙"})
_NUMBER_LINE = re.compile(r"\d+")
_HF_PAPER_LINK = re.compile(r"https?://huggingface\.co/papers/(?P<id>\S+?)/?")
_SENTENCE_BREAK = re.compile(r"[.!?][\"')\]]? +[A-Z]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

_PROSE_LENGTH = 250  # longest real title seen: 143 characters; shortest abstract: 507
_ORG_LENGTH = 80  # "ibm-research IBM Research"; a longer line before "·" is not an org chip
_SNIFF_BYTES = 64 * 1024


@dataclass
class _Draft:
    """One paper while its lines are being read."""

    title: str
    abstract: list[str] = field(default_factory=list)
    author_count: int | None = None
    organization: str | None = None
    listed_on: str | None = None
    upvotes: int | None = None
    arxiv_id: tuple[str, int | None] | None = None
    url: str | None = None
    closed: bool = False  # a meta block ended this entry: later prose is not its abstract

    def paper(self) -> Paper:
        bare, version = self.arxiv_id or (None, None)
        paper = Paper(
            title=self.title,
            abstract=" ".join(self.abstract),
            arxiv_id=bare,
            version=version,
            author_count=self.author_count,
            organization=self.organization,
            listed_on=self.listed_on,
            upvotes=self.upvotes,
            url=self.url,
        )
        return readable_paper(paper)


def parse(payload: bytes, url: str) -> Page:
    """Parse a saved text rendering of an HF listing page into papers.

    A header with no entries is an explicitly empty listing. Anything else
    without at least one title/abstract pair raises :class:`ParseError`.
    """
    text = _decode(payload, url)
    header_seen, body = _split_header(_lines(text))
    drafts = _assemble(body)
    if not drafts and header_seen and all(_is_meta(line) for line in body):
        return Page((), empty_reason=EMPTY_LISTING)
    if not any(draft.abstract for draft in drafts):
        raise ParseError("no recognisable title/abstract entries in this text", source=url)
    return Page(_dedupe(draft.paper() for draft in drafts))


def looks_like_text_listing(payload: bytes) -> bool:
    """Cheap sniff for format detection: HF header lines, or title/abstract alternation."""
    head = payload[:_SNIFF_BYTES]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"<", b"{", b"["):
        return False
    if any(marker in head for marker in _HEADER_MARKERS):
        return True
    lines = _lines(head.decode("utf-8", errors="ignore"))
    pairs = sum(1 for pair in pairwise(lines) if _is_pair(*pair))
    meta = sum(1 for line in lines if _is_meta(line))
    # Every entry is a (title, abstract) pair plus meta lines: together, most of a listing.
    return pairs >= 3 and 2 * pairs + meta >= 0.6 * len(lines)


# --- lines ----------------------------------------------------------------------------


def _decode(payload: bytes, url: str) -> str:
    if b"\x00" in payload:
        raise ParseError("binary data (or UTF-16), not a UTF-8 text listing", source=url)
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text (byte {exc.start})", source=url) from exc
    if text.lstrip()[:1] in ("<", "{", "["):
        raise ParseError("this is HTML or JSON, not a saved text rendering", source=url)
    return text


def _lines(text: str) -> list[str]:
    """Non-blank lines, NFC and whitespace-normalised (a re-save may change both)."""
    cleaned = (clean_text(line) for line in _LINE_BREAK.split(text))
    return [line for line in cleaned if line]


def _split_header(lines: list[str]) -> tuple[bool, list[str]]:
    """Drop the leading header lines; return whether any was seen, and the body."""
    for index, line in enumerate(lines):
        if _is_header(line) or _DATE_LINE.fullmatch(line):
            continue
        header = lines[:index]
        # Layout (c) glues the first title to the "Subscribe" button text. Only there:
        # after a header without its own "Subscribe" line, so "Subscriber …" survives.
        if header and _GLUED_SUBSCRIBE not in header and line.startswith(_GLUED_SUBSCRIBE):
            return True, [line.removeprefix(_GLUED_SUBSCRIBE).strip(), *lines[index + 1 :]]
        return bool(header), lines[index:]
    return bool(lines), []


def _is_header(line: str) -> bool:
    return line.casefold() in _HEADER_LINES


def _is_prose(line: str) -> bool:
    return len(line) >= _PROSE_LENGTH or len(_SENTENCE_BREAK.findall(line)) >= 2


def _is_pair(first: str, second: str) -> bool:
    return not _is_prose(first) and _is_prose(second)


# --- entries --------------------------------------------------------------------------


def _assemble(lines: list[str]) -> list[_Draft]:
    drafts: list[_Draft] = []
    orgs = _org_line_indexes(lines)
    for index, line in enumerate(lines):
        current = drafts[-1] if drafts else None
        if index in orgs:
            _set_org(current, line)
        elif not _read_meta(current, line):
            _read_text(drafts, current, line)
    return drafts


def _org_line_indexes(lines: list[str]) -> set[int]:
    """An organisation line ("adobe Adobe") is known only by the "·" that follows it."""
    return {
        index - 1
        for index, line in enumerate(lines)
        if line in _SEPARATORS
        and index > 0
        and not _is_meta(lines[index - 1])
        and len(lines[index - 1]) <= _ORG_LENGTH
    }


def _is_meta(line: str) -> bool:
    return bool(
        line in _SEPARATORS
        or _AUTHORS_LINE.fullmatch(line)
        or _DATE_LINE.fullmatch(line)
        or _NUMBER_LINE.fullmatch(line)
        or _is_header(line)
    )


def _set_org(draft: _Draft | None, line: str) -> None:
    if draft is None:
        return
    slug, _, display = line.partition(" ")
    draft.organization = display.strip() or slug
    draft.closed = True


def _read_meta(draft: _Draft | None, line: str) -> bool:
    """Apply a meta line to the current entry; False when ``line`` is title or abstract."""
    if _is_meta(line):
        _apply_meta(draft, line)
        return True
    link = _link_id(line)
    if link is None:
        return False
    if draft is not None and draft.arxiv_id is None:
        draft.arxiv_id = link
        draft.url = line if line.startswith(("http://", "https://")) else None
    return True


def _apply_meta(draft: _Draft | None, line: str) -> None:
    # Boilerplate, separators and bare numbers (a vote button) carry nothing to keep.
    if draft is None:
        return
    if authors := _AUTHORS_LINE.fullmatch(line):
        draft.author_count = int(authors["n"])
        draft.closed = True
    elif date := _DATE_LINE.fullmatch(line):
        draft.listed_on = date["date"]
        draft.upvotes = int(date["count"]) if date["count"] else None
        draft.closed = True


def _link_id(line: str) -> tuple[str, int | None] | None:
    """An arXiv id or an arXiv/HF paper link standing alone on its line."""
    hf = _HF_PAPER_LINK.fullmatch(line)
    return parse_arxiv_id(hf["id"] if hf else line)


def _read_text(drafts: list[_Draft], current: _Draft | None, line: str) -> None:
    waiting = current is not None and not current.abstract and not current.closed
    if _is_prose(line) or (waiting and line.endswith(".")):
        _add_abstract(current, line)
    else:
        drafts.append(_Draft(title=line))


def _add_abstract(draft: _Draft | None, line: str) -> None:
    if draft is None or draft.closed:
        # Prose with no open title: a title was lost or misread; keep the rest going.
        log.warning("text listing: skipped a paragraph with no title: %.60s…", line)
        return
    draft.abstract.append(line)


def _dedupe(papers: Iterable[Paper]) -> tuple[Paper, ...]:
    """Keep the first of each title: a saved page can repeat a card (pinned, trending)."""
    kept: dict[str, Paper] = {}
    for paper in papers:
        kept.setdefault(paper.title_key, paper)
    return tuple(kept.values())
