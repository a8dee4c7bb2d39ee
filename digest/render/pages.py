"""The Jinja2 environment of the web pages: ``templates/web/*.html.j2``, escaped, strict.

Autoescape is chosen by extension (``.html.j2`` and ``.opml.j2`` are escaped,
as the mail templates are), and a missing variable is an error rather than an
empty string, so every source string reaches a page as text: a title that says
``<script>`` shows those characters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, select_autoescape

from .templates import shipped_folder, template_loader


def render(name: str, context: Mapping[str, Any], *, templates_dir: Path | None = None) -> str:
    return web_environment(templates_dir).get_template(f"web/{name}").render(context)


@cache
def stylesheet(templates_dir: Path | None = None) -> tuple[bytes, str]:
    """The site's CSS (the operator's ``web/site.css`` if they have one) and a short hash of it
    (a cache-busting query string)."""
    css = _asset("web/site.css", templates_dir)
    return css, hashlib.sha256(css).hexdigest()[:12]


@cache
def icon(templates_dir: Path | None = None) -> bytes:
    return _asset("web/favicon.svg", templates_dir)


def _asset(name: str, templates_dir: Path | None) -> bytes:
    if templates_dir is not None and (templates_dir / name).is_file():
        return (templates_dir / name).read_bytes()
    return (shipped_folder() / name).read_bytes()


@cache
def web_environment(templates_dir: Path | None = None) -> Environment:
    return Environment(
        loader=template_loader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "opml.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
