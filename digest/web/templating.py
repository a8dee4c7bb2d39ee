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
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def render(name: str, context: Mapping[str, Any]) -> str:
    return _environment().get_template(f"web/{name}").render(context)


@cache
def stylesheet() -> tuple[bytes, str]:
    """The site's CSS and a short hash of it (a cache-busting query string)."""
    css = resources.files("digest").joinpath("templates/web/site.css").read_bytes()
    return css, hashlib.sha256(css).hexdigest()[:12]


@cache
def icon() -> bytes:
    return resources.files("digest").joinpath("templates/web/favicon.svg").read_bytes()


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("digest", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "opml.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
