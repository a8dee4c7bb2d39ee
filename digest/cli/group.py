"""The ``digest`` command group: global options, settings, exit codes.

Each command module (run, readers, ops, serve, topics) adds its commands to
:data:`main`. Commands load settings, open what they need, call one library
function and print the outcome. Library errors become exit codes here and
nowhere else: 0 success, 1 a source or delivery failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from .. import history
from ..config import Settings, SourceConfig, load_settings
from ..errors import BrokenHistoryError, ConfigError, DigestError
from ..locations import data_files

log = logging.getLogger("digest")


class _ExitCodes(click.Group):
    """Turn DigestError into a message and an exit code: 2 for configuration or a refused
    database (nothing can run until the operator acts), 1 otherwise."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            click.echo(f"digest: configuration error: {error}", err=True)
            ctx.exit(2)
        except BrokenHistoryError as error:
            click.echo(f"digest: refusing the history database: {error}", err=True)
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


def settings_of(ctx: click.Context, sources: tuple[str, ...] = ()) -> Settings:
    overrides = {"data_dir": str(ctx.obj["data_dir"])} if ctx.obj["data_dir"] else {}
    settings = load_settings(ctx.obj["config_path"], environ=os.environ, overrides=overrides)
    if sources:
        settings = replace(settings, sources=tuple(SourceConfig(url=source) for source in sources))
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
