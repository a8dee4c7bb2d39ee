"""Render: stored papers in, Atom bytes and newsletter messages out.

This stage sits between history (which decides *what* is new) and deliver
(which hands bytes to a Maildir or a relay). Every function here is pure: plain
data in, bytes or an :class:`email.message.EmailMessage` out, with no clock,
network or database inside, so the same input always renders the same output
and golden-file tests can compare bytes.

- :mod:`.links` turns untrusted source URLs into links we are willing to emit.
- :mod:`.text` makes untrusted source text safe and readable as plain text.
- :mod:`.feed` writes the Atom feed (the only module that imports feedgen).
- :mod:`.mail` renders a digest once, then builds one message per recipient;
  :mod:`.templates` holds its Jinja2 environment and per-recipient slots, and
  :mod:`.headers` keeps every header value on one safe line.

Everything a source said about a paper is untrusted: it is escaped by the
serialiser that emits it (lxml for Atom, Jinja2 autoescape for HTML) and links
pass :func:`.links.safe_http_url` first.
"""
