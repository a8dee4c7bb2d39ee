"""The command line: a thin shell over the library.

Each command loads settings, opens what it needs, calls one library function
and prints the outcome. Library errors become exit codes here and nowhere
else: 0 success, 1 a source or delivery failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from . import history, subscribers
from .clock import utc_now
from .config import Settings, SourceConfig, load_settings, sample_config
from .errors import ConfigError, DigestError
from .history.subscribers import list_subscribers, remove_subscriber
from .newsletter import Newsletter, preview_message
from .pipeline import RunResult, deliver, run
from .runlock import exclusive
from .runtime import open_runtime
from .site import site_tokens

log = logging.getLogger("digest")


class _ExitCodes(click.Group):
    """Turn DigestError into a message and an exit code: 2 for configuration, 1 otherwise."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            click.echo(f"digest: configuration error: {error}", err=True)
            ctx.exit(2)
        except DigestError as error:
            click.echo(f"digest: {error}", err=True)
            ctx.exit(1)


@click.group(cls=_ExitCodes)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="DIGEST_CONFIG",
    help="digest.toml to read (default: ./digest.toml when it exists). Env: DIGEST_CONFIG.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for digest.db, feed.atom and outbox/ (default ./digest-data). Env: DIGEST_DATA_DIR.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every stage in detail.")
@click.version_option(package_name="digest")
@click.pass_context
def main(
    ctx: click.Context, config_path: Path | None, data_dir: Path | None, verbose: bool
) -> None:
    """digest: a daily digest of research papers, as an Atom feed and a newsletter.

    Start with `digest run`: it reads today's Hugging Face Daily Papers and
    writes digest-data/feed.atom and a newsletter into digest-data/outbox/.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # APScheduler narrates every job it adds; our own lines say what matters.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)
    if config_path is None and Path("digest.toml").exists():
        config_path = Path("digest.toml")
    ctx.obj = {"config_path": config_path, "data_dir": data_dir}


def _settings(ctx: click.Context, sources: tuple[str, ...] = ()) -> Settings:
    overrides = {"data_dir": str(ctx.obj["data_dir"])} if ctx.obj["data_dir"] else {}
    settings = load_settings(ctx.obj["config_path"], environ=os.environ, overrides=overrides)
    if sources:
        settings = replace(settings, sources=tuple(SourceConfig(url=source) for source in sources))
    return settings


@main.command("run")
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="URL_OR_PATH",
    help="Read this source instead of the configured ones (repeatable): a URL, a file, a folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object describing the run.")
@click.option(
    "--mark-seen",
    is_flag=True,
    help="Record what the sources list as seen without mailing it (first run on a new install).",
)
@click.option("--wait", is_flag=True, help="If another run is in progress, wait for it to end.")
@click.pass_context
def run_command(
    ctx: click.Context, sources: tuple[str, ...], as_json: bool, mark_seen: bool, wait: bool
) -> None:
    """Fetch every source, find the new papers, write the feed and send the newsletter.

    \b
    Examples:
      digest run
      digest run --source examples/
      digest run --source https://rss.arxiv.org/rss/cs.LG --json
    """
    settings = _settings(ctx, sources)
    with open_runtime(settings) as runtime, exclusive(runtime.db, "run", runtime.clock, wait=wait):
        result = run(settings, runtime, mark_seen=mark_seen)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        _print_run(result)
    ctx.exit(0 if result.ok else 1)


def _print_run(result: RunResult) -> None:
    for report in result.sources:
        counts = f"{report.found} found, {report.novel} new"
        detail = report.error or report.reason
        click.echo(
            f"  {report.status:<9} {report.source}  ({report.kind}; {counts})"
            + (f"\n            {detail}" if detail else "")
        )
    failed = sum(report.status == "failed" for report in result.sources)
    if failed:
        # Never let a broken run read like a quiet day.
        click.echo(f"{failed} of {len(result.sources)} source(s) FAILED (see above); exit code 1.")
    if result.digest_id is None:
        quiet = "from the sources that worked" if failed else "today"
        click.echo(f"Nothing new {quiet}: no newsletter this run. Feed: {result.feed}")
    else:
        click.echo(
            f"{result.novel} new paper(s). Feed: {result.feed}. "
            f"Newsletter: {result.emails} message(s) queued, {result.delivery.sent} delivered."
        )
    for error in result.delivery.errors:
        click.echo(f"  delivery: {error}", err=True)


@main.command("init")
@click.argument(
    "path", type=click.Path(dir_okay=False, path_type=Path), default=Path("digest.toml")
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_command(path: Path, force: bool) -> None:
    """Write a commented sample configuration (default: ./digest.toml).

    \b
    Example:
      digest init && $EDITOR digest.toml
    """
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; use --force to overwrite it")
    # A fresh signing secret for unsubscribe and confirmation links, unique to this install.
    text = sample_config().replace('# secret = ""', f'secret = "{secrets.token_urlsafe(32)}"', 1)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)  # it holds the secret
    click.echo(f"Wrote {path}. Edit it, then run `digest run`.")


@contextmanager
def _database(settings: Settings) -> Iterator[Any]:
    db = history.open_history(settings.data_dir / "digest.db")
    try:
        yield db
    finally:
        db.close()


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
@click.pass_context
def subscribers_add(
    ctx: click.Context, email: str, name: str | None, topics: str, frequency: str, weekday: str
) -> None:
    """Add a reader (or update one). They start with today's digest, not the whole history.

    \b
    Example:
      digest subscribers add ada@example.org --name "Ada" --frequency weekly --weekday fri
      digest subscribers add bob@example.org --topics pretraining,agents
    """
    settings = _settings(ctx)
    known = [topic.slug for topic in settings.topics]
    preferences = subscribers.parse_preferences(topics, frequency, weekday, known_topics=known)
    with _database(settings) as db:
        reader, fresh = subscribers.add(db, email, preferences, now=utc_now(), name=name)
    click.echo(f"{'Added' if fresh else 'Updated'} {reader.email} ({reader.frequency}).")


@subscribers_group.command("remove")
@click.argument("email")
@click.pass_context
def subscribers_remove(ctx: click.Context, email: str) -> None:
    """Unsubscribe a reader at once (their delivery history is kept).

    \b
    Example:
      digest subscribers remove ada@example.org
    """
    settings = _settings(ctx)
    with _database(settings) as db:
        address = subscribers.normalise_address(email)
        removed = remove_subscriber(db, address, utc_now())
    click.echo(f"Unsubscribed {address}." if removed else f"{address} was not subscribed.")


@subscribers_group.command("list")
@click.option("--all", "include_gone", is_flag=True, help="Include unsubscribed readers.")
@click.pass_context
def subscribers_list(ctx: click.Context, include_gone: bool) -> None:
    """List readers: address, frequency, topics, status.

    \b
    Example:
      digest subscribers list --all
    """
    settings = _settings(ctx)
    with _database(settings) as db:
        readers = list_subscribers(db, include_gone=include_gone)
    for reader in readers:
        topics = ",".join(reader.topics) or "all topics"
        click.echo(f"{reader.email}\t{reader.frequency}\t{topics}\t{reader.status}")
    click.echo(f"{len(readers)} reader(s).", err=True)


@subscribers_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def subscribers_import(ctx: click.Context, csv_file: Path) -> None:
    """Add readers from a CSV file with a header: email[,name,topics,frequency,weekday].

    \b
    Example:
      digest subscribers import readers.csv
    """
    settings = _settings(ctx)
    with _database(settings) as db:
        count = subscribers.import_csv(
            db,
            csv_file.read_text(encoding="utf-8-sig"),
            now=utc_now(),
            source=str(csv_file),
            known_topics=[topic.slug for topic in settings.topics],
        )
    click.echo(f"Imported {count} reader(s) from {csv_file}.")


@subscribers_group.command("export")
@click.pass_context
def subscribers_export(ctx: click.Context) -> None:
    """Write every reader as CSV to standard output (the format `import` reads).

    \b
    Example:
      digest subscribers export > readers.csv
    """
    settings = _settings(ctx)
    with _database(settings) as db:
        click.echo(subscribers.export_csv(list_subscribers(db, include_gone=True)), nl=False)


@main.command("send")
@click.option("--wait", is_flag=True, help="If a run is in progress, wait for it to end.")
@click.pass_context
def send_command(ctx: click.Context, wait: bool) -> None:
    """Send what the outbox still holds (after a relay outage, say), and nothing twice.

    \b
    Example:
      DIGEST_MAIL_SMTP_URL=smtps://user:pass@smtp.example.org digest send
    """
    settings = _settings(ctx)
    with open_runtime(settings) as runtime, exclusive(runtime.db, "run", runtime.clock, wait=wait):
        newsletter = Newsletter(settings, runtime.db, site_tokens(settings))
        report = deliver(newsletter, runtime)
    click.echo(f"Sent {report.sent}; {report.retry} to retry; {report.failed} failed.")
    for error in report.errors:
        click.echo(f"  {error}", err=True)
    ctx.exit(0 if report.ok else 1)


@main.command("preview")
@click.option("--to", "address", help="Preview as this reader (their topics and links).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the HTML part here.",
)
@click.pass_context
def preview_command(ctx: click.Context, address: str | None, html_path: Path | None) -> None:
    """Show the next newsletter as plain text, without sending or changing anything.

    \b
    Example:
      digest preview --html /tmp/next.html
    """
    settings = _settings(ctx)
    with _database(settings) as db:
        message = preview_message(settings, db, address, now=utc_now())
    if message is None:
        click.echo("Nothing new to send: the next newsletter would be empty.")
        return
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None  # build_message makes both
    click.echo(text_part.get_content())
    if html_path:
        html_path.write_text(html_part.get_content(), encoding="utf-8")
        click.echo(f"HTML part written to {html_path}", err=True)


# Registers status, schedule, backfill, serve, search and topics.
from . import cli_ops, cli_serve, cli_topics  # noqa: E402, F401
