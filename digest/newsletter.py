"""The newsletter of a digest: who gets it, and the bytes each recipient gets.

Queuing writes one ledger row per (digest, recipient) with a deterministic
Message-ID. Composing renders a digest once (templates and CSS inlining) and
then only fills in each recipient's part.
"""

from __future__ import annotations

import email.policy
from datetime import date, datetime

import sqlite_utils

from .config import Settings
from .history.deliveries import Delivery, queue_deliveries
from .history.digests import load_digest
from .model import Digest
from .render.mail import Recipient, RenderedDigest, build_message, message_id_for, render_digest
from .site import envelope_sender, mail_domain, mail_meta


class Newsletter:
    def __init__(self, settings: Settings, db: sqlite_utils.Database) -> None:
        self.settings = settings
        self.db = db
        self.meta = mail_meta(settings)
        self.envelope_sender = envelope_sender(settings)
        self._rendered: dict[int, tuple[Digest, RenderedDigest]] = {}

    def recipients(self) -> list[str]:
        """The configured list; with none, the operator, so a fresh install shows the mail."""
        listed = list(self.settings.get("mail", "recipients"))
        return listed or [self.settings.get("mail", "operator")]

    def queue(self, digest: Digest, now: datetime) -> int:
        day = digest.created.date()
        domain = mail_domain(self.settings)
        pairs = [
            (address, message_id_for(digest.id, day, address, domain))
            for address in self.recipients()
        ]
        return queue_deliveries(self.db, digest.id, pairs, now)

    def compose(self, delivery: Delivery) -> bytes:
        digest, rendered = self._render(delivery.digest_id)
        message = build_message(
            rendered,
            Recipient(address=delivery.recipient),
            self.meta,
            message_id=delivery.message_id,
            date=digest.created,
        )
        return message.as_bytes(policy=email.policy.SMTP)

    def _render(self, digest_id: int) -> tuple[Digest, RenderedDigest]:
        if digest_id not in self._rendered:
            digest = load_digest(self.db, digest_id)
            day: date = digest.created.date()
            self._rendered[digest_id] = (digest, render_digest(digest, self.meta, day=day))
        return self._rendered[digest_id]
