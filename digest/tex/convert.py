"""Converting TeX pieces to text with pylatexenc, never raising, plain characters kept.

Inside a piece, the characters abstracts use as themselves (``%``, ``&``, ``#``,
``~``) are swapped for private-use placeholders that pylatexenc passes through,
and swapped back afterwards (:data:`RESTORE`). The pieces of one text are
converted in one parse, and pieces seen before come from a bounded cache.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

__all__ = ["PLACEHOLDERS", "RESTORE", "convert_all"]

# Malformed TeX in an abstract is ordinary input, not something the operator can fix:
# pylatexenc's tolerant parser would log a warning for every stray brace.
logging.getLogger("pylatexenc").setLevel(logging.ERROR)

# Characters TeX treats specially but abstracts use as themselves ("50% of", "R&D", "~3x").
# Inside a TeX piece they are swapped for private-use placeholders pylatexenc leaves alone.
_PROTECTED = {"%": "\U0010fff0", "&": "\U0010fff1", "#": "\U0010fff2", "~": "\U0010fff3"}
RESTORE = str.maketrans({mark: char for char, mark in _PROTECTED.items()})
PLACEHOLDERS = re.compile("[\U0010fff0-\U0010fff4]")


@functools.cache
def _pylatexenc() -> tuple[Any, Any]:
    """The parser's macro table and the converter, built on the first TeX piece.

    Imported here, not at the top: most runs (a 304, plain-text sources) never see TeX,
    and a ``digest`` command should not pay for loading pylatexenc's tables. The macro
    table is built once because ``latex_to_text()`` rebuilds it on every call (about
    1 ms), and a piece is often a single ``$k$``.
    """
    from pylatexenc import latexwalker
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    text_db = get_default_latex_context_db()
    text_db.add_context_category(
        "digest",
        prepend=True,
        macros=[MacroTextSpec("LaTeX", "LaTeX"), MacroTextSpec("TeX", "TeX")],
    )
    converter = LatexNodes2Text(latex_context=text_db, math_mode="text")
    return latexwalker.get_default_latex_context_db(), converter


def _latex_to_text(piece: str) -> str:
    from pylatexenc import latexwalker

    parser_db, converter = _pylatexenc()
    walker = latexwalker.LatexWalker(piece, latex_context=parser_db, tolerant_parsing=True)
    nodes, _, _ = walker.get_latex_nodes()
    return str(converter.nodelist_to_text(nodes))


# Between the pieces of one text when they are converted in one go: a private-use
# character, plain text to pylatexenc, which no source text keeps (PLACEHOLDERS).
_SEPARATOR = "\U0010fff4"


def convert_all(pieces: tuple[str, ...]) -> list[str]:
    """Every TeX piece of one text; those not converted before, in one parse when safe.

    pylatexenc's cost is mostly per call, so one parse of all new pieces costs about
    as much as one piece; pieces seen before ("$k$", "\\'e") come from the cache. A
    piece that swallowed its neighbour's separator shows in the count; then each new
    piece is converted alone.
    """
    fresh = [piece for piece in dict.fromkeys(pieces) if piece not in _CACHE]
    if len(fresh) > 1:
        try:
            joined = _latex_to_text(_SEPARATOR.join(map(_prepared, fresh))).split(_SEPARATOR)
        except Exception:  # pylatexenc may raise on input it cannot read; go piece by piece
            joined = []
        if len(joined) == len(fresh):
            _remember(dict(zip(fresh, joined, strict=True)))
    return [_CACHE[piece] if piece in _CACHE else _convert(piece) for piece in pieces]


_CACHE: dict[str, str] = {}
_CACHE_SIZE = 8192  # pieces repeat across papers: "$k$", "$r$", "$\times$", "\\'e"


def _remember(converted: dict[str, str]) -> None:
    if len(_CACHE) + len(converted) > _CACHE_SIZE:
        _CACHE.clear()
    _CACHE.update(converted)


def _convert(piece: str) -> str:
    protected = _prepared(piece)
    try:
        text = _latex_to_text(protected)
    except Exception:  # pylatexenc may raise on input it cannot read; never lose the text
        text = _strip_markup(protected)
    _remember({piece: text})
    return text


def _prepared(piece: str) -> str:
    math = piece.startswith(("$", "\\(", "\\["))
    # Only a letter macro's piece ends in spaces (those it swallowed: "\\o rn").
    return _protect(piece if math else piece.rstrip(" \t"), math)


def _protect(piece: str, math: bool) -> str:
    out: list[str] = []
    index = 0
    while index < len(piece):
        char = piece[index]
        if char == "\\" and index + 1 < len(piece):
            out.append(piece[index : index + 2])  # \% \& \~: pylatexenc reads those as TeX
            index += 2
            continue
        if char in _PROTECTED:
            out.append(" " if math and char == "~" else _PROTECTED[char])
        else:
            out.append(char)
        index += 1
    return "".join(out)


_MARKUP_ONLY = re.compile(r"\\[A-Za-z]+\*?|\\(.)|[${}]")


def _strip_markup(piece: str) -> str:
    """The fallback: the piece's letters without backslashes, braces and dollars."""
    return _MARKUP_ONLY.sub(lambda match: match.group(1) or "", piece)
