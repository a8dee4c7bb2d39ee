"""Sending the double opt-in mail (built by :mod:`digest.render.confirmation`) through the transport."""

from __future__ import annotations

import email.policy
import logging
from datetime import datetime

from ..config import Settings
from ..deliver.transports import Transport
from ..errors import DeliveryError
from ..pipeline.site import envelope_sender, mail_domain
from ..render.confirmation import Confirmation, build_confirmation

log = logging.getLogger(__name__)


def send_confirmation(
    settings: Settings, transport: Transport, confirmation: Confirmation, *, now: datetime
) -> bool:
    """Hand the mail to the transport; a failure is logged (the reader can ask again)."""
    message = build_confirmation(settings, confirmation, now=now, domain=mail_domain(settings))
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
