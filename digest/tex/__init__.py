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

from ..identity import clean_text
from .convert import PLACEHOLDERS, RESTORE, convert_all
from .pieces import pieces

__all__ = ["has_tex", "readable", "tex_to_text"]


def has_tex(text: str) -> bool:
    """Whether ``text`` holds anything :func:`tex_to_text` would change (a ``pieces.MARKUP``).

    Four searches for one character each (memchr, in C) rather than ``MARKUP.search``,
    which tries the character class at every position: 0.1 µs against 3 µs for an
    abstract, and it is asked of every title, abstract and author of every paper.
    """
    return "\\" in text or "$" in text or "{" in text or "}" in text


def tex_to_text(text: str) -> str:
    """Readable text for ``text``: TeX pieces converted, plain text kept as it was.

    >>> tex_to_text(r"rank-$r$ adapters use $O(\\log T)$ memory; 50% of runs")
    'rank-r adapters use O(log T) memory; 50% of runs'
    """
    if not has_tex(text):
        return text
    cut = pieces(PLACEHOLDERS.sub("", text))
    converted = iter(convert_all(tuple(piece for piece, is_tex in cut if is_tex)))
    # Placeholders only ever come out of converted pieces: restore them there alone.
    return "".join(next(converted).translate(RESTORE) if is_tex else piece for piece, is_tex in cut)


def readable(text: str) -> tuple[str, str | None]:
    """``(readable text, the source text when it held TeX)`` with whitespace collapsed."""
    source = clean_text(text)  # a parser's text is clean already: checked, not redone
    if not has_tex(source):
        return source, None  # cleaning is idempotent: nothing else would change it
    converted = clean_text(tex_to_text(source))
    return converted, (source if converted != source else None)
