"""digest: a self-hosted daily digest of research papers.

The folders are the pipeline's stages (docs/architecture.md): ``sources``
(fetch and parse listing pages into :class:`Paper` records) → ``history``
(SQLite; the diff that finds what is new) → ``topics`` (selection and ranking)
→ ``render`` (feeds, mail, pages) → ``deliver`` (files, Maildir, SMTP), driven
by ``pipeline`` and started from ``cli``, ``web`` and ``scheduler``.

What a library user may import is :data:`__all__` (documented in
docs/architecture.md, "Using digest as a library")::

    from digest import load_settings, open_runtime, run

    settings = load_settings(None, environ={})
    with open_runtime(settings) as runtime:
        result = run(settings, runtime)

The names load lazily, so ``import digest`` (and ``digest --version``) stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
USER_AGENT = f"digest/{__version__} (+https://github.com/digest-papers/digest)"

# name -> module that defines it
_PUBLIC = {
    "ConfigError": "digest.errors",
    "DigestError": "digest.errors",
    "Paper": "digest.model",
    "RunResult": "digest.pipeline.run",
    "Settings": "digest.config",
    "StoredPaper": "digest.model",
    "load_settings": "digest.config",
    "open_runtime": "digest.pipeline.runtime",
    "run": "digest.pipeline.run",
}

__all__ = [
    "USER_AGENT",
    "ConfigError",
    "DigestError",
    "Paper",
    "RunResult",
    "Settings",
    "StoredPaper",
    "__version__",
    "load_settings",
    "open_runtime",
    "run",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'digest' has no attribute {name!r}")
