"""One digest's message serialized once; each recipient's bytes are a few substitutions.

:func:`.mail.build_message` builds a MIME tree per recipient and the email
package encodes ~90 KB of quoted-printable for it: milliseconds each, more
than the relay needs to take the message. :class:`BulkMessage` does the MIME
work once per digest (and per *shape*: which of the recipient's optional
values exist, since ``when``/``end`` blocks depend on that) and keeps each
body as encoded static pieces with the slots between them. Per recipient it
encodes only the slot values and the headers that name them (To, Message-ID,
List-Unsubscribe, the boundary), through the same header code and policy as
``build_message``.

Quoted-printable wraps by position, so a value cannot simply be pasted into
encoded text. Every static piece and every value is encoded as if it started
a line, and ends with a soft line break (``=`` CRLF), which decodes to
nothing: the decoded parts are exactly ``build_message``'s, only the places
where wire lines break differ (and a link is never split in the middle). All
lines stay within 76 octets. A text line that would pass 998 octets once
filled (only a pathological name could do that) takes ``build_message``'s
path, which splits it.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import quoprimime
from email.headerregistry import Address
from email.utils import format_datetime
from html import escape

from . import headers, templates
from .mail import MailMeta, Recipient, RenderedDigest, _slot_values, build_message
from .text import cap_line_octets, plain

__all__ = ["BulkMessage"]

_POLICY = email.policy.default  # what EmailMessage() stores headers with
_WIRE = email.policy.SMTP  # what the newsletter serialises with
_QP_WIDTH = 75  # + the soft break's "=": at most 76 octets a line (RFC 2045 §6.7)
_SOFT_BREAK = b"=\r\n"
_BOUNDARY_PREFIX = "=_digest_"
_DUMMY_BOUNDARY = _BOUNDARY_PREFIX + "Z" * 24  # same length as the real ones; never in QP text
_MAX_LINE = 998


def _fold(name: str, value: object) -> bytes:
    """A header exactly as ``message[name] = value`` then ``as_bytes(policy=SMTP)`` writes it."""
    stored = _POLICY.header_store_parse(name, value)[1]
    return _WIRE.fold_binary(name, stored)


# The email package's header code costs ~0.1 ms a field, as much as the rest of a
# reader's message. For the common To and Message-ID it writes the value as given:
# plain ASCII words and a plain address, on one line. Those are written directly;
# anything else (quoting, encoded words, folding) takes _fold (the test suite checks
# that both give the same bytes).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PLAIN_MESSAGE_ID = re.compile(r"<[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+>")
_LINE = 78  # the SMTP policy's max_line_length


def fold_to(address: Address) -> bytes:
    """``To:`` for ``address``, as :func:`_fold` writes it."""
    name, spec = address.display_name, address.addr_spec
    line = f"To: {name} <{spec}>" if name else f"To: {spec}"
    plain_name = not name or _PLAIN_NAME.fullmatch(name)
    if plain_name and _PLAIN_ADDRESS.fullmatch(spec) and len(line) <= _LINE:
        return line.encode("ascii") + b"\r\n"
    return _fold("To", address)


def fold_message_id(message_id: str) -> bytes:
    """``Message-ID:`` as :func:`_fold` writes it."""
    line = f"Message-ID: {message_id}"
    if _PLAIN_MESSAGE_ID.fullmatch(message_id) and len(line) <= _LINE:
        return line.encode("ascii") + b"\r\n"
    return _fold("Message-ID", message_id)


def _qp(text: str) -> bytes:
    """``text`` quoted-printable as if it began a line, CRLF line ends, no final soft break."""
    encoded = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), _QP_WIDTH)
    return encoded.replace("\n", "\r\n").encode("ascii")


def _piece(text: str) -> bytes:
    """An encoded piece that the next one may follow on the same decoded line."""
    if not text:
        return b""
    encoded = _qp(text)
    return encoded if text.endswith("\n") else encoded + _SOFT_BREAK


@dataclass(frozen=True)
class _Body:
    """One part for one shape: ``pieces`` alternate encoded static bytes and slot names."""

    pieces: tuple[bytes | str, ...]
    html: bool
    long_lines: tuple[tuple[int, tuple[str, ...]], ...]  # text lines with slots: octets, names

    def fits(self, values: Mapping[str, str]) -> bool:
        """No filled text line passes 998 octets (else build_message must split it)."""
        return all(
            octets + sum(len(values[name].encode()) for name in names) <= _MAX_LINE
            for octets, names in self.long_lines
        )

    def encode(self, values: Mapping[str, str]) -> bytes:
        out = []
        for piece in self.pieces:
            if isinstance(piece, bytes):
                out.append(piece)
            else:
                value = escape(values[piece]) if self.html else values[piece]
                out.append(_piece(value))
        return b"".join(out)


def _compile(body: str, values: Mapping[str, str], *, html: bool) -> _Body:
    template = templates.keep_blocks(body, values)
    long_lines: list[tuple[int, tuple[str, ...]]] = []
    if not html:  # build_message caps the text part's lines after filling them
        lines = []
        for line in template.split("\n"):
            if templates.has_slots(line):
                parts = templates.split_slots(line)
                static = "".join(parts[0::2])
                long_lines.append((len(static.encode()), tuple(parts[1::2])))
                lines.append(line)
            else:
                lines.append(cap_line_octets(line))
        template = "\n".join(lines)
    # What set_content does to any text: one "\n" per line break, one at the end.
    template = (b"\n".join(template.encode().splitlines()) + b"\n").decode()
    parts = templates.split_slots(template)
    last = len(parts) - 1
    pieces = tuple(
        part if n % 2 else (_qp(part) if n == last else _piece(part))
        for n, part in enumerate(parts)
    )
    return _Body(pieces, html, tuple(long_lines))


class BulkMessage:
    """``rendered`` for every recipient; :meth:`bytes_for` gives one recipient's message."""

    def __init__(self, rendered: RenderedDigest, meta: MailMeta, *, date: datetime) -> None:
        self.rendered = rendered
        self.meta = meta
        self.date = date
        moment = date if date.tzinfo else date.replace(tzinfo=UTC)
        self._from = _fold(
            "From", headers.config_header(meta.from_address, "MailMeta.from_address")
        )
        self._subject_date = _fold("Subject", plain(rendered.subject)) + _fold(
            "Date", format_datetime(moment)
        )
        list_id = headers.config_header(meta.list_id, "MailMeta.list_id")
        self._mime_list = _fold("MIME-Version", "1.0") + _fold("List-Id", f"<{list_id}>")
        self._tail = _fold("Auto-Submitted", "auto-generated") + _fold(
            "Content-Type", f'multipart/alternative; boundary="{_DUMMY_BOUNDARY}"'
        )
        self._shapes: dict[frozenset[str], tuple[_Body, _Body]] = {}

    def bytes_for(self, recipient: Recipient, *, message_id: str) -> bytes:
        """What ``build_message(…).as_bytes(policy=SMTP)`` sends, decoded alike."""
        url = headers.unsubscribe_url(recipient.unsubscribe_url)
        mailto = headers.unsubscribe_mailto(recipient.unsubscribe_mailto)
        values = _slot_values(recipient, self.meta, self.rendered, unsubscribe=url or mailto or "")
        text, html = self._bodies(values)
        if not text.fits(values):
            message = build_message(
                self.rendered, recipient, self.meta, message_id=message_id, date=self.date
            )
            return message.as_bytes(policy=_WIRE)
        boundary = (
            _BOUNDARY_PREFIX + hashlib.sha256(message_id.encode()).hexdigest()[:24]
        ).encode()
        head = b"".join(
            (
                self._from,
                fold_to(headers.to_address(recipient.address, recipient.name)),
                self._subject_date,
                fold_message_id(headers.checked_message_id(message_id)),
                self._mime_list,
                _list_unsubscribe(url, mailto),
                self._tail.replace(_DUMMY_BOUNDARY.encode(), boundary),
            )
        )
        delimiter = b"\r\n--" + boundary + b"\r\n"
        return b"".join(
            (
                head, b"\r\n", delimiter[2:], _PART_HEADERS["plain"], text.encode(values),
                delimiter, _PART_HEADERS["html"], html.encode(values),
                b"\r\n--", boundary, b"--\r\n",
            )
        )  # fmt: skip

    def _bodies(self, values: Mapping[str, str]) -> tuple[_Body, _Body]:
        shape = frozenset(name for name, value in values.items() if value)
        if shape not in self._shapes:
            self._shapes[shape] = (
                _compile(self.rendered.text, values, html=False),
                _compile(self.rendered.html, values, html=True),
            )
        return self._shapes[shape]


def _list_unsubscribe(url: str | None, mailto: str | None) -> bytes:
    return b"".join(
        _fold(name, value) for name, value in headers.list_unsubscribe_fields(url, mailto)
    )


_PART_HEADERS = {
    subtype: _fold("Content-Type", f'text/{subtype}; charset="utf-8"')
    + _fold("Content-Transfer-Encoding", "quoted-printable")
    + b"\r\n"
    for subtype in ("plain", "html")
}
