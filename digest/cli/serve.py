"""`digest serve`: the web app (feeds, archive, sign-up, unsubscribe) under uvicorn."""

from __future__ import annotations

from collections.abc import Callable

import click

from ..config import Settings
from .group import main, refuse_broken_templates, settings_of

Hook = Callable[[], object]


def background_services(settings: Settings, *, schedule: bool) -> tuple[list[Hook], list[Hook]]:
    """Start what runs beside the web app; return its (startup, shutdown) hooks.

    The scheduler starts here, before the server, so that a second scheduler on
    the same database refuses at once with a clear message instead of serving
    without one; its runs happen in APScheduler's own threads.
    """
    if not schedule:
        return [], []
    from ..scheduler import Scheduler

    scheduler = Scheduler.in_background(settings)
    scheduler.start()
    return [], [scheduler.stop]


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    envvar="FORWARDED_ALLOW_IPS",
    help="Proxies trusted to set X-Forwarded-For/-Proto (rate limits count the real client).",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log one line per request (off when a reverse proxy in front logs them already).",
)
@click.option(
    "--schedule/--no-schedule",
    default=True,
    show_default=True,
    help="Run the [schedule] in this process (off when cron or `digest schedule` runs it).",
)
@click.pass_context
def serve_command(
    ctx: click.Context,
    host: str,
    port: int,
    forwarded_allow_ips: str,
    access_log: bool,
    schedule: bool,
) -> None:
    """Serve the feeds, the digests as pages, sign-up and one-click unsubscribe over HTTP.

    Every link in pages, feeds and mail uses [site] base_url: set it to the
    public https:// address and put nginx or Caddy in front for TLS (deploy/).

    \b
    Example:
      DIGEST_SITE_BASE_URL=https://papers.example.org digest serve --port 8000
    """
    # Imported here so that the other commands start without the web stack.
    import uvicorn

    from ..web import create_app

    settings = settings_of(ctx)
    refuse_broken_templates(settings)
    starting, stopping = background_services(settings, schedule=schedule)
    app = create_app(settings, on_startup=starting, on_shutdown=stopping)
    click.echo(f"Serving {settings.site.base_url} on http://{host}:{port}/", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        access_log=access_log,
        log_config=None,  # keep the logging `digest` set up
    )
