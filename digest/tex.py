"""TeX made readable: ``$O(\\log T)$`` -> ``O(log T)``, ``Bolet\\'{\\i}n`` -> ``Boletín``.

Titles, abstracts, author names and comments from arXiv (and from Hugging
Face, which copies them) are TeX source mixed with plain text. A reader should
see neither ``$`` nor ``\\`` nor stray braces, and must not lose a word of the
plain text around them. pylatexenc's latex->text conversion does the TeX, but
fed a whole abstract it would also apply TeX's rules to the plain text: ``50%
of`` becomes ``50`` (a comment), ``--`` an en dash, ``~`` a no-break space and
``&`` an alignment tab. So :func:`tex_to_text` first cuts the text into what
is TeX and what is not, and only the TeX pieces go through pylatexenc:

- maths: ``$...$``, ``$$...$$``, ``\\(...\\)`` and ``\\[...\\]``. A ``$`` opens
  maths only when a non-space follows it, and closes it only when a non-space
  precedes it and no digit follows (pandoc's rule), so ``$5 and $10`` is money;
- a control sequence with the braced groups right after it (``\\emph{x}``,
  ``\\'{\\i}``, ``\\v r``, ``\\%``);
- a braced group (``{\\it vs.}``); a brace without its partner is dropped.

Everything else is kept exactly as it was. Text without any of ``\\ $ { }``
is returned unchanged, and nothing here raises: a piece pylatexenc cannot
read falls back to its letters without the markup. Macros pylatexenc does not
know are dropped, their braced arguments kept (``\\foo{bar}`` -> ``bar``).
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from .identity import clean_text

__all__ = ["has_tex", "readable", "tex_to_text"]

# Malformed TeX in an abstract is ordinary input, not something the operator can fix:
# pylatexenc's tolerant parser would log a warning for every stray brace.
logging.getLogger("pylatexenc").setLevel(logging.ERROR)

_MARKUP = re.compile(r"[\\${}]")
# Characters TeX treats specially but abstracts use as themselves ("50% of", "R&D", "~3x").
# Inside a TeX piece they are swapped for private-use placeholders pylatexenc leaves alone.
_PROTECTED = {"%": "\U0010fff0", "&": "\U0010fff1", "#": "\U0010fff2", "~": "\U0010fff3"}
_RESTORE = str.maketrans({mark: char for char, mark in _PROTECTED.items()})
_PLACEHOLDERS = re.compile("[\U0010fff0-\U0010fff4]")
# Letter-named accents that take the next letter as their argument: "\v r", "\c c".
_LETTER_ACCENTS = frozenset("cvuHkrdbt")
# Letters named by a control word swallow the spaces before the next letter, as in TeX:
# "Bj\\o rn" is "Bjørn".
_LETTER_MACROS = frozenset({"o", "O", "l", "L", "ss", "aa", "AA", "ae", "AE", "oe", "OE", "i", "j"})
_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)\*?")
_SPACES_THEN_LETTER = re.compile(r"[ \t]+(?=[A-Za-z])")


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


def has_tex(text: str) -> bool:
    """Whether ``text`` holds anything :func:`tex_to_text` would change."""
    return _MARKUP.search(text) is not None


def tex_to_text(text: str) -> str:
    """Readable text for ``text``: TeX pieces converted, plain text kept as it was.

    >>> tex_to_text(r"rank-$r$ adapters use $O(\\log T)$ memory; 50% of runs")
    'rank-r adapters use O(log T) memory; 50% of runs'
    """
    if not has_tex(text):
        return text
    pieces = _pieces(_PLACEHOLDERS.sub("", text))
    converted = iter(_convert_all(tuple(piece for piece, is_tex in pieces if is_tex)))
    # Placeholders only ever come out of converted pieces: restore them there alone.
    return "".join(
        next(converted).translate(_RESTORE) if is_tex else piece for piece, is_tex in pieces
    )


def readable(text: str) -> tuple[str, str | None]:
    """``(readable text, the source text when it held TeX)`` with whitespace collapsed."""
    source = clean_text(text)
    converted = clean_text(tex_to_text(source))
    return converted, (source if converted != source else None)


# --- cutting text into TeX and plain pieces --------------------------------------------


def _pieces(text: str) -> list[tuple[str, bool]]:
    """``(piece, is_tex)`` in order; joining the pieces gives ``text`` back (minus stray braces)."""
    pieces: list[tuple[str, bool]] = []
    plain_start = 0
    index = 0
    while (markup := _MARKUP.search(text, index)) is not None:
        index = markup.start()  # plain text up to here: skipped in one step
        end = _tex_end(text, index)
        if end is None:
            index += 1
            continue
        if plain_start < index:
            pieces.append((text[plain_start:index], False))
        if end > index:
            pieces.append((text[index:end], True))
        else:  # a lone brace: markup without a partner, dropped
            end = index + 1
        index = plain_start = end
    if plain_start < len(text):
        pieces.append((text[plain_start:], False))
    return pieces


def _tex_end(text: str, start: int) -> int | None:
    """Where the TeX piece starting at ``start`` ends; ``start`` for a lone brace; None: plain."""
    char = text[start]
    if char == "$":
        return _dollar_math_end(text, start)
    if char == "\\":
        return _control_end(text, start)
    if char == "{":
        close = _group_end(text, start)
        return close if close is not None else start
    if char == "}":
        return start
    return None


def _dollar_math_end(text: str, start: int) -> int | None:
    if text.startswith("$$", start):
        close = text.find("$$", start + 2)
        return close + 2 if close > start + 2 else None
    if start + 1 >= len(text) or text[start + 1].isspace():
        return None  # "$ 5" or a final "$": a dollar sign
    index = start + 1
    while (index := text.find("$", index)) != -1:
        if text[index - 1] == "\\":
            index += 1
            continue
        if text[index - 1].isspace() or (index + 1 < len(text) and text[index + 1].isdigit()):
            return None  # "$5 and $10": money, not maths
        return index + 1
    return None


def _control_end(text: str, start: int) -> int:
    if start + 1 >= len(text):
        return start + 1  # a final backslash: markup, dropped
    follower = text[start + 1]
    if follower in "([":
        closer = "\\)" if follower == "(" else "\\]"
        close = text.find(closer, start + 2)
        if close != -1:
            return close + 2
        return start + 1  # "\(" never closed: drop the backslash, keep the "("
    word = _CONTROL_WORD.match(text, start)
    if word is not None:
        end = word.end()
        if word.group(1) in _LETTER_ACCENTS and text[end : end + 1] != "{":
            spaces = _SPACES_THEN_LETTER.match(text, end)
            if spaces is not None:
                return spaces.end() + 1  # "\v r" -> ř
        if word.group(1) in _LETTER_MACROS and (spaces := _SPACES_THEN_LETTER.match(text, end)):
            return spaces.end()
        return _groups_after(text, end)
    end = start + 2  # a control symbol: \' \" \% \& \$ \\ \,
    if follower in "'`^\"~=.":
        if text[end : end + 1] == "{":
            return _groups_after(text, end)
        if text[end : end + 2] in ("\\i", "\\j"):
            return end + 2
        if end < len(text) and text[end].isalpha():
            return end + 1
    return end


def _groups_after(text: str, index: int) -> int:
    """Past every balanced ``{...}`` group that follows ``index`` directly."""
    while text[index : index + 1] == "{":
        close = _group_end(text, index)
        if close is None:
            break
        index = close
    return index


def _group_end(text: str, start: int) -> int | None:
    """Past the brace matching the one at ``start``, or None when it is never closed."""
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


# --- converting one TeX piece ------------------------------------------------------------


# Between the pieces of one text when they are converted in one go: a private-use
# character, plain text to pylatexenc, which no source text keeps (_PLACEHOLDERS).
_SEPARATOR = "\U0010fff4"


def _convert_all(pieces: tuple[str, ...]) -> list[str]:
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
