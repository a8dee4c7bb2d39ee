"""Untrusted source text made safe and readable, shared by the feed and the mail.

Titles, author names and abstracts arrive from listing pages with whatever the
page held: control characters (which lxml refuses and which break a text mail's
layout), TeX accents from arXiv metadata (``Jos\\'e``), and abstracts far longer
than a newsletter should carry. Maths such as ``$k$`` is left as it is: it reads
well as text, and mail clients run no MathJax (docs/readers.md §9).
"""

from __future__ import annotations

import re
import unicodedata

# Characters that are neither text nor whitespace: C0/C1 controls, XML 1.0's
# forbidden non-characters, lone surrogates, and the BMP private-use area (the
# mail renderer uses two private-use characters as its placeholder brackets,
# so source text must never be able to forge one).
_NOT_TEXT = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\ue000-\uf8ff\ufffe\uffff]"
)

# TeX accent commands -> Unicode combining marks (LaTeX's "ltoutenc" names).
_MARKS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "r": "\u030a",
    "k": "\u0328",
}
# A letter command must not run into a longer name (\c is cedilla, \cite is not).
_COMMAND = r"""\\(?P<cmd>['`^"~=.]|[cvuHrk](?![A-Za-z]))\s*"""
_BASE = r"(?:\{\s*(?P<braced>\\[ij]|[A-Za-z])\s*\}|(?P<bare>\\[ij](?![A-Za-z])|[A-Za-z]))"
_ACCENT = re.compile(_COMMAND + _BASE)
# "{\'e}" groups the accent for TeX; once it is one character the braces go too.
_BRACED_ACCENT = re.compile(r"\{(" + _COMMAND + _BASE + r")\}")


def plain(text: str | None) -> str:
    """One line of clean text: NFC, controls dropped, whitespace collapsed, accents decoded."""
    if not text:
        return ""
    visible = _NOT_TEXT.sub("", text)
    return " ".join(unicodedata.normalize("NFC", detex_accents(visible)).split())


def detex_accents(text: str) -> str:
    """Turn TeX accents into characters: ``Jos\\'e`` and ``{\\"o}`` read as é and ö.

    >>> detex_accents(r"Jos\\'e G{\\"o}del and \\c{C}elik, $k$-means")
    'José Gödel and Çelik, $k$-means'
    """
    if "\\" not in text:
        return text
    unwrapped = _BRACED_ACCENT.sub(r"\1", text)
    return unicodedata.normalize("NFC", _ACCENT.sub(_compose, unwrapped))


def _compose(match: re.Match[str]) -> str:
    # A TeX author writes \'{\i} (dotless i) so the accent replaces the dot;
    # Unicode composes a plain i with the mark into í.
    base = (match.group("braced") or match.group("bare")).lstrip("\\")
    return base + _MARKS[match.group("cmd")]


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters plus an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit + 1)
    if cut < limit // 2:  # one enormous "word": cut it rather than lose the text
        cut = limit
    return text[:cut].rstrip(" ,;:.-\u2013\u2014") + "\u2026"  # en/em dash, ellipsis


def cap_line_octets(text: str, limit: int = 998) -> str:
    """Split any line longer than ``limit`` UTF-8 octets (RFC 5322 §2.1.1: 998).

    Wrapping never breaks a word, so only a pathological "word" gets here.
    """
    lines: list[str] = []
    step = limit // 4  # a character is at most 4 octets of UTF-8
    for line in text.split("\n"):
        if len(line.encode()) <= limit:
            lines.append(line)
        else:
            lines.extend(line[i : i + step] for i in range(0, len(line), step))
    return "\n".join(lines)


def plural(count: int, noun: str) -> str:
    """``plural(1, "paper") == "1 paper"``; English only, like the rest of the mail."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
