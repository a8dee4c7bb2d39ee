"""Draining the outbox: send every open delivery through a transport, recording each outcome as it happens.

A transport raises :class:`~digest.errors.TransientDeliveryError` (try again on
the next drain) or :class:`~digest.errors.PermanentDeliveryError` (give up on
this recipient, keep the relay's answer). Each outcome is committed before the
next message's final dot, so a crash mid-drain resends at most the one message in
flight and skips nobody.

The next message is composed while the relay works on the one in flight (a
transport with ``start_send``, :class:`~digest.deliver.transports.HandOver`,
returns once the message is written and reads the relay's answer when asked):
compose N+1, read N's answer, then send N+1, committing N's outcome before
N+1's final dot. When N was accepted, that commit runs while the relay reads
N+1's MAIL command (``start_send``'s ``meanwhile``); a relay takes a message
only at the final dot, so a crash meanwhile still resends at most N. Any
other outcome, or a stop request, is committed before N+1 is begun. So there
is never more than one message in flight, and a message composed but not
sent when the drain stops stays queued (what compose records for it,
``delivery_papers``, is replaced by what it shows when it is composed next time).

``compose`` may answer :class:`Skip` instead of bytes: too few papers for this
reader (``mail.min_papers``). The row becomes ``skipped`` — done, not a failure —
and its papers go into the reader's next mail (see ``skip_delivery``).

Four things stop a drain early, each leaving the rest queued for the next one:
a stop request (SIGINT/SIGTERM: the message in flight is finished and recorded
first), a ledger that cannot be written (disk full, a write lock held too long:
:class:`~digest.errors.LedgerError`, so at most the one message whose outcome
was lost goes out twice), a relay that timed out twice in a row (a hung
relay must not cost ``mail.smtp_timeout`` per reader), and a relay that refuses
the sender or the login (:class:`~digest.errors.SenderRefusedError`: every
message would be refused alike, and none of them is at fault).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import cast

from ..deliver.transports import HandOver, Transport
from ..errors import (
    DeliveryError,
    LedgerError,
    PermanentDeliveryError,
    RelayTimeoutError,
    SenderRefusedError,
    TransientDeliveryError,
)
from ..history.deliveries import Delivery, mark_delivery, open_deliveries, skip_delivery
from ..history.schema import database_path
from .stopping import Stop

log = logging.getLogger(__name__)

TIMEOUTS_IN_A_ROW = 2  # then the relay is given up on until the next drain
# Mails prepared at a time: few enough that preparing them takes about as long as the
# relay's work on the message in flight (a few ms), so it hides behind it.
PREPARE_AHEAD = 20


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
    stopped: str | None = None  # why the drain ended before the outbox was empty

    @property
    def ok(self) -> bool:
        return self.retry == 0 and self.failed == 0 and self.stopped is None

    def why(self) -> str | None:
        """One line for the operator: how many did not go out, and the relay's reason(s)."""
        if self.ok:
            return None
        counts = f"{self.retry} to retry, {self.failed} failed"
        more = f" (and {len(self.reasons) - 1} other reason(s))" if len(self.reasons) > 1 else ""
        reason = self.reasons[0] if self.reasons else self.stopped or "no reason given"
        stopped = f"; {self.stopped}" if self.stopped and self.reasons else ""
        return f"delivery: {counts}: {reason}{more}{stopped}"

    def as_json(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "retry": self.retry,
            "failed": self.failed,
            "skipped": self.skipped,
            "errors": list(self.errors),
            "reasons": list(self.reasons),
        }


@dataclass
class _Tally:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0
    timeouts: int = 0  # in a row
    sender_refused: str | None = None  # the relay's reason: every message would get it
    errors: list[str] = field(default_factory=list)
    reasons: dict[str, None] = field(default_factory=dict)

    def report(self, stopped: str | None) -> DrainReport:
        errors = [*self.errors, stopped] if stopped else self.errors
        return DrainReport(
            self.sent, self.retry, self.failed, tuple(errors), self.skipped,
            tuple(self.reasons), stopped,
        )  # fmt: skip


def drain(
    db: sqlite3.Connection,
    transport: Transport,
    compose: Callable[[Delivery], bytes | Skip],
    *,
    sender: str,
    clock: Callable[[], datetime],
    stop: Stop | None = None,
    prepare: Callable[[Sequence[Delivery]], None] | None = None,
) -> DrainReport:
    """Send every pending or retry delivery once; return the counts.

    ``prepare``, when given, is called with each next :data:`PREPARE_AHEAD` deliveries
    before the first of them is composed (the newsletter records what they show in
    one transaction there, not one per mail).

    Raises :class:`~digest.errors.LedgerError` when an outcome cannot be recorded
    (and ``prepare`` raises it when what the next mails show cannot be).
    """
    stop = stop or Stop()
    tally = _Tally()
    stopped: str | None = None
    flight: _Flight | None = None
    split = isinstance(transport, HandOver)  # once: a protocol check looks at every method
    try:
        for delivery in _ahead(open_deliveries(db), prepare, PREPARE_AHEAD):
            stopped = _why_stop(stop, tally)
            if stopped:
                break
            message = compose(delivery)  # while the relay works on the message in flight
            if flight is not None:
                landed, flight = flight, None
                error = _answer(landed)
                if error is None and split and not isinstance(message, Skip) and not stop.requested:
                    # Accepted: its outcome is committed while the relay reads this message's
                    # MAIL, before this message's final dot (``start_send``'s ``meanwhile``).
                    def commit(landed: _Flight = landed) -> None:
                        _account(db, landed.delivery, None, tally, clock())

                    flight = _hand_over(transport, split, message, sender, delivery, commit)
                    continue
                _account(db, landed.delivery, error, tally, clock())
                stopped = _why_stop(stop, tally)
                if stopped:
                    break  # ``message`` was not sent: its row stays queued
            if isinstance(message, Skip):
                _record(db, delivery, "skipped", clock(), message.reason)
                tally.skipped += 1
                log.info("deliver %s: skipped: %s", delivery.recipient, message.reason)
                continue
            flight = _hand_over(transport, split, message, sender, delivery)
    finally:
        try:
            if flight is not None:  # the last message, or compose raised
                landed, flight = flight, None
                _land(db, landed, tally, clock)
                stopped = stopped or _why_stop(stop, tally, stop_requested=False)
        finally:
            transport.close()
    # One line however many readers: per-recipient lines are INFO (-v).
    report = tally.report(stopped)
    if not report.ok:
        log.warning("%s", report.why())
    return report


def _ahead(
    deliveries: Iterator[Delivery],
    prepare: Callable[[Sequence[Delivery]], None] | None,
    size: int,
) -> Iterator[Delivery]:
    """``deliveries`` in turn, each next ``size`` of them handed to ``prepare`` first."""
    if prepare is None:
        yield from deliveries
        return
    while chunk := list(islice(deliveries, size)):
        prepare(chunk)
        yield from chunk


def _why_stop(stop: Stop, tally: _Tally, *, stop_requested: bool = True) -> str | None:
    """Why the drain ends before the next message, if it does."""
    if stop_requested and stop.requested:
        return "stopped by request; the rest stay queued for the next drain"
    if tally.sender_refused:
        return "the relay refuses the sender; the rest stay queued: `digest send` once it is fixed"
    if tally.timeouts >= TIMEOUTS_IN_A_ROW:
        return (
            f"the relay timed out {tally.timeouts} times in a row; "
            "the rest stay queued for the next drain"
        )
    return None


@dataclass(frozen=True)
class _Flight:
    """A message handed to the transport whose outcome is not recorded yet."""

    delivery: Delivery
    answer: Callable[[], str] | None  # reads the relay's answer; None: ``error`` is the outcome
    error: DeliveryError | None = None


def _hand_over(
    transport: Transport,
    split: bool,
    message: bytes,
    sender: str,
    delivery: Delivery,
    meanwhile: Callable[[], None] | None = None,
) -> _Flight:
    """Write the message out; its answer is read by :func:`_land` (plain transports: already).

    ``meanwhile`` (only with ``split``) runs before the message's final dot; what
    it raises (a :class:`LedgerError`) goes on, and the message is not sent.
    """
    try:
        if split:
            answer = cast(HandOver, transport).start_send(
                message, sender=sender, recipient=delivery.recipient,
                message_id=delivery.message_id, meanwhile=meanwhile,
            )  # fmt: skip
            return _Flight(delivery, answer)
        said = transport.send(
            message, sender=sender, recipient=delivery.recipient, message_id=delivery.message_id
        )
    except DeliveryError as error:
        return _Flight(delivery, None, error)
    return _Flight(delivery, lambda: said)


def _land(
    db: sqlite3.Connection, flight: _Flight, tally: _Tally, clock: Callable[[], datetime]
) -> None:
    """Read the relay's answer to the message in flight and commit its outcome."""
    _account(db, flight.delivery, _answer(flight), tally, clock())


def _answer(flight: _Flight) -> DeliveryError | None:
    """Read the relay's answer to the message in flight: its error, or None (accepted)."""
    if flight.answer is None:
        return flight.error
    try:
        said = flight.answer()
    except DeliveryError as raised:
        return raised
    log.debug("deliver %s: %s", flight.delivery.recipient, said)
    return None


def _account(
    db: sqlite3.Connection,
    delivery: Delivery,
    error: DeliveryError | None,
    tally: _Tally,
    now: datetime,
) -> None:
    """Record one outcome in the ledger, then count it."""
    if error is None:
        _record(db, delivery, "sent", now, None)
        tally.sent += 1
        tally.timeouts = 0
        return
    permanent = isinstance(error, PermanentDeliveryError)
    _record(db, delivery, "failed" if permanent else "retry", now, str(error))
    tally.errors.append(str(error))
    tally.reasons[error.reason] = None
    if permanent:
        tally.failed += 1
        tally.timeouts = 0
        log.info("deliver %s: failed: %s", delivery.recipient, error)
        return
    assert isinstance(error, TransientDeliveryError)
    tally.retry += 1
    tally.timeouts = tally.timeouts + 1 if isinstance(error, RelayTimeoutError) else 0
    if isinstance(error, SenderRefusedError):
        tally.sender_refused = error.reason
    log.info("deliver %s: will retry: %s", delivery.recipient, error)


def _record(
    db: sqlite3.Connection, delivery: Delivery, status: str, now: datetime, note: str | None
) -> None:
    try:
        if status == "skipped":
            skip_delivery(db, delivery.id, note or "", now)
        else:
            mark_delivery(db, delivery.id, status, now, note)
    except (sqlite3.Error, OSError) as error:
        handed = "the relay accepted it" if status == "sent" else f"its outcome was {status}"
        raise LedgerError(
            f"{delivery.recipient}: {handed}, but the outbox ledger in {database_path(db)} "
            f"could not record that ({error}); sending stopped, so at most this one message "
            "goes out again. Fix the cause (free disk space, stop the process holding the "
            "database), then `digest send` delivers the rest"
        ) from error
