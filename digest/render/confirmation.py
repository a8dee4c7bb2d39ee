"""The sign-up mails: the double opt-in link, and the preferences link for a reader who signs up again.

Built like the newsletter (docs/standards.md): ``multipart/alternative`` with a
text part first and an HTML part last, From, To, Date and a unique Message-ID,
and ``Auto-Submitted`` so vacation replies stay quiet. It carries no
List-Unsubscribe: nobody is on the list until they click.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from ..config import Settings
from ..locations import templates_dir
from ..tokens import CONFIRM_MAX_AGE
from . import headers, templates
from .text import cap_line_octets, plain


@dataclass(frozen=True)
class Confirmation:
    address: str
    confirm_url: str
    topics: tuple[str, ...]  # topic titles; empty: everything
    frequency: str


def build_confirmation(
    settings: Settings, confirmation: Confirmation, *, now: datetime, domain: str
) -> EmailMessage:
    """The double opt-in mail, text and HTML from one context."""
    context = {
        "confirm_url": confirmation.confirm_url,
        "topics": list(confirmation.topics),
        "frequency": confirmation.frequency,
        "valid_days": CONFIRM_MAX_AGE // 86400,
    }
    subject = f"Confirm your subscription to {plain(settings.site.title)}"
    message_id = _message_id(confirmation.address, domain)
    return _one_off(
        settings, confirmation.address, subject, message_id, now, "email/confirm", context
    )


@dataclass(frozen=True)
class Reminder:
    """For an address that signed up again while already a reader: where to change things."""

    address: str
    preferences_url: str


def build_reminder(
    settings: Settings, reminder: Reminder, *, now: datetime, domain: str
) -> EmailMessage:
    """The mail a reader gets on signing up again: their signed preferences link, nothing else."""
    context = {"preferences_url": reminder.preferences_url}
    subject = f"You already get {plain(settings.site.title)}: your preferences link"
    message_id = _message_id(reminder.address, domain, kind="manage")
    return _one_off(settings, reminder.address, subject, message_id, now, "email/manage", context)


def _one_off(
    settings: Settings,
    address: str,
    subject: str,
    message_id: str,
    now: datetime,
    template: str,
    context: Mapping[str, object],
) -> EmailMessage:
    """A single mail to one address (not a list mail: no List-Unsubscribe), text and HTML."""
    message = EmailMessage()
    message["From"] = headers.config_header(settings.mail.from_address, "mail.from_address")
    message["To"] = headers.to_address(address, None)
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = message_id
    message["MIME-Version"] = "1.0"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834
    shared = {
        "site_title": plain(settings.site.title),
        "site_url": str(settings.site.base_url).rstrip("/") + "/",
        "address": address,
    }
    _attach(message, settings, template, {**shared, **context})
    return message


def _attach(
    message: EmailMessage, settings: Settings, template: str, context: Mapping[str, object]
) -> None:
    message.make_alternative()
    folder = templates_dir(settings)
    text = cap_line_octets(templates.render(f"{template}.txt.j2", context, templates_dir=folder))
    html = templates.render(f"{template}.html.j2", context, templates_dir=folder)
    for body, subtype in ((text, "plain"), (html, "html")):
        part = EmailMessage()
        part.set_content(body, subtype=subtype, charset="utf-8", cte="quoted-printable")
        del part["MIME-Version"]
        message.attach(part)


def _message_id(address: str, domain: str, *, kind: str = "confirm") -> str:
    # Unique per mail (a second sign-up gets a second mail); the address is hashed, not shown.
    hashed = hashlib.sha256(address.lower().encode()).hexdigest()[:12]
    return headers.checked_message_id(f"<{kind}-{hashed}.{secrets.token_hex(8)}@{domain}>")
