"""Properties of paper identity (digest.identity): the keys that decide "same paper"."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.identity import (
    all_clean,
    clean_text,
    find_arxiv_id,
    is_clean,
    parse_arxiv_id,
    printable_ascii,
    title_key,
)

# Latin letters and digits. Not the Turkish dotless "\u0131": its upper case is "I", whose
# lower case is "i" (a locale rule, not a re-saving change a title key must survive).
WORD = st.text(
    alphabet=st.characters(
        categories=("Lu", "Ll", "Nd"), max_codepoint=0x24F, exclude_characters="\u0131"
    ),
    min_size=1,
    max_size=12,
)
WORDS = st.lists(WORD, min_size=1, max_size=8)
WHITESPACE = st.text(alphabet=" \t\n\r\u00a0\u2003\u3000", min_size=1, max_size=4)
PUNCTUATION = st.text(alphabet=" ,.:;!?-\u2013\u2014()[]{}\"'/&*+_", min_size=1, max_size=3)


# --- clean_text, and the check later stages make instead of cleaning again --------------

# Any text, with the whitespace and combining marks that make cleaning do something.
MESSY = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\u00a0\u2000\u2001\u2028\u3000"),
        st.sampled_from("\u0301\u0338\u1161\u11a8\u3099e\u00e9\u212b"),
    )
)


@given(MESSY)
def test_clean_text_is_idempotent(text: str) -> None:
    # What lets a stage after a parser check text instead of cleaning it again.
    assert clean_text(clean_text(text)) == clean_text(text)


def cleaned_the_long_way(text: str) -> str:
    """What clean_text means: NFC, then whitespace collapsed (it skips this for clean text)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@given(MESSY)
def test_is_clean_says_yes_only_to_text_cleaning_leaves_alone(text: str) -> None:
    if is_clean(text):
        assert cleaned_the_long_way(text) == text


@given(MESSY)
def test_cleaned_printable_text_is_seen_as_clean(text: str) -> None:
    cleaned = clean_text(text)
    assert is_clean(cleaned) or not cleaned.isprintable()


@given(MESSY)
def test_clean_text_with_its_check_is_clean_text_without(text: str) -> None:
    assert clean_text(text) == cleaned_the_long_way(text)
    assert type(clean_text(text)) is str


def test_is_clean_examples() -> None:
    assert is_clean("Attention is all you need") and is_clean("") and is_clean("Tomás")
    for text in (" lead", "trail ", "two  spaces", "a\tb", "a\u00a0b", "e\u0301", "a\u3000b"):
        assert not is_clean(text), repr(text)


def test_a_str_subclass_is_cleaned_to_a_plain_str() -> None:
    class Smart(str):
        pass

    assert not is_clean(Smart("plain words"))
    assert type(clean_text(Smart("plain words"))) is str


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=200))
def test_printable_ascii_is_isprintable_for_short_and_long_text(text: str) -> None:
    assert printable_ascii(text) == text.isprintable()
    assert printable_ascii(text * 20) == text.isprintable()  # past the short-text cut


def test_printable_ascii_sees_a_control_character_anywhere_in_long_text() -> None:
    for control in ["\x00", "\t", "\n", "\x1f", "\x7f"]:
        assert not printable_ascii("a" * 100 + control + "b" * 100)
    assert printable_ascii(" ~" * 100)


# Names and tags as bylines hold them, and the texts that could fool a joined check.
_NAMES = st.lists(
    st.sampled_from(["Ada Lovelace", "Alan Turing A.", "Tom\u00e1s", "", " ", "a|b", "a |b",
                     "a||b", "|", " lead", "trail ", "two  spaces", "a\tb", "cs.LG"])
    | st.text(alphabet=st.sampled_from("a |\t\u00e9"), max_size=5),
    max_size=5,
)  # fmt: skip


def _each_clean(texts: list[str]) -> bool:
    return all(text and text.isascii() and is_clean(text) for text in texts)


@given(_NAMES)
def test_all_clean_says_yes_only_when_each_text_is_clean_printable_ascii(texts: list[str]) -> None:
    if all_clean(texts):
        assert _each_clean(texts)
    if not any("|" in text for text in texts):  # without a "|" it is never unsure
        assert all_clean(texts) == _each_clean(texts)


def test_all_clean_examples() -> None:
    assert all_clean([]) and all_clean(["Ada Lovelace", "Alan Turing"]) and all_clean(["a|b"])
    for texts in ([""], ["a", ""], ["a", "", "b"], ["a", " b"], ["a ", "b"], ["a", "Tom\u00e1s"]):
        assert not all_clean(texts), texts

    class Smart(str):
        pass

    assert not all_clean([Smart("plain words")])


# --- title_key ------------------------------------------------------------------------


@given(st.text())
def test_title_key_is_idempotent(title: str) -> None:
    assert title_key(title_key(title)) == title_key(title)


@given(WORDS)
def test_title_key_ignores_case(words: list[str]) -> None:
    title = " ".join(words)

    assert title_key(title.upper()) == title_key(title.lower()) == title_key(title)


@given(WORDS, st.data())
def test_title_key_ignores_whitespace(words: list[str], data: st.DataObject) -> None:
    spaced = data.draw(WHITESPACE) + "".join(w + data.draw(WHITESPACE) for w in words)

    assert title_key(spaced) == title_key(" ".join(words))


@given(WORDS, st.data())
def test_title_key_ignores_punctuation_between_words(words: list[str], data: st.DataObject) -> None:
    punctuated = "".join(data.draw(PUNCTUATION) + w for w in words) + data.draw(PUNCTUATION)

    assert title_key(punctuated) == title_key(" ".join(words))


@given(st.text())
def test_title_key_ignores_nfc_versus_nfd(title: str) -> None:
    assert title_key(unicodedata.normalize("NFD", title)) == title_key(
        unicodedata.normalize("NFC", title)
    )


@given(WORD, WORD, st.sampled_from(["\u00ad", "\u200b", "\u2060", "\ufeff"]))
def test_title_key_ignores_invisible_characters_inside_a_word(
    left: str, right: str, invisible: str
) -> None:
    # A saved page can carry a soft hyphen or zero-width space inside "Pre­training".
    assert title_key(left + invisible + right) == title_key(left + right)


def reference_title_key(title: str) -> str:
    """The definition, written plainly: NFKC, casefold, NFKD, no marks or format chars, words."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", title).casefold())
    kept = "".join(
        ch for ch in folded if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
    )
    return re.sub(r"[\W_]+", " ", kept).strip()


@given(st.text() | st.text(alphabet=st.characters(max_codepoint=127)))
def test_title_key_is_the_definition_on_any_text(title: str) -> None:
    # The fast paths (ASCII, a cached translate table) must not change any key.
    assert title_key(title) == reference_title_key(title)


def test_title_key_examples() -> None:
    assert title_key("Pre-Trained Models: Past, Present and Future") == (
        "pre trained models past present and future"
    )
    assert title_key("Tomás Ruiz-Delgado") == title_key("TOMAS ruiz delgado")
    assert title_key("Top-$k$ Routing") == title_key("top k routing")


# --- parse_arxiv_id ---------------------------------------------------------------------

MONTH = st.integers(1, 12)
NEW_4 = st.builds(  # 0704 to 1412: four digits after the dot
    lambda yymm, n: f"{yymm}.{n:04d}",
    st.integers(704, 1412).filter(lambda v: 1 <= v % 100 <= 12).map(lambda v: f"{v:04d}"),
    st.integers(1, 9999),
)
NEW_5 = st.builds(  # from 1501 on, five
    lambda yy, mm, n: f"{yy:02d}{mm:02d}.{n:05d}", st.integers(15, 40), MONTH, st.integers(1, 99999)
)
OLD = st.builds(
    lambda archive, yy, mm, n: f"{archive}/{yy:02d}{mm:02d}{n:03d}",
    st.sampled_from(
        [
            *("hep-th", "hep-ph", "astro-ph", "cond-mat", "quant-ph", "gr-qc", "math-ph"),
            *("cs.AI", "math.GT", "math.AG", "physics", "nlin.SI", "q-bio.NC"),
        ]
    ),
    st.sampled_from([91, 95, 99, 0, 3, 7]),
    MONTH,
    st.integers(1, 999),
)
BARE_ID = st.one_of(NEW_4, NEW_5, OLD)
VERSION = st.none() | st.integers(1, 40)
FORMS = [
    "{}",
    "arXiv:{}",
    "arxiv:{}",
    "https://arxiv.org/abs/{}",
    "http://arxiv.org/abs/{}",
    "https://export.arxiv.org/abs/{}",
    "https://arxiv.org/pdf/{}",
    "https://arxiv.org/pdf/{}.pdf",
    "oai:arXiv.org:{}",
    "  {}\n",
]


@given(BARE_ID, VERSION, st.sampled_from(FORMS))
def test_parse_arxiv_id_round_trips(bare: str, version: int | None, form: str) -> None:
    written = form.format(bare + (f"v{version}" if version else ""))

    assert parse_arxiv_id(written) == (bare, version)


@given(BARE_ID, VERSION)
def test_find_arxiv_id_finds_an_id_in_prose(bare: str, version: int | None) -> None:
    text = f"See arXiv:{bare}{f'v{version}' if version else ''}, which we extend."

    assert find_arxiv_id(text) == (bare, version)


@given(OLD)
def test_old_style_archive_case_is_normalised(bare: str) -> None:
    archive, number = bare.split("/")
    name, _, subject = archive.partition(".")
    shouted = name.upper() + (f".{subject.lower()}" if subject else "") + "/" + number

    assert parse_arxiv_id(shouted) == (bare, None)


@given(st.text().filter(lambda text: not any(ch in "0123456789" for ch in text)))
def test_text_without_ascii_digits_is_never_an_id(text: str) -> None:
    assert parse_arxiv_id(text) is None


# Not "0" after a four-digit id: "0704.00010" has the five-digit shape, which the regex
# accepts for any month (it does not check the 2015 switch from four to five digits).
@given(st.one_of(NEW_5, OLD), st.sampled_from(["0", "x", ".", "v", "vv1", "/", " extra", "v1v2"]))
def test_an_id_with_trailing_junk_is_rejected(bare: str, junk: str) -> None:
    assert parse_arxiv_id(bare + junk) is None


# Fullwidth, Arabic-Indic and Devanagari zeros: Unicode digits that Python's \d matches.
@given(NEW_5, st.integers(0, 9), st.sampled_from(["\uff10", "\u0660", "\u0966"]))
def test_non_ascii_digits_are_rejected(bare: str, position: int, zero: str) -> None:
    digits = [i for i, ch in enumerate(bare) if ch.isdigit()]
    index = digits[position % len(digits)]
    forged = bare[:index] + chr(ord(zero) + int(bare[index])) + bare[index + 1 :]

    assert parse_arxiv_id(forged) is None


@pytest.mark.parametrize(
    "text",
    [
        *("2401.123", "2401.123456", "240.01234", "hep-th/990100", "hep_th/9901001"),
        *("x2401.01234", "https://example.org/abs/2401.01234", "2401.01234 and more", "", "v2"),
    ],
)
def test_near_misses_are_not_ids(text: str) -> None:
    assert parse_arxiv_id(text) is None
