"""What a mail transport is, and choosing one from ``[mail] smtp_url``: ``maildir:PATH`` or an SMTP relay URL.

A transport's ``send`` raises :class:`~digest.errors.TransientDeliveryError`
(try again on the next drain) or :class:`~digest.errors.PermanentDeliveryError`
(give up on this recipient, keep the relay's answer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..config import Settings
from ..errors import ConfigError
from ..locations import data_files
from .maildir import MaildirTransport


class Transport(Protocol):
    def send(self, message: bytes, *, sender: str, recipient: str, message_id: str) -> str: ...

    def close(self) -> None: ...


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
