"""`digest search` and `digest topics`: try a query or a topic on history before readers see it."""

from __future__ import annotations

from datetime import timedelta

import click

from ..clock import utc_now
from ..config import Settings, TopicConfig
from ..errors import QueryError
from ..history.follow_ups import paper_events
from ..history.subscribers import list_subscribers
from ..pipeline.readers import orphaned_topics
from ..pipeline.selection import (
    check_topics,
    explain_picks,
    search_history,
    topic_feed_path,
    window_picks,
)
from ..render.follow_ups import describe as describe_update
from ..topics import Weights, describe
from .group import main, open_database, print_json, say, settings_of
from .papers import echo_paper, paper_json


@main.command("search")
@click.argument("query")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Only papers first seen in the last N days (default: all of history).",
)
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Show at most N."
)
@click.option("--json", "as_json", is_flag=True, help="Print the matches as one JSON object.")
@click.pass_context
def search_command(
    ctx: click.Context, query: str, days: int | None, limit: int, as_json: bool
) -> None:
    """Search history by title and abstract, most relevant (bm25) first.

    \b
    QUERY is SQLite FTS5 syntax, as in a topic's query: words must all match;
    OR, AND, NOT and NEAR are upper-case; "a phrase"; prefix* and "a phrase"*;
    NEAR(a b, 5) for words at most 5 apart; `title : word` searches one column.
    Matching ignores case and accents and stems English words (pretraining,
    pretrained and pretrains all match pretrain).
    \b
    Examples:
      digest search 'pretrain* OR "pre train"*'
      digest search 'NEAR("data mixture" pretrain*, 10)' --days 30
      digest search diffusion --json | jq '.papers[].links.code'
    """
    settings = settings_of(ctx)
    now = utc_now()
    since = now - timedelta(days=days) if days else None
    with open_database(settings) as db:
        try:
            found = search_history(db, query, since=since, limit=limit)
        except QueryError as error:
            raise click.BadParameter(str(error), param_hint="QUERY") from error
        events = paper_events(db, [pick.paper.id for pick, _ in found])
    if as_json:
        papers = [
            paper_json(
                pick.paper,
                rank=rank,
                score=pick.score,
                reason=reason,
                follow_ups=events.get(pick.paper.id, ()),
            )
            for rank, (pick, reason) in enumerate(found, start=1)
        ]
        print_json({"query": query, "days": days, "limit": limit, "papers": papers})
        return
    for rank, (pick, reason) in enumerate(found, start=1):
        echo_paper(rank, pick.paper, reason, f"relevance {pick.score:.2f}")
        for event in events.get(pick.paper.id, ()):
            click.echo(f"     Update {event.found:%Y-%m-%d}: {describe_update(event)}")
    more = " (the most relevant; raise --limit for more)" if len(found) == limit else ""
    say(ctx, f"{len(found)} paper(s){more}.", err=True)


@main.group("topics")
def topics_group() -> None:
    """The [[topics]] of digest.toml: list them, and test one on history.

    \b
    Example:
      digest topics list
      digest topics test pretraining --days 14
    """


@topics_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the topics as one JSON object.")
@click.pass_context
def topics_list(ctx: click.Context, as_json: bool) -> None:
    """List the configured topics: slug, title, query and filters, readers, feed file.

    \b
    Example:
      digest topics list
    """
    settings = settings_of(ctx)
    with open_database(settings) as db:
        readers = list_subscribers(db)
    orphans = orphaned_topics(readers, [topic.slug for topic in settings.topics])
    policy = settings.mail.orphaned_topics
    if as_json:
        print_json(
            {
                "topics": [
                    {
                        "slug": topic.slug,
                        "title": topic.title,
                        "query": topic.query,
                        "filters": describe(topic),
                        "readers": sum(topic.slug in reader.topics for reader in readers),
                        "feed": str(topic_feed_path(settings, topic)),
                    }
                    for topic in settings.topics
                ],
                "orphaned": [
                    {"slug": slug, "readers": emails, "policy": policy}
                    for slug, emails in orphans.items()
                ],
            }
        )
        return
    if not settings.topics:
        click.echo("No topics: add [[topics]] tables to digest.toml (slug, title, query).")
    for topic in settings.topics:
        count = sum(topic.slug in reader.topics for reader in readers)
        click.echo(
            f"{topic.slug}\t{topic.title}\t{count} reader(s)\t{topic_feed_path(settings, topic)}"
        )
        click.echo(f"    {describe(topic)}")
    for slug, emails in orphans.items():
        click.echo(
            f"{slug}\tORPHANED: not in digest.toml\t{len(emails)} reader(s) hold it; "
            f"they get {policy} of it (mail.orphaned_topics)"
        )


@topics_group.command("test")
@click.argument("slug")
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=click.IntRange(min=1),
    help="Look at the papers first seen in the last N days.",
)
@click.option(
    "--limit", default=30, show_default=True, type=click.IntRange(min=1), help="Show at most N."
)
@click.option("--json", "as_json", is_flag=True, help="Print the picks as one JSON object.")
@click.pass_context
def topics_test(ctx: click.Context, slug: str, days: int, limit: int, as_json: bool) -> None:
    """Show what a topic would have picked over the last N days, ranked, with reasons.

    \b
    Edit the topic's query in digest.toml and run this again until the list is
    right: nothing is sent and nothing is written.
    \b
    Example:
      digest topics test pretraining --days 30
    """
    settings = settings_of(ctx)
    topic = _topic(settings, slug)
    now = utc_now()
    with open_database(settings) as db:
        check_topics(settings, db)
        weights = Weights.from_settings(settings)
        picks = window_picks(db, topic, since=now - timedelta(days=days), now=now, weights=weights)
        reasons = explain_picks(db, picks[:limit])
    if as_json:
        shown = [
            paper_json(pick.paper, rank=rank, score=pick.score, reason=reasons[pick.paper.id])
            for rank, pick in enumerate(picks[:limit], start=1)
        ]
        print_json({"topic": topic.slug, "days": days, "total": len(picks), "papers": shown})
        return
    for rank, pick in enumerate(picks[:limit], start=1):
        echo_paper(rank, pick.paper, reasons[pick.paper.id], f"score {pick.score:.3f}")
    more = f"; showing {limit}" if len(picks) > limit else ""
    say(
        ctx,
        f"{topic.slug}: {len(picks)} paper(s) first seen in the last {days} day(s){more}.",
        err=True,
    )


def _topic(settings: Settings, slug: str) -> TopicConfig:
    for topic in settings.topics:
        if topic.slug == slug:
            return topic
    known = ", ".join(topic.slug for topic in settings.topics) or "none configured"
    raise click.BadParameter(f"no topic {slug!r} (topics: {known})", param_hint="SLUG")
