"""Topics pick what a reader cares about, rank it the same way every time, and say why.

Papers go into a real history database (the ``db`` fixture) through the real
diff, so the FTS5 index is the one the triggers keep; topics are plain
:class:`TopicConfig` values, as digest.toml would give them.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from digest.config import TopicConfig, load_settings
from digest.errors import ConfigError, QueryError
from digest.history import open_history, record_sightings
from digest.history.schema import MIGRATIONS
from digest.history.search import SearchIndex, search
from digest.model import Paper, StoredPaper
from digest.pipeline.selection import feed_reasons
from digest.sources.arxiv import parse_rss
from digest.topics import (
    Weights,
    best_first,
    check_queries,
    explain,
    for_reader,
    passes_filters,
    select,
    source_name,
)
from tests.conftest import NOW
from tests.factories import make_stored_paper
from tests.support import fixture

ARXIV_LG = "https://rss.arxiv.org/rss/cs.LG"
ONLY_RELEVANCE = Weights(relevance=1.0, upvotes=0.0, comments=0.0, freshness=0.0)


def store(
    db: sqlite3.Connection, *papers: Paper, source: str = ARXIV_LG, now: datetime = NOW
) -> list[StoredPaper]:
    result = record_sightings(
        db, list(papers), source=source, run_id=None, now=now, tag_authority="example.org"
    )
    return list(result.novel)


def topic(query: str | None = None, slug: str = "t", **filters: object) -> TopicConfig:
    return TopicConfig(slug=slug, title=slug.title(), query=query, **filters)  # type: ignore[arg-type]


def titles(
    db: sqlite3.Connection,
    papers: list[StoredPaper],
    chosen: TopicConfig | None,
    weights: Weights = ONLY_RELEVANCE,
) -> list[str]:
    return [pick.paper.title for pick in select(papers, chosen, SearchIndex(db), weights, NOW)]


# -- the query language (SQLite FTS5) ------------------------------------------------------


def test_a_prefix_and_a_phrase_prefix_find_every_spelling_of_pretraining(
    db: sqlite3.Connection,
) -> None:
    papers = store(
        db,
        Paper("Scaling Laws", abstract="We pretrain a family of models."),
        Paper("Pretrained Encoders Transfer"),
        Paper("Data Mixtures", abstract="Pre-training on curated data helps."),
        Paper("Adapters", abstract="A pre trained backbone, frozen."),
        Paper("Training From Scratch", abstract="No pre-processing, just training."),
        Paper("Pretext Tasks", abstract="Self-supervised pretext objectives."),
    )
    picked = titles(db, papers, topic('pretrain* OR "pre train"*'))
    assert sorted(picked) == [
        "Adapters",
        "Data Mixtures",
        "Pretrained Encoders Transfer",
        "Scaling Laws",
    ]


def test_words_are_stemmed_and_case_and_accents_do_not_matter(db: sqlite3.Connection) -> None:
    papers = store(
        db,
        Paper("Naïve Bayes Revisited", abstract="Classifiers that learn quickly."),
        Paper("Learning to Rank"),
        Paper("Bayesian Optimisation"),
    )
    assert titles(db, papers, topic("NAIVE")) == ["Naïve Bayes Revisited"]
    assert sorted(titles(db, papers, topic("learned"))) == [
        "Learning to Rank",
        "Naïve Bayes Revisited",
    ]


def test_a_phrase_needs_its_words_adjacent_and_in_order(db: sqlite3.Connection) -> None:
    papers = store(
        db,
        Paper("Large Language Models Are Few-Shot Learners"),
        Paper("A Model of Language Acquisition"),
    )
    assert titles(db, papers, topic('"language models"')) == [
        "Large Language Models Are Few-Shot Learners"
    ]


def test_near_finds_words_at_most_n_tokens_apart(db: sqlite3.Connection) -> None:
    papers = store(
        db,
        Paper("Close", abstract="the data for the mixture"),
        Paper("Far", abstract="data " + "filler " * 12 + "mixture"),
    )
    assert titles(db, papers, topic("NEAR(data mixture, 3)")) == ["Close"]


def test_not_and_column_filters(db: sqlite3.Connection) -> None:
    papers = store(
        db,
        Paper("Diffusion for Video", abstract="frames"),
        Paper("Diffusion for Images", abstract="pixels"),
        Paper("Images", abstract="a diffusion prior"),
    )
    assert sorted(titles(db, papers, topic("diffusion NOT video"))) == [
        "Diffusion for Images",
        "Images",
    ]
    assert sorted(titles(db, papers, topic("title : diffusion"))) == [
        "Diffusion for Images",
        "Diffusion for Video",
    ]


@pytest.mark.parametrize("query", ["pre-train", '"unterminated', "AND", "pretrain* OR"])
def test_a_query_fts5_cannot_parse_is_a_query_error_with_a_hint(
    db: sqlite3.Connection, query: str
) -> None:
    store(db, Paper("Anything"))
    with pytest.raises(QueryError, match="double quotes") as caught:
        search(db, query)
    assert caught.value.query == query


def test_a_bad_topic_query_is_a_config_error_naming_the_topic(db: sqlite3.Connection) -> None:
    topics = [topic("fine", slug="ok"), topic("pre-train", slug="broken")]
    with pytest.raises(ConfigError, match=r"digest.toml: \[\[topics\]\] slug = 'broken'"):
        check_queries(topics, SearchIndex(db), where="digest.toml")


# -- the index stays in step with history --------------------------------------------------


def test_a_new_version_replaces_the_indexed_text(db: sqlite3.Connection) -> None:
    store(db, Paper("Old Words", arxiv_id="2503.00001", version=1))
    store(db, Paper("Fresh Title", arxiv_id="2503.00001", version=2), now=NOW + timedelta(days=1))
    assert search(db, "old") == []
    assert [m.paper_id for m in search(db, "fresh")] == [1]


def test_a_history_from_before_the_index_is_indexed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    before = [migration.__name__ for migration in MIGRATIONS].index("_create_search_index")
    old = sqlite3.Connection(path)
    for migration in MIGRATIONS[:before]:
        migration(old)
    old.execute(f"PRAGMA user_version = {before}")
    # A row as that schema held it (today's code writes columns it did not have yet).
    old.execute(
        "INSERT INTO papers (uid, title_key, title, first_seen, updated) VALUES "
        "('tag:x,2025-03-12:paper/1', 'pretraining before the index', "
        "'Pretraining Before the Index', '2025-03-12T06:00:00Z', '2025-03-12T06:00:00Z')"
    )
    old.commit()
    old.close()
    db = open_history(path)
    assert [m.paper_id for m in search(db, "pretrain*")] == [1]
    db.close()


def test_search_can_stay_inside_a_window_and_a_limit(db: sqlite3.Connection) -> None:
    store(db, Paper("Graph Old"), now=NOW - timedelta(days=30))
    store(db, Paper("Graph New"), Paper("Graph Newer Graph Graph"), now=NOW)
    assert [m.paper_id for m in search(db, "graph", since=NOW - timedelta(days=1))] == [3, 2]
    assert [m.paper_id for m in search(db, "graph", limit=1)] == [3]


# -- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "passes"),
    [(("cs.LG",), True), (("cs",), True), (("CS.lg",), True), (("stat.ML",), False)],
)
def test_categories_pass_by_category_or_whole_archive(
    categories: tuple[str, ...], passes: bool
) -> None:
    paper = make_stored_paper(categories=("cs.CL", "cs.LG"))
    assert passes_filters(paper, topic(categories=categories)) is passes


@pytest.mark.parametrize(
    ("wanted", "passes"),
    [("Yann LeCun", True), ("lecun", True), ("godel", True), ("Cun", False), ("Ann", False)],
)
def test_authors_match_whole_words_ignoring_case_and_accents(wanted: str, passes: bool) -> None:
    paper = make_stored_paper(authors=("Yann LeCun", "Kurt Gödel"))
    assert passes_filters(paper, topic(authors=(wanted,))) is passes


@pytest.mark.parametrize(
    ("wanted", "passes"),
    [("IBM Research", True), ("ibm-research", True), ("IBM", True), ("Research Lab", False)],
)
def test_organizations_match_like_names(wanted: str, passes: bool) -> None:
    paper = make_stored_paper(organization="IBM Research")
    assert passes_filters(paper, topic(organizations=(wanted,))) is passes
    assert not passes_filters(replace(paper, organization=None), topic(organizations=(wanted,)))


@pytest.mark.parametrize(
    ("upvotes", "minimum", "passes"),
    [(41, 10, True), (10, 10, True), (3, 10, False), (None, 10, False), (None, 0, True)],
)
def test_min_upvotes_needs_a_known_count_that_high(
    upvotes: int | None, minimum: int, passes: bool
) -> None:
    paper = make_stored_paper(upvotes=upvotes)
    assert passes_filters(paper, topic(min_upvotes=minimum)) is passes


def test_sources_match_part_of_a_source_name_or_url() -> None:
    paper = make_stored_paper(sources=("https://huggingface.co/api/daily_papers", "arXiv cs.LG"))
    assert passes_filters(paper, topic(sources=("huggingface.co",)))
    assert passes_filters(paper, topic(sources=("nothing", "arxiv")))
    assert not passes_filters(paper, topic(sources=("rss.arxiv.org",)))


def test_every_filter_must_pass_and_any_value_within_one() -> None:
    paper = make_stored_paper(categories=("cs.CV",), organization="NVIDIA", upvotes=5)
    assert passes_filters(paper, topic(categories=("cs.LG", "cs.CV"), organizations=("nvidia",)))
    assert not passes_filters(paper, topic(categories=("cs.CV",), min_upvotes=6))


def test_a_topic_without_a_query_takes_everything_its_filters_let_through(
    db: sqlite3.Connection,
) -> None:
    papers = store(
        db,
        Paper("A", organization="NVIDIA"),
        Paper("B", organization="Adobe"),
        Paper("C"),
    )
    assert sorted(titles(db, papers, topic())) == ["A", "B", "C"]
    assert titles(db, papers, topic(organizations=("NVIDIA",))) == ["A"]


# -- ranking ---------------------------------------------------------------------------------


def test_a_title_match_outranks_a_passing_mention(db: sqlite3.Connection) -> None:
    papers = store(
        db,
        Paper("Vision Models", abstract="We also touch on distillation once, among many things."),
        Paper("Distillation for Vision Models", abstract="Distillation, studied closely."),
    )
    assert titles(db, papers, topic("distillation")) == [
        "Distillation for Vision Models",
        "Vision Models",
    ]


def test_the_score_is_the_documented_blend() -> None:
    # No query: relevance 0. Upvotes: log1p(9)/log1p(9) = 1 and 0. Freshness: a
    # week old is half as fresh. Comments: unknown. Default weights 1, .5, .2, .3.
    week_old = make_stored_paper(id=1, upvotes=9, comments=None, published=NOW - timedelta(days=7))
    today = make_stored_paper(id=2, upvotes=None, comments=None, published=NOW)
    picks = select([week_old, today], None, NoEvidence(), Weights(), NOW)
    assert [p.paper.id for p in picks] == [1, 2]
    assert [p.score for p in picks] == pytest.approx([0.5 * 1 + 0.3 * 0.5, 0.3 * 1])


def test_weights_change_the_order(db: sqlite3.Connection) -> None:
    papers = store(
        db,
        Paper("Graph Graph Graph Networks", upvotes=1),
        Paper("Graph Pooling", upvotes=300),
    )
    chosen = topic("graph")
    assert titles(db, papers, chosen, ONLY_RELEVANCE)[0] == "Graph Graph Graph Networks"
    by_upvotes = Weights(relevance=0.0, upvotes=1.0, comments=0.0, freshness=0.0)
    assert titles(db, papers, chosen, by_upvotes)[0] == "Graph Pooling"


def test_the_weights_are_settings(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text("[ranking]\nrelevance = 2.0\nfreshness = 0\n")
    weights = Weights.from_settings(load_settings(config, environ={"DIGEST_RANKING_UPVOTES": "1"}))
    assert weights == Weights(relevance=2.0, upvotes=1.0, comments=0.2, freshness=0.0)


def test_the_same_input_always_gives_the_same_order(db: sqlite3.Connection) -> None:
    # Twelve papers, all tied on every signal: only identity can order them.
    papers = store(db, *(Paper(f"Tied Paper {n}", arxiv_id=f"2503.{n:05d}") for n in range(12)))
    orders = set()
    for seed in range(5):
        shuffled = random.Random(seed).sample(papers, len(papers))
        picks = select(shuffled, topic("tied"), SearchIndex(db), Weights(), NOW)
        reasons = explain(picks, SearchIndex(db))
        orders.add(tuple((pick.paper.uid, pick.score, reasons[pick.paper.id]) for pick in picks))
    (order,) = orders
    assert [uid for uid, _, _ in order] == sorted(paper.uid for paper in papers)


# -- reasons -------------------------------------------------------------------------------


def test_a_reason_names_the_matched_words_the_upvotes_and_the_listing(
    db: sqlite3.Connection,
) -> None:
    papers = store(
        db,
        Paper(
            "Pretraining with Less Data",
            abstract="We pre-train small models.",
            arxiv_id="2503.01234",
            categories=("cs.LG", "cs.CL"),
            upvotes=41,
            announce_type="new",
        ),
    )
    (pick,) = select(papers, topic('pretrain* OR "pre train"*'), SearchIndex(db), Weights(), NOW)
    assert explain([pick], SearchIndex(db)) == {
        pick.paper.id: "matches “pretraining”, “pre-train”, 41 upvotes on HF, new on arXiv cs.LG"
    }


def test_a_reason_names_the_filters_a_paper_passed(db: sqlite3.Connection) -> None:
    papers = store(
        db,
        Paper("RLP", organization="NVIDIA", authors=("Ali Hatamizadeh",), upvotes=1),
        source="https://huggingface.co/api/daily_papers",
    )
    chosen = topic(organizations=("nvidia",), authors=("hatamizadeh",))
    (pick,) = select(papers, chosen, SearchIndex(db), Weights(), NOW)
    # HF is where the upvote was counted, so the source is not named twice.
    assert explain([pick], SearchIndex(db)) == {
        pick.paper.id: "from NVIDIA, by Ali Hatamizadeh, 1 upvote on HF"
    }


def test_the_main_feed_reason_has_the_signals_and_where_the_paper_was_seen(
    db: sqlite3.Connection,
) -> None:
    papers = store(
        db,
        Paper("A", comments=3, upvotes=12),
        Paper("B", categories=("cs.CV",), announce_type="cross"),
        Paper("C"),
        source="/srv/pages/2025-03-12.txt",
    )
    assert feed_reasons(db, papers) == {
        papers[0].id: "12 upvotes and 3 comments on HF, seen in a saved page",
        papers[1].id: "cross-listed on arXiv",
        papers[2].id: "seen in a saved page",
    }


def test_a_cross_list_s_reason_names_the_category_it_was_listed_in(
    db: sqlite3.Connection,
) -> None:
    # eess.AS primary, read from a feed of two categories: the listing said cs.LG.
    papers = store(
        db,
        *parse_rss(fixture("arxiv_rss_cs.LG.xml"), "https://rss.arxiv.org/rss/cs.CL+cs.LG").papers,
        source="https://rss.arxiv.org/rss/cs.CL+cs.LG",
    )
    speech = next(paper for paper in papers if paper.arxiv_id == "2503.07911")

    assert feed_reasons(db, [speech]) == {speech.id: "cross-listed on arXiv cs.LG"}


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("https://huggingface.co/api/daily_papers", "HF Daily Papers"),
        ("https://huggingface.co/papers?q=pretraining", "HF Daily Papers"),
        ("https://huggingface.co/collections/x/y", "Hugging Face"),
        ("http://export.arxiv.org/api/query?search_query=cat:cs.LG", "arXiv cs.LG"),
        ("https://blog.example.org/feed.xml", "blog.example.org/feed.xml"),
        ("https://blog.example.org/atom", "blog.example.org/atom"),
        ("https://blog.example.org/", "blog.example.org"),
        # the operator's paths never reach readers
        ("file:///srv/lab/pages/001_listing.txt", "a saved page"),
        ("/srv/lab/pages/001_listing.txt", "a saved page"),
        ("examples/saved-listing.txt", "a saved page"),
        ("examples/", "a saved page"),
        ("My arXiv picks", "My arXiv picks"),
    ],
)
def test_a_source_gets_a_short_name(label: str, name: str) -> None:
    assert source_name(label, ("cs.LG",)) == name


# -- a reader's sections ---------------------------------------------------------------------


def test_a_paper_in_two_of_a_readers_topics_appears_once_in_its_best_section(
    db: sqlite3.Connection,
) -> None:
    papers = store(
        db,
        Paper("Diffusion Language Models", abstract="Diffusion decoding for language."),
        Paper("Image Diffusion"),
        Paper("Language Agents"),
    )
    diffusion, language = topic("diffusion", slug="diffusion"), topic("language", slug="language")
    sections = for_reader(papers, [diffusion, language], SearchIndex(db), Weights(), NOW)
    shown = {s.topic.slug: [p.paper.title for p in s.picks] for s in sections if s.topic}
    assert sorted(t for ts in shown.values() for t in ts) == sorted(p.title for p in papers)
    # It says "diffusion" and "language" equally often, so it scores the same in
    # both topics: the reader's earlier topic keeps it.
    assert shown == {
        "diffusion": ["Image Diffusion", "Diffusion Language Models"],
        "language": ["Language Agents"],
    }
    swapped = for_reader(papers, [language, diffusion], SearchIndex(db), Weights(), NOW)
    assert [p.paper.title for p in swapped[0].picks] == [
        "Language Agents",
        "Diffusion Language Models",
    ]


def test_a_query_topic_wins_a_paper_over_a_catch_all_topic(db: sqlite3.Connection) -> None:
    papers = store(db, Paper("RLP: Reinforcement Pretraining", organization="NVIDIA"))
    catch_all = topic(slug="nvidia", organizations=("NVIDIA",))
    pretraining = topic("pretrain*", slug="pretraining")
    (section,) = for_reader(papers, [catch_all, pretraining], SearchIndex(db), Weights(), NOW)
    assert section.topic == pretraining


def test_a_reader_without_topics_gets_everything_ranked_in_one_untitled_section(
    db: sqlite3.Connection,
) -> None:
    papers = store(db, Paper("Few", upvotes=2), Paper("Many", upvotes=90), Paper("None"))
    (section,) = for_reader(papers, [], SearchIndex(db), Weights(), NOW)
    assert section.topic is None
    assert [p.paper.title for p in best_first([section])] == ["Many", "Few", "None"]


class NoEvidence:
    """For scoring checks that need no history: no query, no sightings."""

    def relevance(self, query: str, ids: object) -> dict[int, float]:
        return {}

    def matched_terms(self, query: str, ids: object) -> dict[int, tuple[str, ...]]:
        return {}

    def sightings(self, ids: object) -> dict[int, tuple[tuple[str, str | None], ...]]:
        return {}

    def check(self, query: str) -> None:
        pass
