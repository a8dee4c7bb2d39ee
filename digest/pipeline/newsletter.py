"""The newsletter's ledger side: who is due a mail this run, queued with its Message-ID.

Queuing writes one ledger row per (digest range, reader) with a deterministic
Message-ID and moves the reader's cursor in the same transaction. The bytes of
each mail are made by :mod:`.compose` when the drain asks for them, loaded on
the first: a run with nothing to send loads no renderer (docs/architecture.md,
"Start-up: what a command loads").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from ..config import Settings
from ..history.deliveries import (
    Delivery,
    has_subscribers,
    queue_for_subscribers,
    queue_operator_copy,
)
from ..history.digests import digest_created
from ..history.subscribers import add_subscriber, list_subscribers, set_status
from ..model import Digest
from ..render.headers import message_id_for
from .drain import Skip
from .site import envelope_sender, mail_domain

if TYPE_CHECKING:
    from ..tokens import Tokens
    from .compose import Composer


class Newsletter:
    """This run's mail: queued into the ledger, then composed row by row as the drain sends."""

    def __init__(
        self, settings: Settings, db: sqlite3.Connection, tokens: Tokens | None = None
    ) -> None:
        """``tokens`` signs the readers' links (None: the site's own, loaded for the first mail
        that needs one; an unreadable secret then fails the drain, and its rows stay queued)."""
        self.settings = settings
        self.db = db
        self.tokens = tokens
        self.envelope_sender = envelope_sender(settings)
        self.domain = mail_domain(settings)
        self._days: dict[int, date] = {}
        self._queued: dict[int, Digest] = {}  # this run's digest: its papers are loaded once
        self.carried: list[int] = []  # deliveries composed with follow-ups (for the run report)
        self._composer: Composer | None = None

    def queue(self, digest: Digest | None, now: datetime) -> int:
        """Queue this run's mail: every due reader, or the operator when there are none yet."""
        self._sync_configured_recipients(now)
        if digest is not None:
            self._queued[digest.id] = digest
        since = now - timedelta(days=self.settings.follow_ups.window_days)
        if has_subscribers(self.db):
            return queue_for_subscribers(
                self.db, today=now.date(), now=now, message_id_for=self._message_id,
                follow_since=since,
            )  # fmt: skip
        if digest is None:
            return 0
        operator = self.settings.mail.operator
        message_id = self._message_id(digest.id, operator)
        return queue_operator_copy(self.db, digest.id, operator, message_id, now, since)

    def compose(self, delivery: Delivery) -> bytes | Skip:
        """The bytes for one ledger row, or :class:`Skip` when the reader has too few papers."""
        return self._composing().compose(delivery)

    def prepare(self, deliveries: Sequence[Delivery]) -> None:
        """Work out the next few mails before the drain composes them (:meth:`.Composer.prepare`)."""
        self._composing().prepare(deliveries)

    def _composing(self) -> Composer:
        if self._composer is None:
            from .compose import Composer

            self._composer = Composer(
                self.settings, self.db, self.tokens, self._queued, self.carried
            )
        return self._composer

    def _message_id(self, digest_id: int, address: str) -> str:
        # Called once per reader while queuing: look the digest's day up once.
        if digest_id not in self._days:
            self._days[digest_id] = digest_created(self.db, digest_id).date()
        return message_id_for(digest_id, self._days[digest_id], address, self.domain)

    def _sync_configured_recipients(self, now: datetime) -> None:
        """``[mail] recipients`` are readers too (origin ``config``); dropping one unsubscribes it."""
        configured = {address.lower() for address in self.settings.mail.recipients}
        for address in self.settings.mail.recipients:
            add_subscriber(self.db, address, now=now, origin="config")
        # Only the config's own readers: a list of 100,000 is never loaded to find them.
        for subscriber in list_subscribers(self.db, origin="config"):
            if subscriber.email.lower() not in configured:
                set_status(self.db, subscriber.id, "unsubscribed", now)
