"""Commands that run the pipeline: ``run``, ``send``, ``preview``, and ``init`` for the config.

``run`` and ``send`` load the renderer only when a mail is composed, and
``preview``'s and ``init``'s own modules are imported in their commands: a cron
run answered 304 stays light (docs/architecture.md, "Start-up: what a command
loads").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..clock import utc_now
from ..config import sample_config
from ..errors import ConfigError
from ..history.deliveries import queue_failed_again
from ..pipeline.locks import exclusive
from ..pipeline.newsletter import Newsletter
from ..pipeline.run import RunResult, deliver, post_to_channels, run
from ..pipeline.runtime import Runtime, open_runtime
from .group import (
    is_quiet,
    main,
    open_database,
    print_json,
    refuse_broken_templates,
    say,
    settings_of,
    stop_of,
)


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
@click.option(
    "--wait-seconds",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Like --wait, but give up (exit 1) after this many seconds.",
)
@click.pass_context
def run_command(
    ctx: click.Context,
    sources: tuple[str, ...],
    as_json: bool,
    mark_seen: bool,
    wait: bool,
    wait_seconds: float | None,
) -> None:
    """Fetch every source, find the new papers, write the feed and send the newsletter.

    \b
    Examples:
      digest run
      digest run --source examples/
      digest run --source https://rss.arxiv.org/rss/cs.LG --json
    """
    settings = settings_of(ctx, sources)
    refuse_broken_templates(settings)
    with open_runtime(settings, stop=stop_of(ctx)) as runtime, _locked(runtime, wait, wait_seconds):
        result = run(settings, runtime, mark_seen=mark_seen)
    if as_json:
        print_json(result.as_json())
    else:
        _print_run(ctx, result)
    ctx.exit(0 if result.ok else 1)


def _print_run(ctx: click.Context, result: RunResult) -> None:
    quiet = is_quiet(ctx)
    for report in result.sources:
        if quiet and report.status != "failed":
            continue  # -q: only what went wrong
        counts = f"{report.found} found, {report.novel} new"
        detail = report.error or report.reason
        named = f"{report.name} ({report.source})" if report.name else report.source
        click.echo(
            f"  {report.status:<9} {named}  ({report.kind}; {counts})"
            + (f"\n            {detail}" if detail else "")
        )
    failed = sum(report.status == "failed" for report in result.sources)
    if failed:
        # Never let a broken run read like a quiet day.
        click.echo(f"{failed} of {len(result.sources)} source(s) FAILED (see above); exit code 1.")
    why = result.delivery.why()
    if why:
        click.echo(f"{why}; `digest send` sends the rest once that is fixed.")
    if quiet:
        return
    if result.digest_id is None:
        nothing = "from the sources that worked" if failed else "today"
        # Mail queued earlier (a reader who joined since, a relay that was down) still went.
        earlier = result.delivery.sent
        went = f" {earlier} message(s) queued earlier delivered." if earlier else ""
        click.echo(f"Nothing new {nothing}: no newsletter this run.{went} Feed: {result.feed}")
    else:
        click.echo(
            f"{result.novel} new paper(s). Feed: {result.feed}. "
            f"Newsletter: {result.emails} message(s) queued, {result.delivery.sent} delivered."
        )


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
    import secrets

    # A fresh signing secret for unsubscribe and confirmation links, unique to this install.
    text = sample_config().replace('# secret = ""', f'secret = "{secrets.token_urlsafe(32)}"', 1)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)  # it holds the secret
    click.echo(f"Wrote {path}. Edit it, then run `digest run`.")


def _locked(runtime: Runtime, wait: bool, wait_seconds: float | None) -> Any:
    waiting = wait or wait_seconds is not None
    return exclusive(runtime.db, "run", runtime.clock, wait=waiting, wait_seconds=wait_seconds)


@main.command("send")
@click.option("--wait", is_flag=True, help="If a run is in progress, wait for it to end.")
@click.option(
    "--wait-seconds",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Like --wait, but give up (exit 1) after this many seconds.",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Also send again the mail the relay refused for good (5xx), once you fixed why.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@click.pass_context
def send_command(
    ctx: click.Context, wait: bool, wait_seconds: float | None, retry_failed: bool, as_json: bool
) -> None:
    """Send what the outbox and the channels still hold (after an outage, say), nothing twice.

    \b
    Exit code 0 when everything went out, 1 when some mail is still to retry or failed.
    \b
    Examples:
      DIGEST_MAIL_SMTP_URL=smtps://user:pass@smtp.example.org digest send
      digest send --retry-failed
    """
    settings = settings_of(ctx)
    with open_runtime(settings, stop=stop_of(ctx)) as runtime, _locked(runtime, wait, wait_seconds):
        if retry_failed:
            again = queue_failed_again(runtime.db, runtime.clock())
            say(ctx, f"{again} failed message(s) queued again.")
        newsletter = Newsletter(settings, runtime.db)
        with runtime.stop.deferred():  # a signal lets the message in flight finish first
            report = deliver(newsletter, runtime)
            posted = post_to_channels(settings, runtime).total
    if as_json:
        # The "channels" key only when there are channels: the mail-only shape stays as documented.
        channels = {"channels": posted.as_json()} if settings.channels else {}
        print_json({**report.as_json(), **channels})
    else:
        say(ctx, f"Sent {report.sent}; {report.retry} to retry; {report.failed} failed.")
        if settings.channels:
            say(
                ctx,
                f"Channels: posted {posted.sent}; {posted.retry} to retry; {posted.failed} failed.",
            )
        why = report.why()
        if why:
            click.echo(why, err=True)
        for error in posted.errors:
            click.echo(f"  {error}", err=True)
    stop_of(ctx).check()  # stopped by a signal: exit 130 / 143
    ctx.exit(0 if report.ok and posted.ok else 1)


@main.command("preview")
@click.option("--to", "address", help="Preview as this reader (their topics and links).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the HTML part here.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print what would be sent as one JSON object."
)
@click.pass_context
def preview_command(
    ctx: click.Context, address: str | None, html_path: Path | None, as_json: bool
) -> None:
    """Show the next newsletter as plain text, without sending or changing anything.

    \b
    Without --to: the next mail of the reader due soonest who has one (a weekly
    reader's mail on their day), or the operator's copy when there are no readers.
    \b
    Example:
      digest preview --html /tmp/next.html
      digest preview --to ada@example.org --json | jq .subject
    """
    from ..pipeline.preview import preview
    from ..pipeline.readers import SubscriberError

    settings = settings_of(ctx)
    with open_database(settings) as db:
        try:
            found = preview(settings, db, address, now=utc_now())
        except SubscriberError as error:
            raise click.BadParameter(str(error), param_hint="--to") from error
    if as_json:
        print_json(found.as_json())
    if found.message is None:
        if not as_json:
            click.echo(f"Nothing new to send to {found.recipient}: {found.note}.")
        return
    text_part, html_part = found.message.get_body(("plain",)), found.message.get_body(("html",))
    assert text_part is not None and html_part is not None  # build_message makes both
    if not as_json:
        say(
            ctx,
            f"Next mail: to {found.recipient} on {found.due:%A %Y-%m-%d}, {found.papers} paper(s)"
            + (f", {found.updates} update(s)" if found.updates else "")
            + ".\n",
        )
        click.echo(text_part.get_content())
    if html_path:
        html_path.write_text(html_part.get_content(), encoding="utf-8")
        say(ctx, f"HTML part written to {html_path}", err=True)
