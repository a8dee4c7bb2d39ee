"""Sources: fetch listing pages and parse them into :class:`~digest.model.Paper` records.

Every parser is a pure function ``parse(payload: bytes, url: str) -> Page``: no
clock, network or database. It raises :class:`~digest.errors.ParseError` (or
``LayoutError``) when the payload is not a page of its kind, and returns a
``Page`` with ``empty_reason`` set when the page says plainly there is nothing.
Which parser reads a payload is decided in :mod:`digest.sources.detect` from the
URL path and the content, never from the host. Every parser ends with
:func:`digest.sources.readable.readable_paper`: TeX made readable, the source's
own text kept beside it (docs/text.md).
"""
