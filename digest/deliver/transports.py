"""Choosing a transport from ``[mail] smtp_url``: ``maildir:PATH`` or an SMTP relay URL."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .maildir import MaildirTransport
from .outbox import Transport


def open_transport(url: str, *, data_dir: Path) -> Transport:
    if url.startswith("maildir:"):
        path = Path(url.removeprefix("maildir:") or "outbox")
        return MaildirTransport(path if path.is_absolute() else data_dir / path)
    if url.startswith(("smtp://", "smtps://")):
        from .smtp import SmtpTransport  # noqa: PLC0415 - only SMTP users pay for it

        return SmtpTransport.from_url(url)
    raise ConfigError(
        f"mail.smtp_url = {url!r}: use maildir:PATH, smtp://user:pass@host:587 or smtps://host:465"
    )
