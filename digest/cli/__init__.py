"""The command line, one module per command group; :data:`main` is the ``digest`` entry point.

The command modules (run, readers, ops, serve, topics) are imported when one of
their commands runs, not here: see ``COMMAND_MODULES`` in :mod:`.group`.
"""

from __future__ import annotations

from .group import main

__all__ = ["main"]
