"""Sending the sign-up mails (built by :mod:`digest.render.confirmation`) through the transport."""

from __future__ import annotations

import email.policy
import logging
from datetime import datetime
from email.message import EmailMessage

from ..config import Settings
from ..deliver.transports import Transport
from ..errors import DeliveryError
from ..pipeline.site import envelope_sender, mail_domain
from ..render.confirmation import Confirmation, Reminder, build_confirmation, build_reminder

log = logging.getLogger(__name__)


def send_confirmation(
    settings: Settings, transport: Transport, confirmation: Confirmation, *, now: datetime
) -> bool:
    """Hand the mail to the transport; a failure is logged (the reader can ask again)."""
    message = build_confirmation(settings, confirmation, now=now, domain=mail_domain(settings))
    return _send(settings, transport, message, confirmation.address, "confirmation")


def send_reminder(
    settings: Settings, transport: Transport, reminder: Reminder, *, now: datetime
) -> bool:
    """Mail a reader their preferences link; a failure is logged (they can ask again)."""
    message = build_reminder(settings, reminder, now=now, domain=mail_domain(settings))
    return _send(settings, transport, message, reminder.address, "preferences")


def _send(
    settings: Settings, transport: Transport, message: EmailMessage, recipient: str, kind: str
) -> bool:
    try:
        answer = transport.send(
            message.as_bytes(policy=email.policy.SMTP),
            sender=envelope_sender(settings),
            recipient=recipient,
            message_id=str(message["Message-ID"]),
        )
    except DeliveryError as error:
        log.warning("%s mail to %s not sent: %s", kind, recipient, error)
        return False
    finally:
        transport.close()
    log.info("%s mail to %s: %s", kind, recipient, answer)
    return True
