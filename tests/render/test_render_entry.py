"""One paper's entry, the facts every view shows in one order: what it says, and what it never says."""

from __future__ import annotations

import pytest

from digest.render.entry import authors_short, first_sentences, paper_entry
from tests.factories import make_stored_paper


def test_an_entry_has_the_title_link_authors_meta_tldr_and_links() -> None:
    paper = make_stored_paper(id=3, organization="NVIDIA", upvotes=64)

    entry = paper_entry(7, paper, "matches \u201cexperts\u201d, 64 upvotes and 3 comments on HF")

    assert (entry.number, entry.anchor) == (7, "paper-7")
    assert entry.title == "Sparse Experts at Scale, Part 3"
    assert entry.url == "https://arxiv.org/abs/2503.00003"
    assert entry.authors == "Ada Lovelace, Alan Turing, Grace Hopper"
    # The reason names the upvotes already: they are said once.
    assert entry.meta == (
        "NVIDIA",
        "cs.LG",
        "matches \u201cexperts\u201d, 64 upvotes and 3 comments on HF",
    )
    assert entry.tldr.startswith("We study how sparse mixtures of experts behave")
    assert [(link.label, link.url) for link in entry.links] == [
        ("arXiv", "https://arxiv.org/abs/2503.00003"),
        ("PDF", "https://arxiv.org/pdf/2503.00003"),
        ("Hugging Face", "https://huggingface.co/papers/2503.00003"),
    ]


def test_a_bare_author_count_is_a_meta_fact_never_an_author() -> None:
    entry = paper_entry(1, make_stored_paper(authors=(), author_count=11), None)

    assert entry.authors == ""
    assert "11 authors" in entry.meta


def test_many_authors_are_cut_with_et_al() -> None:
    names = [f"Author {n}" for n in range(40)]

    assert authors_short(names, 3) == "Author 0, Author 1, Author 2 et al."
    assert authors_short(names[:3], 3) == "Author 0, Author 1, Author 2"
    assert authors_short([], 3) == ""


def test_links_are_only_those_known() -> None:
    no_arxiv = make_stored_paper(arxiv_id=None, url="https://journal.example.org/a/1", doi="10.1/x")
    nothing = make_stored_paper(arxiv_id=None, url="javascript:alert(1)", doi=None, title="T")

    assert [link.label for link in paper_entry(1, no_arxiv).links] == ["journal.example.org", "DOI"]
    (search,) = paper_entry(1, nothing).links
    assert search.label == "Search" and search.url.startswith("https://huggingface.co/papers?")


def test_an_arxiv_paper_seen_on_hugging_face_links_its_hf_page() -> None:
    paper = make_stored_paper(
        url="https://arxiv.org/abs/2503.00001",
        sources=("https://huggingface.co/api/daily_papers",),
    )

    labels = {link.label: link.url for link in paper_entry(1, paper).links}

    assert labels["Hugging Face"] == "https://huggingface.co/papers/2503.00001"


@pytest.mark.parametrize(
    ("abstract", "tldr"),
    [
        ("One. Two. Three.", "One. Two."),
        ("A first sentence that is long enough to say what the paper does on its own, "
         "with a method, a data set and a result on three benchmarks. A second one.",
         "A first sentence that is long enough to say what the paper does on its own, "
         "with a method, a data set and a result on three benchmarks."),
        ("We use e.g. the usual tricks. Then more.", "We use e.g. the usual tricks. Then more."),
        ("50% of runs fail; we fix that", "50% of runs fail; we fix that"),
        ("", ""),
    ],
)  # fmt: skip
def test_the_tldr_is_the_first_sentence_or_two(abstract: str, tldr: str) -> None:
    assert first_sentences(abstract) == tldr


def test_a_long_first_sentence_is_cut_at_a_word() -> None:
    tldr = first_sentences("word " * 200)

    assert len(tldr) <= 281 and tldr.endswith("\u2026")
