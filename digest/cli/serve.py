"""`digest serve`: the web app (feeds, archive, sign-up, unsubscribe) under uvicorn."""

from __future__ import annotations

import errno
import logging
import socket
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
    SIGINT and SIGTERM stop it alike: a scheduled run in progress finishes the
    message in flight and is recorded as interrupted (exit 130 / 143).

    \b
    Example:
      DIGEST_SITE_BASE_URL=https://papers.example.org digest serve --port 8000
    """
    # Imported here so that the other commands start without the web stack.
    import uvicorn

    from ..web import create_app
    from ..web.protocol import KEEP_ALIVE_SECONDS, HeaderDeadlineProtocol

    settings = settings_of(ctx)
    refuse_broken_templates(settings)
    # Bind first: a busy port is a usage problem said in words (exit 2), before
    # the scheduler starts or uvicorn prints "[Errno 98]".
    try:
        listening = _listen(host, port)
    except OSError as error:
        busy = error.errno == errno.EADDRINUSE
        click.echo(
            f"digest: port {port} is in use (another `digest serve`?); choose one with --port"
            if busy
            else f"digest: cannot listen on {host}:{port}: {error.strerror}",
            err=True,
        )
        ctx.exit(2)
    starting, stopping = background_services(settings, schedule=schedule)
    app = create_app(settings, on_startup=starting, on_shutdown=stopping)
    bound = _address(host, listening.getsockname()[1])
    public = settings.site.base_url
    click.echo(
        f"Serving {bound}" + ("" if public == bound else f" (public address {public})"), err=True
    )
    if access_log:
        # The default level is WARNING; the access log is asked for, so let it through.
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    config = uvicorn.Config(
        app,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        access_log=access_log,
        log_config=None,  # keep the logging `digest` set up
        http=HeaderDeadlineProtocol,  # a request head must arrive within 10 s (slow loris)
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    uvicorn.Server(config).run(sockets=[listening])


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError:
        listening.close()
        raise
    listening.listen(2048)
    listening.set_inheritable(True)
    return listening


def _address(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
