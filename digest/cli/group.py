"""The ``digest`` command group: global options, settings, exit codes.

Each command module (run, readers, ops, serve, topics) adds its commands to
:data:`main`. Commands load settings, open what they need, call one library
function and print the outcome. Library errors become exit codes here and
nowhere else: 0 success, 1 a source or delivery failed (or a condition that
passes: a full disk, a database locked too long), 2 bad usage, configuration or
set-up (a read-only file, a folder we may not write), 130 / 143 stopped by
SIGINT / SIGTERM (the run recorded as ``interrupted``). Operator errors are one
line (:mod:`.failures`); ``-v`` adds the traceback.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from .. import __version__, history
from ..config import Settings, SourceConfig, load_settings, source_location
from ..errors import BrokenHistoryError, ConfigError, DigestError
from ..locations import data_files
from ..pipeline.stopping import Interrupted, Stop, stop_on_signals
from .failures import explain

log = logging.getLogger("digest")


# Which module defines each command. A command module is imported only when its
# command runs (or for --help): `digest --version` and `digest status` never load
# the scheduler, the web app, Jinja2 or the SMTP stack.
COMMAND_MODULES = {
    "run": "run", "init": "run", "send": "run", "preview": "run",
    "status": "ops", "schedule": "ops", "backfill": "ops", "check": "ops",
    "subscribers": "readers",
    "channels": "channels",
    "serve": "serve",
    "search": "topics", "topics": "topics",
}  # fmt: skip


STOP = "digest.stop"  # ctx.meta key of the Stop that SIGINT/SIGTERM request


class _ExitCodes(click.Group):
    """Turn DigestError and operator errors into one line and an exit code (module docstring);
    a refused database is 2: nothing can run until the operator acts.

    Commands are found lazily: the group knows their names (:data:`COMMAND_MODULES`)
    and imports a command's module, which registers it, the first time it is asked for.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(f"{__package__}.{COMMAND_MODULES[cmd_name]}")
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        stop = ctx.meta.setdefault(STOP, Stop())
        try:
            with stop_on_signals(stop):
                return super().invoke(ctx)
        except Interrupted as interrupted:
            click.echo(f"digest: {interrupted}; what was done is recorded", err=True)
            ctx.exit(interrupted.exit_code)
        except ConfigError as error:
            _trace(ctx, error)
            click.echo(f"digest: configuration error: {error}", err=True)
            ctx.exit(2)
        except BrokenHistoryError as error:
            _trace(ctx, error)
            click.echo(f"digest: refusing the history database: {error}", err=True)
            ctx.exit(2)
        except (DigestError, sqlite3.Error, OSError) as error:
            failure = explain(error, (ctx.obj or {}).get("database"))
            if failure is None:
                raise
            _trace(ctx, error)
            click.echo(f"digest: {failure.message}", err=True)
            ctx.exit(failure.exit_code)


def _trace(ctx: click.Context, error: BaseException) -> None:
    """With -v, the traceback behind a one-line message (for a bug report)."""
    if (ctx.obj or {}).get("verbose"):
        log.error("details:", exc_info=error)


def stop_of(ctx: click.Context) -> Stop:
    """The Stop that this command's SIGINT / SIGTERM handlers request."""
    stop: Stop = ctx.find_root().meta.setdefault(STOP, Stop())
    return stop


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
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Say more on stderr: -v each stage (INFO), -vv everything (DEBUG).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print nothing when all went well, only the failures otherwise (for cron).",
)
@click.version_option(version=__version__, package_name="digest")
@click.pass_context
def main(
    ctx: click.Context,
    config_path: Path | None,
    data_dir: Path | None,
    verbose: int,
    quiet: bool,
) -> None:
    """digest: a daily digest of research papers, as an Atom feed and a newsletter.

    Start with `digest run`: it reads today's Hugging Face Daily Papers and
    writes digest-data/feed.atom and a newsletter into digest-data/outbox/.
    """
    configure_logging(verbose, quiet)
    if config_path is None and Path("digest.toml").exists():
        config_path = Path("digest.toml")
    ctx.obj = {
        "config_path": config_path,
        "data_dir": data_dir,
        "quiet": quiet,
        "verbose": verbose,
    }


def log_level(verbose: int, quiet: bool) -> int:
    """WARNING by default (cron mails only what matters), -v INFO, -vv DEBUG, -q ERROR."""
    if quiet:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)


def configure_logging(verbose: int, quiet: bool) -> None:
    level = log_level(verbose, quiet)
    # Timestamps only when asked for detail: a warning reads as one plain line.
    detailed = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(
        level=level,
        format=detailed if verbose else "digest: %(levelname)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # APScheduler and uvicorn narrate every job and start-up step; ours say what matters.
    for chatty in ("apscheduler", "uvicorn.error"):
        logging.getLogger(chatty).setLevel(
            logging.DEBUG if verbose > 1 else max(level, logging.WARNING)
        )


def is_quiet(ctx: click.Context) -> bool:
    return bool(ctx.find_root().obj and ctx.find_root().obj.get("quiet"))


def say(ctx: click.Context, text: str, *, err: bool = False) -> None:
    """Print a success message, unless -q asked for silence when all is well."""
    if not is_quiet(ctx):
        click.echo(text, err=err)


def print_json(value: Any) -> None:
    """Every --json output: one object, indented, keys in the order built."""
    click.echo(json.dumps(value, indent=2))


def settings_of(ctx: click.Context, sources: tuple[str, ...] = ()) -> Settings:
    overrides = {"data_dir": str(ctx.obj["data_dir"])} if ctx.obj["data_dir"] else {}
    settings = load_settings(ctx.obj["config_path"], environ=os.environ, overrides=overrides)
    if sources:
        settings = replace(
            settings,
            sources=tuple(
                SourceConfig(url=source_location(source, None, "--source")) for source in sources
            ),
        )
    ctx.find_root().obj["database"] = data_files(settings).database  # named by operator errors
    return settings


@contextmanager
def open_database(settings: Settings) -> Iterator[Any]:
    db = history.open_history(data_files(settings).database)
    try:
        yield db
    finally:
        db.close()


def refuse_broken_templates(settings: Settings) -> None:
    """With ``[site] templates_dir`` set, stop before doing anything if a template would fail."""
    if not settings.site.templates_dir:
        return
    from ..render.check import check_templates  # renders samples: only when overrides exist

    problems = check_templates(settings)
    if problems:
        listed = "\n  ".join(str(problem) for problem in problems)
        raise ConfigError(
            f"{len(problems)} template problem(s) in [site] templates_dir "
            f"(run `digest check` after fixing):\n  {listed}"
        )
