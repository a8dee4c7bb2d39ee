"""What a mail transport is, and choosing one from ``[mail] smtp_url``: ``maildir:PATH`` or an SMTP relay URL.

A transport's ``send`` raises :class:`~digest.errors.TransientDeliveryError`
(try again on the next drain) or :class:`~digest.errors.PermanentDeliveryError`
(give up on this recipient, keep the relay's answer).

A transport may also offer ``start_send`` (:class:`HandOver`): it hands the
whole message to the relay and returns what reads the relay's answer later,
so the drain can compose the next message while the relay works on this one.
The drain uses it when a transport has it and plain ``send`` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..config import Settings
from ..errors import ConfigError
from ..locations import data_files
from .maildir import MaildirTransport


class Transport(Protocol):
    def send(self, message: bytes, *, sender: str, recipient: str, message_id: str) -> str: ...

    def close(self) -> None: ...


@runtime_checkable
class HandOver(Transport, Protocol):
    """A transport whose send comes in two halves: the message out, then the relay's answer.

    ``start_send`` raises what ``send`` raises for anything the relay refuses before
    it has the whole message; the callable it returns raises it for the answer to
    the message itself. It must be called, once, before the next ``start_send``.
    ``meanwhile`` runs exactly once during ``start_send``, before the message's
    final dot (the drain commits the previous outcome in it, while the relay
    reads this message's envelope); when it raises, the relay is not given the
    message and the error goes on.
    """

    def start_send(
        self,
        message: bytes,
        *,
        sender: str,
        recipient: str,
        message_id: str,
        meanwhile: Callable[[], None] | None = None,
    ) -> Callable[[], str]: ...


def open_transport(settings: Settings) -> Transport:
    url = settings.mail.smtp_url
    if url.startswith("maildir:"):
        path = Path(url.removeprefix("maildir:") or "outbox")
        return MaildirTransport(data_files(settings).under(path))
    if url.startswith(("smtp://", "smtps://")):
        from .smtp import SmtpTransport, parse_smtp_url  # smtplib and ssl only for a relay

        smtp = parse_smtp_url(
            url,
            username=settings.mail.smtp_user or None,
            password=settings.mail.smtp_password or None,
            rate=settings.mail.send_rate,
            batch_size=settings.mail.batch_size,
            timeout=settings.mail.smtp_timeout,
        )
        return SmtpTransport(smtp)
    raise ConfigError(
        f"mail.smtp_url = {url!r}: use maildir:PATH, smtp://user:pass@host:587 or smtps://host:465"
    )
