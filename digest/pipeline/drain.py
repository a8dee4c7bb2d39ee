"""Draining the outbox: send every open delivery through a transport, recording each outcome as it happens.

A transport raises :class:`~digest.errors.TransientDeliveryError` (try again on
the next drain) or :class:`~digest.errors.PermanentDeliveryError` (give up on
this recipient, keep the relay's answer). Each outcome is committed before the
next message is sent, so a crash mid-drain resends nothing and skips nobody.

``compose`` may answer :class:`Skip` instead of bytes: too few papers for this
reader (``mail.min_papers``). The row becomes ``skipped`` — done, not a failure —
and its papers go into the reader's next mail (see ``skip_delivery``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..deliver.transports import Transport
from ..errors import PermanentDeliveryError, TransientDeliveryError
from ..history.deliveries import Delivery, mark_delivery, open_deliveries, skip_delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Skip:
    """What ``compose`` returns for a mail not worth sending; ``reason`` goes into the ledger."""

    reason: str


@dataclass(frozen=True)
class DrainReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    errors: tuple[str, ...] = ()
    skipped: int = 0
    reasons: tuple[str, ...] = ()  # each distinct reason once, in the order met

    @property
    def ok(self) -> bool:
        return self.retry == 0 and self.failed == 0

    def why(self) -> str | None:
        """One line for the operator: how many did not go out, and the relay's reason(s)."""
        if self.ok:
            return None
        counts = f"{self.retry} to retry, {self.failed} failed"
        more = f" (and {len(self.reasons) - 1} other reason(s))" if len(self.reasons) > 1 else ""
        return f"delivery: {counts}: {self.reasons[0] if self.reasons else 'no reason given'}{more}"

    def as_json(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "retry": self.retry,
            "failed": self.failed,
            "skipped": self.skipped,
            "errors": list(self.errors),
            "reasons": list(self.reasons),
        }


def drain(
    db: sqlite3.Connection,
    transport: Transport,
    compose: Callable[[Delivery], bytes | Skip],
    *,
    sender: str,
    clock: Callable[[], datetime],
) -> DrainReport:
    """Send every pending or retry delivery once; return the counts."""
    sent = retry = failed = skipped = 0
    errors: list[str] = []
    reasons: dict[str, None] = {}
    try:
        for delivery in open_deliveries(db):
            message = compose(delivery)
            if isinstance(message, Skip):
                skip_delivery(db, delivery.id, message.reason, clock())
                skipped += 1
                log.info("deliver %s: skipped: %s", delivery.recipient, message.reason)
                continue
            try:
                answer = transport.send(
                    message,
                    sender=sender,
                    recipient=delivery.recipient,
                    message_id=delivery.message_id,
                )
            except TransientDeliveryError as error:
                mark_delivery(db, delivery.id, "retry", clock(), str(error))
                retry += 1
                errors.append(str(error))
                reasons[error.reason] = None
                log.info("deliver %s: will retry: %s", delivery.recipient, error)
            except PermanentDeliveryError as error:
                mark_delivery(db, delivery.id, "failed", clock(), str(error))
                failed += 1
                errors.append(str(error))
                reasons[error.reason] = None
                log.info("deliver %s: failed: %s", delivery.recipient, error)
            else:
                mark_delivery(db, delivery.id, "sent", clock(), None)
                sent += 1
                log.debug("deliver %s: %s", delivery.recipient, answer)
    finally:
        transport.close()
    # One line however many readers: per-recipient lines are INFO (-v).
    report = DrainReport(sent, retry, failed, tuple(errors), skipped, tuple(reasons))
    if not report.ok:
        log.warning("%s", report.why())
    return report
