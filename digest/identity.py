"""Paper identity: the one rule that decides whether two sightings are the same paper.

A paper is known by its arXiv id without version when any source gives one
(``2401.01234``, old style ``hep-th/9901001``), else its DOI, else a key built
from its normalised title. History merges a title-only sighting with a later
sighting that carries an id, so a paper is never announced twice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# New style YYMM.NNNN(N) and old style archive(.SC)/YYMMNNN, optional vN
# (arxiv-docs help/arxiv_identifier.md). Old-style archives are lower-case,
# subject classes upper-case (math.GT/0309136).
# Digits are ASCII only: Python's \d also matches fullwidth or Arabic-Indic digits.
_ARXIV_ID = re.compile(
    r"(?<![\w.])(?:arxiv:)?"
    r"(?P<id>[0-9]{4}\.[0-9]{4,5}|[a-z][a-z\-]+(?:\.[a-z]{2})?/[0-9]{7})"
    r"(?:v(?P<version>[0-9]+))?(?![\w.]*\d)",
    re.IGNORECASE,
)
_ARXIV_PREFIXES = re.compile(
    r"^(?:https?://(?:export\.|www\.)?arxiv\.org/(?:abs|pdf|html)/|oai:arxiv\.org:|arxiv:)",
    re.IGNORECASE,
)
_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)", re.IGNORECASE)
_PUNCTUATION_AND_SPACE = re.compile(r"[\W_]+")


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Return ``(bare_id, version)`` for an arXiv id, abs/pdf URL or OAI id, else None.

    >>> parse_arxiv_id("https://arxiv.org/abs/2401.01234v3")
    ('2401.01234', 3)
    >>> parse_arxiv_id("oai:arXiv.org:hep-th/9901001v2")
    ('hep-th/9901001', 2)
    """
    candidate = _ARXIV_PREFIXES.sub("", text.strip())
    candidate = candidate.removesuffix(".pdf")
    match = _ARXIV_ID.fullmatch(candidate)
    if match is None:
        return None
    return _normalise_arxiv(match)


def find_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Find an arXiv id anywhere in ``text`` (a link, a guid, a description)."""
    for match in _ARXIV_ID.finditer(text):
        return _normalise_arxiv(match)
    return None


def _normalise_arxiv(match: re.Match[str]) -> tuple[str, int | None]:
    bare = match.group("id")
    if "/" in bare:
        archive, number = bare.split("/", 1)
        # Lower-case the archive, keep the subject class upper-case: math.GT.
        name, _, subject = archive.partition(".")
        bare = name.lower() + (f".{subject.upper()}" if subject else "") + "/" + number
    version = match.group("version")
    return bare, int(version) if version else None


def normalise_doi(text: str) -> str | None:
    """Return the DOI in ``text`` in lower case (DOIs are case-insensitive), else None."""
    match = _DOI.search(text)
    if match is None:
        return None
    return match.group(1).rstrip(".,;)").lower()


def clean_text(text: str) -> str:
    """Unicode NFC and collapsed whitespace: how titles and abstracts are stored.

    Text that is clean already comes back as it is (:func:`is_clean`, checked in
    C): each field is cleaned where a parser reads it, and the stages after it
    (TeX conversion, validation) call this again at the cost of that check.
    """
    if is_clean(text):
        return text
    return " ".join(unicodedata.normalize("NFC", text).split())


# Whitespace clean_text would change: any but a plain space, two in a row, one at an end.
# (``\s`` and ``str.split`` agree on what whitespace is: Unicode's White_Space characters.)
_UNCLEAN_SPACE = re.compile(r"[^\S ]|  |\A | \Z")


def is_clean(text: str) -> bool:
    """True only when ``clean_text(text) == text``, found without building a new string.

    :func:`clean_text` asks it first, and cleans only when the answer is no: the
    check reads the text once in C, where cleaning splits it into words and joins
    them again. (It also says no to ASCII text with a control character, which is
    then cleaned to itself.)
    """
    if type(text) is not str:
        return False  # a subclass (lxml's "smart" strings): cleaning makes it a plain str
    if text.isascii():
        return printable_ascii(text) and spaces_are_clean(text)
    return unicodedata.is_normalized("NFC", text) and _UNCLEAN_SPACE.search(text) is None


# What str.isprintable refuses in ASCII: the C0 controls and DEL.
_CONTROLS = bytes(range(0x20)) + b"\x7f"


def printable_ascii(ascii_text: str) -> bool:
    """``ascii_text.isprintable()`` for ASCII text, long text without a look-up per character.

    str.isprintable asks Unicode's tables about every character (~2.5 ns each, 3 µs
    for an abstract, read two or three times a paper); bytes.translate deletes the
    control bytes in a quarter of that. Short text is quicker asked directly.
    """
    if len(ascii_text) < 64:
        return ascii_text.isprintable()
    return len(ascii_text.encode("ascii").translate(None, _CONTROLS)) == len(ascii_text)


def spaces_are_clean(printable_ascii: str) -> bool:
    """Whether printable ASCII is clean: NFC leaves it as it is, and its only whitespace
    is the space, so only a space that leads, trails or doubles would change."""
    text = printable_ascii
    return "  " not in text and not text.startswith(" ") and not text.endswith(" ")


def all_clean(texts: Sequence[str]) -> bool:
    """True only when every one of ``texts`` is non-empty printable ASCII :func:`is_clean` passes.

    A byline's names and an item's tags are checked at each stage (parser, TeX,
    validation): here in one pass over the texts joined by ``|``, instead of a
    call per text. ``|`` is printable and not a space, so no two spaces pair up
    across a join, and a text that starts or ends with a space (or is empty)
    shows as a space (or a ``|``) beside a ``|`` or at an end. False can also
    mean "not sure" (a text holding ``"| "`` or ``"||"``): callers then check
    each text on its own.
    """
    for text in texts:
        if type(text) is not str:
            return False  # a subclass (lxml's "smart" strings): cleaning makes it a plain str
    joined = "|".join(texts)
    return (
        bool(joined) == bool(texts)  # a lone empty text joins to nothing, as no texts do
        and joined.isascii()
        and printable_ascii(joined)
        and "  " not in joined
        and " |" not in joined
        and "| " not in joined
        and "||" not in joined
        and not joined.startswith((" ", "|"))
        and not joined.endswith((" ", "|"))
    )


def title_key(title: str) -> str:
    """A key that survives re-saving a page: NFKC, case-folded, punctuation and spaces collapsed.

    >>> title_key("Pre-Train,  Prompt & Predict!") == title_key("pre train prompt predict")
    True
    """
    if title.isascii():
        # ASCII has nothing to normalise, fold beyond lower case, or drop.
        return _PUNCTUATION_AND_SPACE.sub(" ", title.lower()).strip()
    folded = unicodedata.normalize("NFKC", title).casefold()
    # Drop combining marks so "Tomás" and "Tomas" agree, as a re-typed title may, and
    # invisible format characters (soft hyphen, zero-width space, BOM) that a saved
    # page can carry inside a word: they must not split "Pre\u00adtraining" in two.
    stripped = unicodedata.normalize("NFKD", folded).translate(_DROPPED)
    return _PUNCTUATION_AND_SPACE.sub(" ", stripped).strip()


class _Dropped(dict[int, int | None]):
    """``str.translate`` table: combining marks and format characters map to None (dropped).

    Filled on first sight of each code point, so a title costs one C-level pass.
    """

    def __missing__(self, code: int) -> int | None:
        ch = chr(code)
        keep = not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
        self[code] = code if keep else None
        return self[code]


_DROPPED = _Dropped()
