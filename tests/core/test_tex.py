"""TeX made readable: the TeX converted, every plain character kept, nothing raised."""
# ruff: noqa: RUF001  -- the expected outputs are the Unicode letters TeX stands for

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.tex import has_tex, readable, tex_to_text
from digest.tex.pieces import MARKUP

# --- TeX becomes text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"$O(\log T)$", "O(log T)"),
        (r"$r \le 16$", "r ≤ 16"),
        (r"{\it vs.}", "vs."),
        (r"Bolet\'{\i}n", "Boletín"),
        (r"rank-$r$ adapters", "rank-r adapters"),
        (r"LLM$\times$MapReduce", "LLM×MapReduce"),
        (r"$\nabla^2$DFT", "∇^2DFT"),
        (r"$\textit{Trans-LoRA}$", "Trans-LoRA"),
        (r"\emph{Sparse} \textbf{experts}", "Sparse experts"),
        (r"\(x^2\) and \[y\]", "x^2 and y"),
        (r"$$E = mc^2$$ holds", "E = mc^2 holds"),
        (r"$\mathcal{O}(n)$ time", "𝒪(n) time"),
        (r"$\alpha$-$\beta$ pruning", "α-β pruning"),
        (r"\LaTeX{} and \TeX", "LaTeX and TeX"),
        (r"50\% of \$5", "50% of $5"),
    ],
)
def test_tex_becomes_readable_text(tex: str, text: str) -> None:
    assert readable(tex)[0] == text


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"Jos\'e Garc\'{\i}a", "José García"),
        (r"G{\"o}del and G\"odel", "Gödel and Gödel"),
        (r"\c{C}elik \c c", "Çelik ç"),
        (r"Dvo\v r\'ak \v{S}imon", "Dvořák Šimon"),
        (r"S{\o}ren Strau\ss, \AA sa Bj\o rn", "Søren Strauß, Åsa Bjørn"),
        (r"l'{\'e}t{\'e}", "l'été"),
    ],
)
def test_accents_and_letters_become_unicode(tex: str, text: str) -> None:
    assert readable(tex)[0] == text


# --- plain text stays itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    "plain",
    [
        "sparse buffers holding <1% of past data recover 92% of the forgetting gap",
        "R&D at A&B; snake_case and ~3x faster",
        "costs $5 and $10",  # dollars before digits are money (pandoc's rule)
        "a $ sign alone",
        "pay 5$ now",
        "state-of-the-art -- really --- ``quoted'' #1 ^up",
    ],
)
def test_plain_text_around_no_tex_is_untouched(plain: str) -> None:
    assert tex_to_text(plain) == plain


@pytest.mark.parametrize(
    ("mixed", "text"),
    [
        (r"50% of $k$ runs", "50% of k runs"),  # % is a percent sign, not a TeX comment
        (r"R&D for $n$ users", "R&D for n users"),
        (r"snake_case with $x_i$", "snake_case with x_i"),
        (r"~3x faster than $\mathcal{A}$", "~3x faster than 𝒜"),
        (r"state-of-the-art -- $k$ ``best''", "state-of-the-art -- k ``best''"),
        (r"{\it vs.} 100% & more", "vs. 100% & more"),
        (r"$50\%$ of", "50% of"),
        (r"costs $5 for $k$", "costs $5 for k"),
    ],
)
def test_plain_text_next_to_tex_is_kept_as_it_was(mixed: str, text: str) -> None:
    assert readable(mixed)[0] == text


# --- malformed TeX: readable, never raised, never raw ---------------------------------------


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"an {unclosed group", "an unclosed group"),
        (r"closing} twice}}", "closing twice"),
        (r"$\frac{1}{2$ and on", "1/2 and on"),
        (r"an unclosed $x math", "an unclosed $x math"),
        ("a final backslash \\", "a final backslash"),
        (r"\( never closed", "( never closed"),
        (r"\textbf{unclosed", "unclosed"),
        (r"\begin{itemize} x", "x"),
        (r"an \unknownmacro{argument} kept", "an argument kept"),
        ("}{", ""),
    ],
)
def test_malformed_tex_still_reads(tex: str, text: str) -> None:
    assert readable(tex)[0] == text


# The first TeX example loads pylatexenc's tables: no per-example deadline.
@settings(deadline=None)
@given(st.text())
def test_any_text_converts_without_raising(text: str) -> None:
    tex_to_text(text)


_PLAIN = st.text(
    alphabet=st.characters(blacklist_characters="\\${}", blacklist_categories=("Cs",)),
)


@given(_PLAIN)
def test_text_without_backslash_dollar_or_brace_passes_unchanged(text: str) -> None:
    assert not has_tex(text)
    assert tex_to_text(text) == text


@given(st.text(alphabet=st.sampled_from("ab $\\{}\u00e9")) | st.text())
def test_has_tex_finds_what_the_cutting_looks_for(text: str) -> None:
    # has_tex searches character by character; pieces() cuts at MARKUP's matches.
    assert has_tex(text) == (MARKUP.search(text) is not None)


_WORDS = (
    st.text(
        alphabet=st.characters(
            blacklist_characters="\\${}", whitelist_categories=("L", "N", "P", "S", "Zs")
        ),
        min_size=1,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(deadline=None)
@given(_WORDS, _WORDS)
def test_plain_text_around_maths_survives_the_conversion(before: str, after: str) -> None:
    converted = readable(f"{before} $x$ {after}")[0]

    assert converted == f"{readable(before)[0]} x {readable(after)[0]}"


def test_readable_keeps_the_source_only_when_it_held_tex() -> None:
    assert readable("Plain   title\n here") == ("Plain title here", None)
    assert readable("Top-$k$\n  Routing") == ("Top-k Routing", "Top-$k$ Routing")


_SNIPPETS = (
    r"$k$",
    r"$O(\log T)$",
    r"{\it vs.}",
    r"Bolet\'{\i}n",
    r"$\frac{1}{2$",  # a brace never closed inside maths
    r"\textbf x",  # an argument without braces
    r"\c c",
    r"{unclosed",
    r"\emph{a}{b}",
    "50% of",
    "R&D ~3x",
    "plain words",
)


@settings(deadline=None)
@given(st.lists(st.sampled_from(_SNIPPETS), min_size=2, max_size=8))
def test_converting_a_text_in_one_go_equals_converting_its_pieces(snippets: list[str]) -> None:
    text = " ".join(snippets)

    one_by_one = " ".join(tex_to_text(snippet) for snippet in snippets)

    assert readable(text)[0] == readable(one_by_one)[0]
