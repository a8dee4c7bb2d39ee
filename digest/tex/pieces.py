"""Cutting text into TeX pieces and plain pieces, by our rules (see :mod:`digest.tex`).

Pure string scanning, no pylatexenc: a piece is maths (``$...$``, ``$$...$$``,
``\\(...\\)``, ``\\[...\\]``, with pandoc's rule for ``$``), a control sequence
with the braced groups right after it, or a balanced braced group. A brace
without its partner is markup and is dropped; everything else is plain text.
"""

from __future__ import annotations

import re

__all__ = ["MARKUP", "pieces"]

MARKUP = re.compile(r"[\\${}]")
# Letter-named accents that take the next letter as their argument: "\v r", "\c c".
_LETTER_ACCENTS = frozenset("cvuHkrdbt")
# Letters named by a control word swallow the spaces before the next letter, as in TeX:
# "Bj\o rn" is "Bjørn".
_LETTER_MACROS = frozenset({"o", "O", "l", "L", "ss", "aa", "AA", "ae", "AE", "oe", "OE", "i", "j"})
_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)\*?")
_SPACES_THEN_LETTER = re.compile(r"[ \t]+(?=[A-Za-z])")


def pieces(text: str) -> list[tuple[str, bool]]:
    """``(piece, is_tex)`` in order; joining the pieces gives ``text`` back (minus stray braces)."""
    cut: list[tuple[str, bool]] = []
    plain_start = 0
    index = 0
    while (markup := MARKUP.search(text, index)) is not None:
        index = markup.start()  # plain text up to here: skipped in one step
        end = _tex_end(text, index)
        if end is None:
            index += 1
            continue
        if plain_start < index:
            cut.append((text[plain_start:index], False))
        if end > index:
            cut.append((text[index:end], True))
        else:  # a lone brace: markup without a partner, dropped
            end = index + 1
        index = plain_start = end
    if plain_start < len(text):
        cut.append((text[plain_start:], False))
    return cut


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
