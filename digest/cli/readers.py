"""``digest subscribers``: the operator's list of readers (add, remove, feed, list, import, export)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..clock import utc_now
from ..history.subscribers import (
    Subscriber,
    find_subscriber,
    list_subscribers,
    remove_subscriber,
)
from ..pipeline import readers
from ..pipeline.reader_feeds import feed_urls
from ..pipeline.readers import WEEKDAYS
from ..pipeline.site import site_tokens
from .group import main, open_database, print_json, say, settings_of


@main.group("subscribers")
def subscribers_group() -> None:
    """Manage the readers of the newsletter (your own list: they count as confirmed)."""


@subscribers_group.command("add")
@click.argument("email")
@click.option("--name", help="The reader's name, used in the To header.")
@click.option("--topics", default="", help="Comma-separated topic slugs (default: everything).")
@click.option(
    "--frequency",
    type=click.Choice(["daily", "weekly", "paused"]),
    default="daily",
    show_default=True,
)
@click.option("--weekday", default="mon", show_default=True, help="For weekly readers: mon … sun.")
@click.option(
    "--updates/--no-updates",
    default=None,
    help="Follow-ups on papers they received: code, versions, venues (default: on).",
)
@click.pass_context
def subscribers_add(
    ctx: click.Context,
    email: str,
    name: str | None,
    topics: str,
    frequency: str,
    weekday: str,
    updates: bool | None,
) -> None:
    """Add a reader (or update one). They start with today's digest, not the whole history.

    \b
    Example:
      digest subscribers add ada@example.org --name "Ada" --frequency weekly --weekday fri
      digest subscribers add bob@example.org --topics pretraining,agents
      digest subscribers add eve@example.org --no-updates
    """
    settings = settings_of(ctx)
    known = [topic.slug for topic in settings.topics]
    preferences = readers.parse_preferences(topics, frequency, weekday, known_topics=known)
    with open_database(settings) as db:
        reader, fresh = readers.add(
            db, email, preferences, now=utc_now(), name=name, updates=updates
        )
    say(ctx, f"{'Added' if fresh else 'Updated'} {reader.email} ({reader.frequency}).")


@subscribers_group.command("remove")
@click.argument("email")
@click.pass_context
def subscribers_remove(ctx: click.Context, email: str) -> None:
    """Unsubscribe a reader at once (their delivery history is kept).

    \b
    Example:
      digest subscribers remove ada@example.org
    """
    settings = settings_of(ctx)
    with open_database(settings) as db:
        address = readers.normalise_address(email)
        removed = remove_subscriber(db, address, utc_now())
    say(ctx, f"Unsubscribed {address}." if removed else f"{address} was not subscribed.")


@subscribers_group.command("feed")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print both URLs as JSON.")
@click.pass_context
def subscribers_feed(ctx: click.Context, email: str, as_json: bool) -> None:
    """Print a reader's private feed URL: the papers of their newsletter, for a feed reader.

    The address stops working when they unsubscribe.
    \b
    Example:
      digest subscribers feed ada@example.org
    """
    settings = settings_of(ctx)
    with open_database(settings) as db:
        reader = find_subscriber(db, readers.normalise_address(email))
    if reader is None or reader.status != "active":
        raise click.ClickException(f"{email} is not an active reader: no feed")
    atom, json_feed = feed_urls(settings, site_tokens(settings), reader)
    if as_json:
        click.echo(json.dumps({"email": reader.email, "atom": atom, "json": json_feed}, indent=2))
    else:
        click.echo(atom)


@subscribers_group.command("list")
@click.option("--all", "include_gone", is_flag=True, help="Include unsubscribed readers.")
@click.option("--json", "as_json", is_flag=True, help="Print the readers as one JSON object.")
@click.pass_context
def subscribers_list(ctx: click.Context, include_gone: bool, as_json: bool) -> None:
    """List readers: address, frequency, topics, status.

    \b
    Example:
      digest subscribers list --all
    """
    settings = settings_of(ctx)
    with open_database(settings) as db:
        everyone = list_subscribers(db, include_gone=include_gone)
    configured = {topic.slug for topic in settings.topics}
    policy = settings.mail.orphaned_topics
    if as_json:
        print_json(
            {
                "readers": [_reader_json(r, configured) for r in everyone],
                "orphaned_topics_policy": policy,
            }
        )
        return
    for reader in everyone:
        topics = ",".join(reader.topics) or "all topics"
        gone = [slug for slug in reader.topics if slug not in configured]
        orphaned = f"\torphaned topic(s) {','.join(gone)}: get {policy} of it" if gone else ""
        click.echo(f"{reader.email}\t{reader.frequency}\t{topics}\t{reader.status}{orphaned}")
    say(ctx, f"{len(everyone)} reader(s).", err=True)


def _reader_json(reader: Subscriber, configured: set[str]) -> dict[str, Any]:
    return {
        "email": reader.email,
        "name": reader.name,
        "frequency": reader.frequency,
        "weekday": WEEKDAYS[reader.weekday] if reader.frequency == "weekly" else None,
        "topics": list(reader.topics),
        "orphaned_topics": [slug for slug in reader.topics if slug not in configured],
        "status": reader.status,
        "origin": reader.origin,
    }


@subscribers_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def subscribers_import(ctx: click.Context, csv_file: Path) -> None:
    """Add readers from a CSV file with a header: email[,name,topics,frequency,weekday].

    \b
    Example:
      digest subscribers import readers.csv
    """
    settings = settings_of(ctx)
    with open_database(settings) as db:
        count = readers.import_csv(
            db,
            csv_file.read_text(encoding="utf-8-sig"),
            now=utc_now(),
            source=str(csv_file),
            known_topics=[topic.slug for topic in settings.topics],
        )
    say(ctx, f"Imported {count} reader(s) from {csv_file}.")


@subscribers_group.command("export")
@click.pass_context
def subscribers_export(ctx: click.Context) -> None:
    """Write every reader as CSV to standard output (the format `import` reads).

    \b
    Example:
      digest subscribers export > readers.csv
    """
    settings = settings_of(ctx)
    with open_database(settings) as db:
        click.echo(readers.export_csv(list_subscribers(db, include_gone=True)), nl=False)
