"""The real saved listings in ../shared/seeds parse completely and correctly.

The seeds are real text renderings of HF /papers pages (mostly searches about
pre-training), kept outside the repository. Counts below were made by hand:

* 000, 002, 003 (layout a): every non-blank line after the 5 header lines
  ("new", "Get trending…", "Subscribe", "byAK…", the date) alternates title /
  abstract, so papers = (non-blank lines - 5) / 2: (117-5)/2 = 56,
  (201-5)/2 = 98, (75-5)/2 = 35. Each count equals the number of lines longer
  than 300 characters (abstracts; the longest title is 143 characters).
* 001 (layout b): 288 non-blank lines, 6 header lines (adds "Daily Papers").
  There are 56 meta blocks of 3 lines (53 "• N authors" lines and 3 organisation
  lines — adobe, ibm-research, nvidia — each followed by "·" and a date), and
  one paper without a meta block ("Encoder-Decoder Gemma…"): (288-6-56*3)/2 = 57,
  equal to the 57 lines longer than 300 characters.
* 004 (layout c): 446 lines, no blank line; 2 header lines, then line 3
  "SubscribePre-Trained Models: …" starts the alternation: (446-2)/2 = 222.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from digest.model import Paper
from digest.sources.text import looks_like_text_listing, parse

SEEDS = Path(__file__).parents[3] / "shared" / "seeds"

pytestmark = [
    pytest.mark.seeds,
    pytest.mark.skipif(not SEEDS.is_dir(), reason=f"real seed listings not present at {SEEDS}"),
]

PAPERS_PER_SEED = {"000": 56, "001": 57, "002": 98, "003": 35, "004": 222}
_SENTENCE_BREAK = re.compile(r"[.!?] +[A-Z]")


def seed(number: str) -> Path:
    (path,) = SEEDS.glob(f"{number}_*.txt")
    return path


def papers(number: str) -> tuple[Paper, ...]:
    path = seed(number)
    return parse(path.read_bytes(), path.as_uri()).papers


def by_title(number: str) -> dict[str, Paper]:
    return {paper.title: paper for paper in papers(number)}


def test_every_seed_is_listed_here() -> None:
    assert sorted(path.name[:3] for path in SEEDS.glob("*.txt")) == sorted(PAPERS_PER_SEED)


@pytest.mark.parametrize(("number", "count"), PAPERS_PER_SEED.items())
def test_seed_parses_to_the_hand_counted_number_of_papers(number: str, count: int) -> None:
    assert len(papers(number)) == count


@pytest.mark.parametrize("number", PAPERS_PER_SEED)
def test_every_paper_has_a_title_and_an_abstract(number: str) -> None:
    for paper in papers(number):
        assert paper.title
        assert paper.abstract
        assert len(paper.abstract) > len(paper.title)


@pytest.mark.parametrize("number", PAPERS_PER_SEED)
def test_no_title_looks_like_an_abstract(number: str) -> None:
    for paper in papers(number):
        assert len(paper.title) < 200, paper.title
        assert len(_SENTENCE_BREAK.findall(paper.title)) < 2, paper.title
        assert not paper.title.endswith("."), paper.title


@pytest.mark.parametrize("number", PAPERS_PER_SEED)
def test_no_header_line_became_a_paper(number: str) -> None:
    for paper in papers(number):
        assert not paper.title.startswith(("Subscribe", "Get trending", "byAK"))
        assert paper.title not in {"new", "Daily Papers"}


@pytest.mark.parametrize("number", PAPERS_PER_SEED)
def test_every_seed_is_sniffed_as_a_text_listing(number: str) -> None:
    assert looks_like_text_listing(seed(number).read_bytes())


def test_seed_001_meta_fields() -> None:
    listed = by_title("001")

    awm = listed["Advantage Weighted Matching: Aligning RL with Pretraining in Diffusion Models"]
    assert (awm.organization, awm.upvotes, awm.listed_on, awm.author_count) == (
        "Adobe",
        1,
        "Sep 29",
        None,
    )
    codet5 = listed[
        "CodeT5+: Open Code Large Language Models for Code Understanding and Generation"
    ]
    assert (codet5.author_count, codet5.upvotes, codet5.listed_on) == (6, 2, "May 13, 2023")
    rlp = listed["RLP: Reinforcement as a Pretraining Objective"]
    assert (rlp.organization, rlp.upvotes, rlp.listed_on) == ("NVIDIA", 4, "Sep 26")
    bmfm = listed[
        "BMFM-RNA: An Open Framework for Building and Evaluating Transcriptomic Foundation Models"
    ]
    assert (bmfm.organization, bmfm.upvotes) == ("IBM Research", None)
    gemma = listed[
        "Encoder-Decoder Gemma: Improving the Quality-Efficiency Trade-Off via Adaptation"
    ]
    assert (gemma.author_count, gemma.organization, gemma.listed_on) == (None, None, None)
    assert listed["Structural Self-Supervised Objectives for Transformers"].author_count == 1


def test_seed_001_meta_totals() -> None:
    listed = papers("001")

    assert sum(paper.author_count is not None for paper in listed) == 53
    assert sum(paper.organization is not None for paper in listed) == 3
    assert sum(paper.listed_on is not None for paper in listed) == 56
    assert sum(paper.upvotes is not None for paper in listed) == 7  # "Sep 29 1", "May 13, 2023 2"…


def test_seed_004_first_title_is_unglued_from_subscribe() -> None:
    first = papers("004")[0]

    assert first.title == "Pre-Trained Models: Past, Present and Future"
    assert first.abstract.startswith("Large-scale pre-trained models (PTMs) such as BERT and GPT")


def test_papers_recur_across_seeds() -> None:
    keys = {number: {paper.title_key for paper in papers(number)} for number in PAPERS_PER_SEED}
    seen_in = Counter(key for per_seed in keys.values() for key in per_seed)

    # 468 papers in all, 374 distinct titles; 67 titles appear in two or more seeds
    # (45 in two, 18 in three, 3 in four, 1 in all five), so a digest fed every seed
    # must announce 374 papers, not 468.
    assert sum(len(per_seed) for per_seed in keys.values()) == 468
    assert len(seen_in) == 374
    assert sum(1 for n in seen_in.values() if n > 1) == 67
    assert Counter(n for n in seen_in.values() if n > 1) == {2: 45, 3: 18, 4: 3, 5: 1}
    everywhere = [key for key, n in seen_in.items() if n == len(keys)]
    assert everywhere == ["pre trained models past present and future"]
