"""Operator commands: `digest status`, `digest schedule`, `digest backfill`."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from .. import history
from ..clock import utc_now
from ..config import Settings
from ..history.channels import CHANNEL_STATUSES, ChannelState, channel_states
from ..history.deliveries import delivery_counts, delivery_problems
from ..history.locks import live_holder
from ..history.status import RunSummary, recent_runs, source_health, with_dead_runs_ended
from ..history.subscribers import Subscriber, list_subscribers
from ..locations import data_files
from ..model import FOLLOW_UP_CHECKS, SourceHealth, SourceReport
from ..pipeline.readers import orphaned_topics
from ..pipeline.schedule import next_fire_time, schedule_zone
from ..pipeline.stopping import Interrupted
from .group import is_quiet, main, open_database, print_json, say, settings_of

if TYPE_CHECKING:
    from ..pipeline.backfill import Fetch


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@click.option("--runs", "run_count", default=5, show_default=True, help="How many recent runs.")
@click.pass_context
def status_command(ctx: click.Context, as_json: bool, run_count: int) -> None:
    """What happened, what is pending, what comes next: the operator's one-screen view.

    \b
    Shows the last runs (and each source's outcome), each source's last success
    and last error, deliveries pending / to retry / failed, the next scheduled run
    and whether a run is in progress. Exit code 1 when the newest run failed.
    \b
    Example:
      digest status
      digest status --json | jq .sources
    """
    settings = settings_of(ctx)
    now = utc_now()
    with open_database(settings) as db:
        running = live_holder(db, "run", now)  # a dead pid's lock is no run in progress
        report = status_report(
            settings,
            with_dead_runs_ended(recent_runs(db, run_count), running.pid if running else None),
            source_health(db),
            delivery_counts(db),
            running,
            now,
            channel_states(db),
        )
        report["deliveries"]["problems"] = [
            {"status": p.status, "reason": p.reason, "count": p.count, "example": p.example}
            for p in delivery_problems(db)
        ]
        report["deliveries"]["next_step"] = (
            "digest send"
            if report["deliveries"]["retry"] or report["deliveries"]["pending"]
            else None
        )
        report["orphaned_topics"] = _orphans_json(settings, list_subscribers(db))
    if as_json:
        print_json(report)
    else:
        _print_status(report)
    newest = report["runs"][0] if report["runs"] else None
    ctx.exit(1 if newest and newest["status"] == "failed" else 0)


def status_report(
    settings: Settings,
    runs: list[RunSummary],
    sources: list[SourceHealth],
    deliveries: dict[str, int],
    running: Any,
    now: datetime,
    channels: list[ChannelState] | None = None,
) -> dict[str, Any]:
    upcoming = next_fire_time(settings, now)
    names = {source.url: source.name for source in settings.sources}
    states = {state.channel: state for state in channels or ()}
    configured = [channel.name for channel in settings.channels]
    return {
        "runs": [
            {
                "id": r.id,
                "started": r.started.isoformat(),
                "finished": r.finished.isoformat() if r.finished else None,
                "status": r.status,
                "novel": r.novel,
                "digest_id": r.digest_id,
                "reason": r.reason,
                "sources": list(r.sources),
                "follow_ups": {
                    "found": r.follow_ups.get("found", 0),
                    "delivered": r.follow_ups.get("delivered", 0),
                    "posted": r.follow_ups.get("posted", 0),
                    "checks": r.follow_ups.get("checks", []),
                },
            }
            for r in runs
        ],
        "sources": [
            _health_json(s, names.get(s.source)) for s in sources if s.kind not in FOLLOW_UP_CHECKS
        ],
        "follow_up_checks": [
            _health_json(s, FOLLOW_UP_CHECKS[s.kind]) for s in sources if s.kind in FOLLOW_UP_CHECKS
        ],
        "deliveries": {
            "pending": deliveries.get("pending", 0),
            "retry": deliveries.get("retry", 0),
            "failed": deliveries.get("failed", 0),
            "sent": deliveries.get("sent", 0),
        },
        "channels": [
            _channel_status(name, states.get(name), configured=name in configured)
            for name in [*configured, *sorted(set(states) - set(configured))]
        ],
        "running": (
            {"pid": running.pid, "host": running.host, "since": running.acquired.isoformat()}
            if running
            else None
        ),
        "next_run": upcoming.isoformat() if upcoming else None,
        "timezone": str(schedule_zone(settings)),
    }


def _health_json(health: SourceHealth, name: str | None) -> dict[str, Any]:
    return {
        "source": health.source,
        "name": name,
        "kind": health.kind,
        "last_status": health.last_status,
        "last_run": health.last_run.isoformat(),
        "last_success": health.last_success.isoformat() if health.last_success else None,
        "last_error": health.last_error,
        "last_error_at": health.last_error_at.isoformat() if health.last_error_at else None,
        "consecutive_failures": health.consecutive_failures,
    }


def _channel_status(name: str, state: ChannelState | None, *, configured: bool) -> dict[str, Any]:
    counts = state.counts if state else {}
    return {
        "name": name,
        "configured": configured,
        **{status: counts.get(status, 0) for status in CHANNEL_STATUSES},
        "last_sent": state.last_sent.isoformat() if state and state.last_sent else None,
        "last_error": state.last_error if state else None,
    }


def _print_status(report: dict[str, Any]) -> None:
    click.secho("Recent runs", bold=True)
    if not report["runs"]:
        click.echo("  none yet: try `digest run`")
    for run in report["runs"]:
        click.echo(
            f"  #{run['id']:<4} {_short(run['started'])}  {run['status']:<11} "
            f"{run['novel']} new" + (f", digest {run['digest_id']}" if run["digest_id"] else "")
        )
        if run["reason"]:
            click.echo(f"         {run['reason']}")
        for source in run["sources"]:
            detail = source.get("error") or source.get("reason") or ""
            click.echo(
                f"         {source['status']:<9} {_named(source)}  "
                f"({source['found']} found, {source['novel']} new){'  ' + detail if detail else ''}"
            )
        follow_ups = run["follow_ups"]
        for check in follow_ups["checks"]:
            detail = check.get("error") or check.get("reason") or ""
            click.echo(
                f"         {check['status']:<9} {check['kind']} {check['source']}  "
                f"({check['found']} asked, {check['novel']} updates){'  ' + detail if detail else ''}"
            )
        if follow_ups["found"] or follow_ups["delivered"] or follow_ups["posted"]:
            posted = f", {follow_ups['posted']} posted" if follow_ups["posted"] else ""
            click.echo(
                f"         updates: {follow_ups['found']} found, "
                f"{follow_ups['delivered']} delivered{posted}"
            )
    click.secho("Sources", bold=True)
    for source in report["sources"]:
        _print_health(source)
    if report["follow_up_checks"]:
        click.secho("Follow-up checks (once a day, on papers already sent)", bold=True)
    for check in report["follow_up_checks"]:
        _print_health(check)
    d = report["deliveries"]
    click.secho("Deliveries", bold=True)
    click.echo(
        f"  {d['sent']} sent, {d['pending']} pending, {d['retry']} to retry, {d['failed']} failed"
    )
    for problem in d["problems"]:
        click.echo(
            f"  {problem['count']} {'to retry' if problem['status'] == 'retry' else 'failed'} "
            f"(e.g. {problem['example']}): {problem['reason'] or 'no reason recorded'}"
        )
    if d["next_step"]:
        click.echo(f"  run `{d['next_step']}` to send the rest once the relay answers")
    elif d["failed"]:
        click.echo(
            "  the relay refused the failed ones for good; once the cause is fixed, "
            "`digest send --retry-failed` sends them again"
        )
    if report["orphaned_topics"]:
        click.secho("Orphaned topics", bold=True)
        for orphan in report["orphaned_topics"]:
            click.echo(
                f"  {orphan['slug']}: held by {len(orphan['readers'])} reader(s), no longer in "
                f"[[topics]]; they get {orphan['policy']} of it (mail.orphaned_topics)"
            )
    if report["channels"]:
        click.secho("Channels", bold=True)
    for c in report["channels"]:
        gone = "" if c["configured"] else "  (no longer configured)"
        click.echo(
            f"  {c['name']}: {c['sent']} sent, {c['pending']} pending, {c['retry']} to retry, "
            f"{c['failed']} failed; last post: {_short(c['last_sent'])}{gone}"
        )
        if c["last_error"] and (c["retry"] or c["failed"]):
            click.echo(f"      last error: {c['last_error']}")
    click.secho("Schedule", bold=True)
    click.echo(f"  next run: {_short(report['next_run'])} ({report['timezone']})")
    running = report["running"]
    click.echo(
        f"  a run is in progress since {_short(running['since'])} (pid {running['pid']})"
        if running
        else "  no run in progress"
    )


def _print_health(source: dict[str, Any]) -> None:
    click.echo(f"  {_named(source)}")
    click.echo(
        f"      last: {source['last_status']} at {_short(source['last_run'])}; "
        f"last success: {_short(source['last_success'])}"
    )
    if source["last_error"]:
        streak = source["consecutive_failures"]
        click.echo(
            f"      last error ({_short(source['last_error_at'])}"
            + (f", {streak} run(s) in a row" if streak else "")
            + f"): {source['last_error']}"
        )


def _named(source: dict[str, Any]) -> str:
    return f"{source['name']} ({source['source']})" if source.get("name") else str(source["source"])


def _orphans_json(settings: Settings, readers: list[Subscriber]) -> list[dict[str, Any]]:
    policy = settings.mail.orphaned_topics
    found = orphaned_topics(readers, [topic.slug for topic in settings.topics])
    return [{"slug": slug, "readers": emails, "policy": policy} for slug, emails in found.items()]


def _short(moment: str | None) -> str:
    if not moment:
        return "never"
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M %Z").strip()


@main.command("schedule")
@click.pass_context
def schedule_command(ctx: click.Context) -> None:
    """Run the scheduler alone, in the foreground (for operators who serve feeds with nginx).

    \b
    Runs at [schedule] times in [schedule] timezone; after downtime, one
    catch-up run at start. Refuses to start if another scheduler holds the
    database. Stop it with Ctrl-C or SIGTERM.
    \b
    Example:
      DIGEST_SCHEDULE_TIMES="07:00,19:00" digest schedule
    """
    settings = settings_of(ctx)
    from ..scheduler import Scheduler  # the service and all it runs: only for this command

    scheduler = Scheduler(settings)
    upcoming = next_fire_time(settings, utc_now())
    click.echo(
        f"Starting the scheduler; next run {_short(upcoming.isoformat() if upcoming else None)}."
    )
    try:
        scheduler.start()
    except (Interrupted, KeyboardInterrupt, SystemExit):
        pass  # a run in progress finishes its message in flight in stop()
    finally:
        scheduler.stop()


@main.command("backfill")
@click.option(
    "--since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day to ingest (YYYY-MM-DD).",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="URL_OR_PATH",
    help="Instead of the configured sources.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object: each fetch and the totals."
)
@click.pass_context
def backfill_command(
    ctx: click.Context, since: datetime, sources: tuple[str, ...], as_json: bool
) -> None:
    """Record past days as seen without mailing them, so a new deployment does not flood readers.

    \b
    Hugging Face Daily Papers is read day by day from --since; arXiv /new
    listings are read through /recent (the last five announcement days); other
    sources are read as they are. Everything found is marked seen. One line per
    fetch (a bar on a terminal); it stops at the first host it cannot reach.
    Exit code 1 when a fetch failed.
    \b
    Example:
      digest backfill --since 2025-03-01
    """

    settings = settings_of(ctx, sources)
    days = (utc_now().date() - since.date()).days
    if days < 0:
        raise click.BadParameter("--since is in the future", param_hint="--since")
    show = _Progress(quiet=as_json or is_quiet(ctx))
    try:
        from ..pipeline.backfill import backfill  # the whole run machinery: only here

        result = backfill(settings, since.date(), progress=show)
    finally:
        show.close()
    if as_json:
        print_json(result.as_json())
    else:
        say(
            ctx,
            f"Backfill: {result.found} papers found, {result.recorded} new to history (not mailed).",
        )
        for error in result.errors:
            click.echo(f"  failed: {error}", err=True)
        if result.stopped:
            click.echo(
                f"Stopped at the first connection failure; {result.skipped} fetch(es) not tried. "
                "Fix the network or the URL and run the backfill again.",
                err=True,
            )
    ctx.exit(1 if result.errors else 0)


class _Progress:
    """One line per fetch (a day of Hugging Face, or a source), or a bar on a terminal."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stdout.isatty()
        self.bar: Any = None

    def __call__(self, done: int, total: int, fetch: Fetch, report: SourceReport) -> None:
        if self.quiet:
            return
        if self.tty:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label="Backfilling", show_pos=True)
                self.bar.__enter__()
            self.bar.label = f"Backfilling {fetch.label}"
            self.bar.update(1)
            return
        detail = f": {report.error}" if report.error else ""
        click.echo(
            f"  [{done}/{total}] {fetch.label}  {report.status}, "
            f"{report.found} found, {report.novel} new{detail}"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


__all__ = ["backfill_command", "schedule_command", "status_command"]


@main.command("check")
@click.pass_context
def check_command(ctx: click.Context) -> None:
    """Check the configuration, render every template (yours and the shipped ones), and
    check the whole history database with SQLite's integrity_check.

    Exit 0 when all is well; 2 naming the file and line of each problem.

    \b
    Example:
      DIGEST_SITE_TEMPLATES_DIR=my-templates digest check
    """
    from ..render.check import check_templates

    settings = settings_of(ctx)  # a bad setting stops here, naming file, line and key
    problems = check_templates(settings)
    for problem in problems:
        click.echo(f"digest: template error: {problem}", err=True)
    damaged = _database_problems(settings)
    if problems or damaged:
        ctx.exit(2)
    where = settings.config_path or "defaults and environment"
    overrides = settings.site.templates_dir or "none"
    click.echo(f"ok: configuration ({where}), templates (overrides: {overrides}), history")


def _database_problems(settings: Settings) -> list[str]:
    """What the full integrity_check finds (a missing database is fine: a run creates it)."""
    path = data_files(settings).database
    if not path.exists():
        return []
    db = history.open_history(path)  # refuses an empty, foreign, damaged or newer file
    try:
        problems = history.integrity_check(db)
    finally:
        db.close()
    for problem in problems:
        click.echo(f"digest: {path}: integrity_check: {problem}", err=True)
    if problems:
        click.echo(
            f"digest: {path} is damaged: stop digest and restore your backup "
            "(README: Operations, Backups)",
            err=True,
        )
    return problems
