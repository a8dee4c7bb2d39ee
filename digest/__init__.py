"""digest: a self-hosted daily digest of research papers.

The package layout is the data flow: ``sources`` (fetch and parse listing
pages into :class:`~digest.model.Paper` records) → ``history`` (SQLite; the diff
that finds what is new) → ``render`` (Atom feed, newsletter) → ``deliver``
(Maildir or SMTP). ``pipeline.run`` calls them in that order.
"""

__version__ = "0.1.0"
USER_AGENT = f"digest/{__version__} (+https://github.com/digest-papers/digest)"
