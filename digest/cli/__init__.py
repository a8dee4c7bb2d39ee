"""The command line, one module per command group; :data:`main` is the ``digest`` entry point."""

from __future__ import annotations

from . import channels, ops, readers, run, serve, topics
from .group import main

__all__ = ["channels", "main", "ops", "readers", "run", "serve", "topics"]
