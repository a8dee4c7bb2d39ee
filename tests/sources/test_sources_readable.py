"""readable_paper: the same names however the byline is checked, and no copy when nothing changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from digest.model import Paper
from digest.sources.readable import readable_paper, readable_text

# Names as parsers hand them on: mostly clean, some with TeX, stray spaces, tabs or nothing.
NAMES = st.lists(
    st.sampled_from(["Ada Lovelace", "Bolet\\'{\\i}n", "$x$", "  ", "", "Grace  Hopper",
                     "Tom\u00e1s Ruiz", "A\tB", "Mina Okafor ", "Alan Turing"])
    | st.text(alphabet=st.sampled_from("ab \t$\\{}\u00e9\u0301")),
    max_size=6,
).map(tuple)  # fmt: skip


@given(NAMES)
def test_each_author_is_made_readable_and_the_empty_ones_dropped(names: tuple[str, ...]) -> None:
    paper = readable_paper(Paper(title="A title", authors=names))
    assert paper.authors == tuple(name for raw in names if (name := readable_text(raw)))


def test_a_paper_with_plain_clean_text_is_handed_on_as_it_is() -> None:
    paper = Paper(title="A title", abstract="An abstract.", authors=("Ada Lovelace", "Alan Turing"))
    assert readable_paper(paper) is paper
