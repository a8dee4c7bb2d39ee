"""Choosing a transport from ``[mail] smtp_url``: ``maildir:PATH`` or an SMTP relay URL."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import ConfigError
from .maildir import MaildirTransport
from .outbox import Transport
from .smtp import SmtpTransport, parse_smtp_url


def open_transport(settings: Settings) -> Transport:
    url = settings.get("mail", "smtp_url")
    if url.startswith("maildir:"):
        path = Path(url.removeprefix("maildir:") or "outbox")
        return MaildirTransport(path if path.is_absolute() else settings.data_dir / path)
    if url.startswith(("smtp://", "smtps://")):
        smtp = parse_smtp_url(
            url,
            username=settings.get("mail", "smtp_user") or None,
            password=settings.get("mail", "smtp_password") or None,
            rate=settings.get("mail", "send_rate"),
            batch_size=settings.get("mail", "batch_size"),
        )
        return SmtpTransport(smtp)
    raise ConfigError(
        f"mail.smtp_url = {url!r}: use maildir:PATH, smtp://user:pass@host:587 or smtps://host:465"
    )
