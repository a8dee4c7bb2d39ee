"""The double opt-in mail: one message with a signed, expiring link, sent through the transport.

Built like the newsletter (STANDARDS.md): ``multipart/alternative`` with a text
part first and an HTML part last, From, To, Date and a unique Message-ID, and
``Auto-Submitted`` so vacation replies stay quiet. It carries no
List-Unsubscribe: nobody is on the list until they click.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from ..config import Settings
from ..deliver.transports import Transport
from ..errors import DeliveryError
from ..pipeline.site import envelope_sender, mail_domain
from ..render import headers, templates
from ..render.text import cap_line_octets, plain
from ..tokens import CONFIRM_MAX_AGE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Confirmation:
    address: str
    confirm_url: str
    topics: tuple[str, ...]  # topic titles; empty: everything
    frequency: str


def build_confirmation(
    settings: Settings, confirmation: Confirmation, *, now: datetime
) -> EmailMessage:
    site_title = plain(settings.site.title)
    context = {
        "site_title": site_title,
        "site_url": str(settings.site.base_url).rstrip("/") + "/",
        "address": confirmation.address,
        "confirm_url": confirmation.confirm_url,
        "topics": list(confirmation.topics),
        "frequency": confirmation.frequency,
        "valid_days": CONFIRM_MAX_AGE // 86400,
    }
    message = EmailMessage()
    message["From"] = headers.config_header(settings.mail.from_address, "mail.from_address")
    message["To"] = headers.to_address(confirmation.address, None)
    message["Subject"] = f"Confirm your subscription to {site_title}"
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = _message_id(confirmation.address, mail_domain(settings))
    message["MIME-Version"] = "1.0"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834
    message.make_alternative()
    text = cap_line_octets(templates.render("email/confirm.txt.j2", context))
    html = templates.render("email/confirm.html.j2", context)
    for body, subtype in ((text, "plain"), (html, "html")):
        part = EmailMessage()
        part.set_content(body, subtype=subtype, charset="utf-8", cte="quoted-printable")
        del part["MIME-Version"]
        message.attach(part)
    return message


def _message_id(address: str, domain: str) -> str:
    # Unique per mail (a second sign-up gets a second mail); the address is hashed, not shown.
    hashed = hashlib.sha256(address.lower().encode()).hexdigest()[:12]
    return headers.checked_message_id(f"<confirm-{hashed}.{secrets.token_hex(8)}@{domain}>")


def send_confirmation(
    settings: Settings, transport: Transport, confirmation: Confirmation, *, now: datetime
) -> bool:
    """Hand the mail to the transport; a failure is logged (the reader can ask again)."""
    message = build_confirmation(settings, confirmation, now=now)
    try:
        answer = transport.send(
            message.as_bytes(policy=email.policy.SMTP),
            sender=envelope_sender(settings),
            recipient=confirmation.address,
            message_id=str(message["Message-ID"]),
        )
    except DeliveryError as error:
        log.warning("confirmation mail to %s not sent: %s", confirmation.address, error)
        return False
    finally:
        transport.close()
    log.info("confirmation mail to %s: %s", confirmation.address, answer)
    return True
