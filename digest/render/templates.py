"""The Jinja2 environment for the mail bodies, and the per-recipient slots it leaves.

Both mail templates render from the same context; the HTML
one is autoescaped and the text one is not, chosen by file extension. What
differs per recipient is not rendered here: ``slot("x")`` leaves a marker, and
``when("x") … end("x")`` brackets text kept only when ``x`` has a value.
:func:`personalise` fills them per recipient with plain string work, so the
templates run once per digest, not once per subscriber.

A marker is a name between two private-use characters. :func:`.text.plain`
strips those from every source string, so a paper cannot forge a slot.
"""

from __future__ import annotations

import importlib.util
import re
import textwrap
from collections.abc import Mapping
from functools import cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:  # Jinja2 is imported when a template is first rendered (a 304 run renders none)
    from jinja2 import BaseLoader, Environment

_OPEN, _CLOSE = "\ue000", "\ue001"
_SLOT = re.compile(f"{_OPEN}slot:(\\w+){_CLOSE}")
_BLOCK = re.compile(f"{_OPEN}if:(\\w+){_CLOSE}(.*?){_OPEN}end:\\1{_CLOSE}", re.DOTALL)

# Plain-text readers wrap nothing themselves; 72 leaves room for "> " quoting
# inside RFC 5322's recommended 78 (§2.1.1).
TEXT_WIDTH = 72


def render(name: str, context: Mapping[str, Any], *, templates_dir: Path | None = None) -> str:
    """Render ``templates/<name>`` (or the operator's override) with ``context``; a missing
    variable is an error."""
    return mail_environment(templates_dir).get_template(name).render(context)


def shipped_folder() -> Path:
    """The shipped templates: ``digest.templates`` in a wheel or an editable install, else the
    checkout's top-level ``templates/`` (running from a source tree)."""
    spec = importlib.util.find_spec("digest.templates")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "templates"


def template_names(folder: Path) -> list[str]:
    """The template files under ``folder``, as loader names (``email/digest.txt.j2``)."""
    if not folder.is_dir():
        return []
    return sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*.j2") if path.is_file()
    )


def template_loader(templates_dir: Path | None) -> BaseLoader:
    """The operator's folder first, then the shipped templates; ``default:NAME`` is always the
    shipped one, so an override can ``{% extends "default:email/digest.html.j2" %}``."""
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

    shipped = FileSystemLoader(shipped_folder())
    loaders: list[BaseLoader] = [PrefixLoader({"default": shipped}, delimiter=":")]
    if templates_dir is not None:
        loaders.append(FileSystemLoader(templates_dir))
    loaders.append(shipped)
    return ChoiceLoader(loaders)


def personalise(body: str, values: Mapping[str, str], *, html: bool) -> str:
    """Keep or drop ``when``/``end`` blocks, then fill the slots (HTML-escaped for HTML).

    Every marker in ``body`` must name a key of ``values``: a typo in a template
    fails loudly here instead of sending a marker to a subscriber.
    """
    kept = keep_blocks(body, values)
    # escape() quotes " and ', so a value is safe inside an attribute too.
    return _SLOT.sub(lambda m: escape(values[m.group(1)]) if html else values[m.group(1)], kept)


def keep_blocks(body: str, values: Mapping[str, str]) -> str:
    """``body`` with each ``when``/``end`` block kept or dropped; the slots are left in."""
    return _BLOCK.sub(lambda m: m.group(2) if values[m.group(1)] else "", body)


def split_slots(body: str) -> list[str]:
    """``[text, name, text, name, …, text]``: a body split at its slots (see :mod:`.bulk`)."""
    return _SLOT.split(body)


def has_slots(text: str) -> bool:
    return _OPEN in text


@cache
def mail_environment(templates_dir: Path | None = None) -> Environment:
    from jinja2 import Environment, StrictUndefined, select_autoescape

    # Autoescape by extension: .html.j2 escaped, .txt.j2 not.
    environment = Environment(
        loader=template_loader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals.update(slot=_slot, when=_when, end=_end)
    environment.filters["fill"] = _fill
    return environment


def _slot(name: str) -> Markup:
    return Markup(f"{_OPEN}slot:{name}{_CLOSE}")


def _when(name: str) -> Markup:
    return Markup(f"{_OPEN}if:{name}{_CLOSE}")


def _end(name: str) -> Markup:
    return Markup(f"{_OPEN}end:{name}{_CLOSE}")


def _fill(text: str, lead: str = "", indent: int = 4) -> str:
    """Wrap for the text part; ``lead`` ("12.") hangs in the first line's indent."""
    first = lead.ljust(indent) if len(lead) < indent else f"{lead} "
    # No breaks inside words or at hyphens: a URL in an abstract stays one piece.
    return textwrap.fill(
        text,
        width=TEXT_WIDTH,
        initial_indent=first,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
