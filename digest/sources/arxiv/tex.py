"""TeX in arXiv metadata: text-mode accent macros to Unicode, math left as sent.

The API and the feeds send titles, authors and abstracts as TeX source
(``Andr\\'e``, ``{\\"o}``, ``\\c{c}``); the listing pages are already converted.
Converting the accents makes a paper read the same whichever source saw it.
"""

from __future__ import annotations

import re
import unicodedata

from ...identity import clean_text

__all__ = ["clean_tex", "tex_to_unicode"]

_TEX_ACCENT = re.compile(
    r"\\([`'^\"~=.])\s*(?:\{(\\[ij]|[A-Za-z])\}|(\\[ij]|[A-Za-z]))"
    r"|\\([uvHckr])(?:\{(\\[ij]|[A-Za-z])\}|\s+([A-Za-z]))"
)
_COMBINING = {
    "`": "\u0300",
    "'": "\u0301",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    "u": "\u0306",
    ".": "\u0307",
    '"': "\u0308",
    "r": "\u030a",
    "H": "\u030b",
    "v": "\u030c",
    "c": "\u0327",
    "k": "\u0328",
}
# A control word swallows the spaces after it, as in TeX: "Bj\\o rn" is "Bjørn".
_TEX_LETTER = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L)(?![A-Za-z])(?:\{\}|\s+(?=[A-Za-z]))?")
_LETTERS = {"ss": "ß", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ"}
_LETTERS |= {"o": "ø", "O": "Ø", "l": "ł", "L": "Ł"}
_BRACED_CHAR = re.compile(r"\{([^\x00-\x7f])\}")  # {é} left over from {\'e}


def tex_to_unicode(text: str) -> str:
    """Text-mode accent macros to Unicode: ``Andr\\'e`` -> ``André``; math is left alone.

    These macros are invalid in math mode, so converting them never changes a formula.
    """
    if "\\" not in text:
        return text

    def accent(match: re.Match[str]) -> str:
        mark = _COMBINING[match.group(1) or match.group(4)]
        base = match.group(2) or match.group(3) or match.group(5) or match.group(6)
        base = {"\\i": "i", "\\j": "j"}.get(base, base)
        return unicodedata.normalize("NFC", base + mark)

    text = _TEX_ACCENT.sub(accent, text)
    text = _TEX_LETTER.sub(lambda match: _LETTERS[match.group(1)], text)
    return _BRACED_CHAR.sub(r"\1", text)


def clean_tex(text: str) -> str:
    return clean_text(tex_to_unicode(text))
