"""Mail header values that cannot inject headers or break on the wire.

The email package already refuses CR/LF in a header value; this module decides
what to do before it gets that far. Text from a source or a subscriber (the
subject, a display name) is flattened to one line. Settings (From, List-Id, the
unsubscribe targets) are refused with a :class:`~digest.errors.ConfigError`
that names the setting, and a recipient address that is not exactly one
addr-spec is a :class:`~digest.errors.PermanentDeliveryError` for that recipient.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import TYPE_CHECKING

from ..errors import ConfigError, PermanentDeliveryError
from .links import config_url
from .text import plain

if TYPE_CHECKING:  # the email package's policies load only where a message is built
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import Policy

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # CR or LF would start a new header
# RFC 5322 §3.6.4: msg-id is "<" dot-atom-text "@" dot-atom-text ">" (the domain
# literal form is not used); anything else would be refused or mangled downstream.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_MESSAGE_ID = re.compile(rf"<{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*>")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
# A comma would end the target in List-Unsubscribe's list (RFC 2369 §2).
_MAILTO_UNSAFE = re.compile(r"[\s<>,\"\\]")


def to_address(address: str, name: str | None) -> Address:
    """The ``To`` value; the policy quotes or RFC 2047-encodes the display name."""
    from email.headerregistry import Address

    # Address() refuses CR/LF and anything past one addr-spec ("a@x, b@y").
    try:
        return Address(display_name=plain(name), addr_spec=address)
    except (ValueError, IndexError) as error:
        raise PermanentDeliveryError(
            f"not a single valid mail address ({error})", recipient=repr(address)
        ) from error


def add_list_unsubscribe(message: EmailMessage, url: str | None, mailto: str | None) -> None:
    """List-Unsubscribe (RFC 2369 §3.2), and RFC 8058 one-click when ``url`` is https."""
    for name, value in list_unsubscribe_fields(url, mailto):
        message[name] = value


def list_unsubscribe_fields(url: str | None, mailto: str | None) -> list[tuple[str, str]]:
    """The List-Unsubscribe header fields for these targets, as (name, value) pairs."""
    targets = tuple(f"<{target}>" for target in (url, mailto) if target)
    if not targets:
        return []
    fields: list[tuple[str, str]] = [("List-Unsubscribe", _PreFolded("List-Unsubscribe", targets))]
    if url and url.lower().startswith("https:"):
        # RFC 8058 §3.1: one-click is defined for an HTTPS URI only.
        fields.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return fields


def unsubscribe_url(url: str | None) -> str | None:
    """The https unsubscribe link the sender computed, checked like any URL we emit."""
    return None if url is None else config_url(url, "Recipient.unsubscribe_url")


def unsubscribe_mailto(target: str | None) -> str | None:
    """``mailto:unsub+TOKEN@host``; a bare address gets the scheme added."""
    if not target:
        return None
    target = target.strip()
    target = target if target.lower().startswith("mailto:") else f"mailto:{target}"
    if _MAILTO_UNSAFE.search(target) or "@" not in target:
        raise ConfigError(f"{target!r} is not a mailto: address", where="unsubscribe_mailto")
    return target


def checked_message_id(message_id: str) -> str:
    """A Message-ID must be ``<left@right>`` (RFC 5322 §3.6.4) with no spaces."""
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"{message_id!r} is not a Message-ID of the form <left@right>")
    return message_id


def message_id_for(digest_id: int, day: date, address: str, domain: str) -> str:
    """``<digest-YYYYMMDD-ID.HASH@domain>``: unique per recipient, the same on a re-send.

    Gmail refuses mail without a Message-ID (docs/readers.md §8); a stable one
    lets a resumed send be recognised (docs/readers.md §13). The address is
    hashed, not shown, and lower-cased so a re-typed address keeps its id.
    """
    if not _DOMAIN.fullmatch(domain):
        raise ConfigError(f"{domain!r} is not a domain name", where="MailMeta.message_domain")
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]
    return f"<digest-{day:%Y%m%d}-{digest_id}.{digest}@{domain}>"


def config_header(value: str, key: str) -> str:
    """A header value from the settings: one line of printable text, or a ConfigError."""
    if _CONTROL.search(value):
        raise ConfigError(f"{value!r} must be one line of printable text", where=key)
    return value.strip()


class _PreFolded(str):
    """A header written exactly as given, one target per line.

    CPython (seen on 3.11) folds an ASCII token longer than a line into RFC 2047
    encoded-words, which no client decodes inside ``<...>``: a long unsubscribe
    URL would break. ``EmailPolicy`` stores and emits an object that has
    ``name`` and ``fold`` as it is.
    """

    name: str
    targets: tuple[str, ...]

    def __new__(cls, name: str, targets: tuple[str, ...]) -> _PreFolded:
        header = super().__new__(cls, ", ".join(targets))
        header.name, header.targets = name, targets
        return header

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: " + f",{policy.linesep} ".join(self.targets) + policy.linesep
