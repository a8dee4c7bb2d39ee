"""The newsletter: who is due a mail this run, and the bytes each of them gets.

Queuing writes one ledger row per (digest range, reader) with a deterministic
Message-ID and moves the reader's cursor in the same transaction. Composing
renders each digest range once per set of topics (templates, CSS inlining) and
then only fills in each reader's own links. A reader's papers are what their
topics pick, ranked, in one section per topic (:func:`.topics.for_reader`); a
reader without topics gets every paper, ranked. With fewer papers than
``mail.min_papers`` the mail is not sent: compose answers :class:`Skip`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime
from email.message import EmailMessage

from ..config import Settings, TopicConfig
from ..history.deliveries import (
    Delivery,
    has_subscribers,
    queue_for_subscribers,
    queue_operator_copy,
)
from ..history.digests import digest_created, latest_digest_id, papers_between
from ..history.papers import pending_papers
from ..history.search import SearchIndex
from ..history.subscribers import (
    Subscriber,
    add_subscriber,
    find_subscriber,
    get_subscriber,
    list_subscribers,
    set_status,
)
from ..locations import urls
from ..model import Digest, StoredPaper
from ..render.bulk import BulkMessage
from ..render.mail import (
    Recipient,
    RenderedDigest,
    Section,
    build_message,
    message_id_for,
    render_digest,
)
from ..tokens import Tokens
from ..topics import Weights, best_first, explain, for_reader
from .drain import Skip
from .selection import topic_feed_url
from .site import envelope_sender, mail_domain, mail_meta, site_tokens

log = logging.getLogger(__name__)


class Newsletter:
    def __init__(self, settings: Settings, db: sqlite3.Connection, tokens: Tokens) -> None:
        self.settings = settings
        self.db = db
        self.tokens = tokens
        self.meta = mail_meta(settings)
        self.envelope_sender = envelope_sender(settings)
        self.domain = mail_domain(settings)
        self._rendered: dict[tuple[int, int, tuple[str, ...]], tuple[BulkMessage, int]] = {}
        self._days: dict[int, date] = {}

    def queue(self, digest: Digest | None, now: datetime) -> int:
        """Queue this run's mail: every due reader, or the operator when there are none yet."""
        self._sync_configured_recipients(now)
        if has_subscribers(self.db):
            return queue_for_subscribers(
                self.db, today=now.date(), now=now, message_id_for=self._message_id
            )
        if digest is None:
            return 0
        operator = self.settings.mail.operator
        message_id = self._message_id(digest.id, operator)
        return queue_operator_copy(self.db, digest.id, operator, message_id, now)

    def compose(self, delivery: Delivery) -> bytes | Skip:
        """The bytes for one ledger row, or :class:`Skip` when the reader has too few papers."""
        reader = get_subscriber(self.db, delivery.subscriber_id) if delivery.subscriber_id else None
        topics = self.topics_of(reader.topics if reader else (), who=delivery.recipient)
        bulk, count = self._render(delivery.from_digest_id, delivery.digest_id, topics)
        minimum = self.settings.mail.min_papers
        if count < minimum:
            return Skip(f"{count} paper(s) for this reader, fewer than mail.min_papers = {minimum}")
        # The digest was serialised once; this reader's bytes are a few substitutions
        # (decoded, the same as build_message(...).as_bytes(policy=SMTP): see render/bulk.py).
        recipient = self._recipient(delivery, reader, bulk.date)
        return bulk.bytes_for(recipient, message_id=delivery.message_id)

    def _message_id(self, digest_id: int, address: str) -> str:
        # Called once per reader while queuing: look the digest's day up once.
        if digest_id not in self._days:
            self._days[digest_id] = digest_created(self.db, digest_id).date()
        return message_id_for(digest_id, self._days[digest_id], address, self.domain)

    def _recipient(
        self, delivery: Delivery, subscriber: Subscriber | None, created: datetime
    ) -> Recipient:
        view_url = urls(self.settings).digest_page(created.date().isoformat())
        if subscriber is None:
            return Recipient(address=delivery.recipient, view_url=view_url)
        token = self.tokens.for_subscriber(subscriber.id)
        mailto = self.settings.mail.unsubscribe_mailto
        return Recipient(
            address=delivery.recipient,
            name=subscriber.name,
            unsubscribe_url=urls(self.settings).unsubscribe(token),
            unsubscribe_mailto=f"mailto:{mailto}?subject=unsubscribe%20{token}" if mailto else None,
            view_url=view_url,
        )

    def topics_of(self, slugs: Sequence[str], *, who: str) -> tuple[TopicConfig, ...]:
        """A reader's configured topics, in config order; none left means everything."""
        topics = tuple(topic for topic in self.settings.topics if topic.slug in slugs)
        gone = sorted(set(slugs) - {topic.slug for topic in topics})
        if gone:
            # A topic removed from digest.toml must not silence its readers.
            log.warning("%s: topic(s) %s no longer configured", who, ", ".join(gone))
        return topics

    def render_selection(
        self, papers: Sequence[StoredPaper], topics: Sequence[TopicConfig], digest: Digest
    ) -> tuple[RenderedDigest, int]:
        """Rank ``papers`` for a reader of ``topics`` and render them; also return how many."""
        index = SearchIndex(self.db)
        weights = Weights.from_settings(self.settings)
        sections = for_reader(papers, topics, index, weights, digest.created)
        picks = best_first(sections)
        titled = [
            Section(
                s.topic.title,
                tuple(p.paper.id for p in s.picks),
                topic_feed_url(self.settings, s.topic),
            )
            for s in sections
            if s.topic is not None
        ]
        rendered = render_digest(
            Digest(id=digest.id, created=digest.created, papers=tuple(p.paper for p in picks)),
            self.meta,
            day=digest.created.date(),
            # Only the papers the cap lets through are shown, so only they need a reason.
            reasons=explain(picks[: self.meta.max_papers], index),
            sections=titled if topics else None,
        )
        return rendered, len(picks)

    def _render(
        self, after: int, through: int, topics: tuple[TopicConfig, ...]
    ) -> tuple[BulkMessage, int]:
        """Render a digest range for a set of topics once, and serialise it once."""
        key = (after, through, tuple(topic.slug for topic in topics))
        if key not in self._rendered:
            created = digest_created(self.db, through)
            papers = papers_between(self.db, after, through)
            digest = Digest(id=through, created=created)
            rendered, count = self.render_selection(papers, topics, digest)
            self._rendered[key] = (BulkMessage(rendered, self.meta, date=created), count)
        return self._rendered[key]

    def _sync_configured_recipients(self, now: datetime) -> None:
        """``[mail] recipients`` are readers too (origin ``config``); dropping one unsubscribes it."""
        configured = {address.lower() for address in self.settings.mail.recipients}
        for address in self.settings.mail.recipients:
            add_subscriber(self.db, address, now=now, origin="config")
        for subscriber in list_subscribers(self.db):
            if subscriber.origin == "config" and subscriber.email.lower() not in configured:
                set_status(self.db, subscriber.id, "unsubscribed", now)


def preview_message(
    settings: Settings, db: sqlite3.Connection, address: str | None, *, now: datetime
) -> EmailMessage | None:
    """The mail the next run would send (to ``address``, or the operator), built read-only."""
    newsletter = Newsletter(settings, db, site_tokens(settings))
    reader = find_subscriber(db, address) if address else None
    papers: list[StoredPaper] = []
    if reader is not None:
        papers = papers_between(db, reader.cursor_digest_id, latest_digest_id(db))
    known = {paper.id for paper in papers}
    papers += [paper for paper in pending_papers(db) if paper.id not in known]
    if not papers:
        return None
    topics = newsletter.topics_of(reader.topics if reader else (), who=address or "operator")
    rendered, _ = newsletter.render_selection(papers, topics, Digest(id=0, created=now))
    recipient = Recipient(address=address or settings.mail.operator)
    message_id = message_id_for(0, now.date(), recipient.address, newsletter.domain)
    return build_message(rendered, recipient, newsletter.meta, message_id=message_id, date=now)
