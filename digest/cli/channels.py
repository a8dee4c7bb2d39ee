"""`digest channels list` and `digest channels test NAME`: see and try the chat channels."""

from __future__ import annotations

import json
from typing import Any

import click

from ..config import ChannelConfig, Settings
from ..errors import DeliveryError
from ..history.channels import CHANNEL_STATUSES, channel_states
from ..pipeline.channels import Poster, test_post
from .group import main, open_database, settings_of


@main.group("channels")
def channels_group() -> None:
    """Chat channels ([[channels]] in digest.toml): one post per digest, through Apprise."""


@channels_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the channels as JSON.")
@click.pass_context
def channels_list(ctx: click.Context, as_json: bool) -> None:
    """Each channel: its service, its URL with secrets masked, topics, and its ledger counts.

    \b
    Example:
      digest channels list
      digest channels list --json | jq '.[].retry'
    """
    settings = settings_of(ctx)
    with open_database(settings) as db:
        states = {state.channel: state for state in channel_states(db)}
    rows = [_describe(channel, states.get(channel.name)) for channel in settings.channels]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No channels: add a [[channels]] table to digest.toml (see README).")
    for row in rows:
        topics = ", ".join(row["topics"]) or "every paper"
        click.echo(f"{row['name']}  {row['service']}  {row['url']}")
        click.echo(
            f"    {topics}; up to {row['max_papers']} papers a post"
            + ("; missed digests combined" if row["combine_missed"] else "")
        )
        click.echo(
            f"    {row['sent']} sent, {row['pending']} pending, {row['retry']} to retry, "
            f"{row['failed']} failed"
        )
        if row["error"]:
            click.echo(f"    {row['error']}")


@channels_group.command("test")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_context
def channels_test(ctx: click.Context, name: str, as_json: bool) -> None:
    """Post a test message (the newest digest, as the channel would get it) to NAME.

    The ledger is not touched: the test counts as nobody's post.
    \b
    Example:
      DIGEST_SLACK_URL=slack://T0/B0/XXXX digest channels test team-slack
    """
    settings = settings_of(ctx)
    channel = _channel(settings, name)
    poster = Poster()
    outcome: dict[str, Any] = {"name": name, "sent": False, "error": None, "title": None}
    try:
        if channel.url is None:
            raise click.ClickException(f"{channel.url_env} is not set: channel {name} has no URL")
        service = poster.service(channel.url)
        with open_database(settings) as db:
            post = test_post(settings, db, channel, service)
        outcome["title"] = post.title
        poster.post(channel.url, post.title, post.body)
        outcome["sent"] = True
    except DeliveryError as error:
        outcome["error"] = str(error)
    if as_json:
        click.echo(json.dumps(outcome, indent=2))
    elif outcome["sent"]:
        click.echo(f"Posted to {name}: {outcome['title']}")
    else:
        click.echo(f"Could not post to {name}: {outcome['error']}", err=True)
    ctx.exit(0 if outcome["sent"] else 1)


def _channel(settings: Settings, name: str) -> ChannelConfig:
    for channel in settings.channels:
        if channel.name == name:
            return channel
    known = ", ".join(channel.name for channel in settings.channels) or "none configured"
    raise click.BadParameter(f"no channel {name!r} (channels: {known})", param_hint="NAME")


def _describe(channel: ChannelConfig, state: Any) -> dict[str, Any]:
    counts = state.counts if state else {}
    service, url, error = "?", None, None
    if channel.url is None:
        error = f"{channel.url_env} is not set"
    else:
        try:
            found = Poster().service(channel.url)
            service, url = found.kind, found.private_url
        except DeliveryError as problem:
            error = str(problem)
    return {
        "name": channel.name,
        "service": service,
        "url": url,
        "url_env": channel.url_env,
        "topics": list(channel.topics),
        "max_papers": channel.max_papers,
        "combine_missed": channel.combine_missed,
        **{status: counts.get(status, 0) for status in CHANNEL_STATUSES},
        "error": error,
    }
