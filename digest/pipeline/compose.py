"""A mail's bytes: a reader's papers ranked, the digest rendered once per shape, then filled in.

Composing renders each digest range once per set of topics (templates, CSS
inlining) and then only fills in each reader's own links. A reader's papers are
what their topics pick, ranked, in one section per topic
(:func:`.topics.for_reader`); a reader without topics gets every paper,
ranked. With fewer papers than ``mail.min_papers`` the mail is not sent:
compose answers :class:`Skip`. The reader's browser copy (:func:`reader_copy`)
ranks alike, so page and mail cannot disagree.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..config import Settings, TopicConfig
from ..errors import LedgerError
from ..history.deliveries import Delivery
from ..history.digests import digest_created, papers_between
from ..history.follow_ups import delivery_events, record_received
from ..history.schema import database_path, transaction
from ..history.search import SearchIndex
from ..history.subscribers import Subscriber, get_subscriber
from ..locations import urls
from ..model import Digest, FollowUp, StoredPaper
from ..render.follow_ups import UpdateLine
from ..render.mail import Recipient, RenderedDigest, Section, render_digest
from ..tokens import Tokens
from ..topics import Weights, best_first, explain, for_reader
from .drain import Skip
from .reader_feeds import feed_urls
from .selection import topic_feed_url
from .site import mail_meta, site_tokens
from .updates import update_lines

if TYPE_CHECKING:  # loaded when the first mail is composed: a preview never needs it
    from ..render.bulk import BulkMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Plan:
    """One mail worked out but for its bytes (:meth:`Composer.prepare`)."""

    reader: Subscriber | None
    bulk: BulkMessage
    shown: list[int]
    events: bool  # it carries follow-ups


class Composer:
    """Makes each ledger row's bytes.

    ``tokens`` signs the readers' links (None: the site's own, loaded when a reader's
    mail first needs one; a preview never does). ``queued`` (this run's digests, their
    papers already loaded) and ``carried`` (the deliveries composed with follow-ups,
    which this appends to) are the :class:`~.newsletter.Newsletter`'s own objects,
    shared: neither side rebinds them.
    """

    def __init__(
        self,
        settings: Settings,
        db: sqlite3.Connection,
        tokens: Tokens | None = None,
        queued: dict[int, Digest] | None = None,
        carried: list[int] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self._tokens = tokens
        self.meta = mail_meta(settings)
        self._rendered: dict[
            tuple[int, int, tuple[str, ...], tuple[int, ...]], tuple[BulkMessage, int, list[int]]
        ] = {}
        self._queued = {} if queued is None else queued
        self.carried = [] if carried is None else carried  # deliveries composed with follow-ups
        self._prepared: dict[int, _Plan | Skip] = {}  # by delivery id (see prepare)

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            self._tokens = site_tokens(self.settings)
        return self._tokens

    def compose(self, delivery: Delivery) -> bytes | Skip:
        """The bytes for one ledger row, or :class:`Skip` when the reader has too few papers."""
        if delivery.id not in self._prepared:
            self.prepare([delivery])  # a drain without ``prepare``, or a row it did not hand on
        plan = self._prepared.pop(delivery.id)
        if isinstance(plan, Skip):
            return plan
        if plan.events:
            self.carried.append(delivery.id)
        # The digest was serialised once; this reader's bytes are a few substitutions
        # (decoded, the same as build_message(...).as_bytes(policy=SMTP): see render/bulk.py).
        recipient = self._recipient(delivery, plan.reader, plan.bulk.date)
        return plan.bulk.bytes_for(recipient, message_id=delivery.message_id)

    def prepare(self, deliveries: Sequence[Delivery]) -> None:
        """Work out the next few mails before their turn: what :meth:`compose` reads and records.

        What each mail shows (``delivery_papers``) is written for all of them in one
        transaction. In 32 KiB pages a commit per mail rewrote the same index pages
        for every reader (~1.5 ms a mail, more than composing it). A mail prepared
        but not sent (the drain stopped) has its rows written as a mail composed but
        not sent does; they count only once it is ``sent``.
        """
        plans = {delivery.id: self._plan(delivery) for delivery in deliveries}
        try:
            with transaction(self.db):
                for delivery_id, plan in plans.items():
                    if isinstance(plan, _Plan):
                        # What this mail shows: once it is sent, later follow-ups on these
                        # reach this reader.
                        record_received(self.db, delivery_id, plan.shown)
        except (sqlite3.Error, OSError) as error:
            raise LedgerError(
                f"the outbox ledger in {database_path(self.db)} could not record what the "
                f"next {len(plans)} mail(s) show ({error}); they were not sent and stay "
                "queued. Fix the cause (free disk space, stop the process holding the "
                "database), then `digest send` delivers them"
            ) from error
        self._prepared.update(plans)

    def _plan(self, delivery: Delivery) -> _Plan | Skip:
        """Everything about one mail but its bytes: the reader, the rendering, what it shows."""
        reader = get_subscriber(self.db, delivery.subscriber_id) if delivery.subscriber_id else None
        if reader is not None and reader.status == "unsubscribed":
            # Queued before they left (a relay down since, a retry): nothing more goes to them.
            return Skip("the reader unsubscribed after this mail was queued")
        choice = self.topics_of(reader.topics if reader else (), who=delivery.recipient)
        if choice is None:
            return Skip(self.orphan_reason(reader.topics if reader else ()))
        topics = choice
        events = delivery_events(self.db, delivery.id)
        bulk, count, shown = self._render(
            delivery.from_digest_id, delivery.digest_id, topics, events
        )
        minimum = self.settings.mail.min_papers
        alone = bool(events) and self.settings.follow_ups.send_alone
        if count < minimum and not alone:
            return Skip(f"{count} paper(s) for this reader, fewer than mail.min_papers = {minimum}")
        if count == 0 and events and not alone:
            return Skip("only updates for this reader, and follow_ups.send_alone is false")
        return _Plan(reader, bulk, shown, bool(events))

    def _recipient(
        self, delivery: Delivery, subscriber: Subscriber | None, created: datetime
    ) -> Recipient:
        view_url = urls(self.settings).digest_page(created.date().isoformat())
        if subscriber is None:
            return Recipient(address=delivery.recipient, view_url=view_url)
        token = self.tokens.for_subscriber(subscriber.id)
        view_url = reader_copy_url(self.settings, self.tokens, delivery) or view_url
        mailto = self.settings.mail.unsubscribe_mailto
        return Recipient(
            address=delivery.recipient,
            name=subscriber.name,
            unsubscribe_url=urls(self.settings).unsubscribe(token),
            unsubscribe_mailto=f"mailto:{mailto}?subject=unsubscribe%20{token}" if mailto else None,
            view_url=view_url,
            feed_url=feed_urls(self.settings, self.tokens, subscriber)[0],
            preferences_url=urls(self.settings).preferences(token),
        )

    def topics_of(self, slugs: Sequence[str], *, who: str) -> tuple[TopicConfig, ...] | None:
        """A reader's configured topics (see :func:`configured_topics`)."""
        return configured_topics(self.settings, slugs, who=who)

    def orphan_reason(self, slugs: Sequence[str]) -> str:
        gone = sorted(set(slugs) - {topic.slug for topic in self.settings.topics})
        return (
            f"every topic of this reader ({', '.join(gone)}) is no longer configured "
            'and mail.orphaned_topics = "none"'
        )

    def render_selection(
        self,
        papers: Sequence[StoredPaper],
        topics: Sequence[TopicConfig],
        digest: Digest,
        updates: Sequence[UpdateLine] = (),
    ) -> tuple[RenderedDigest, int, list[int]]:
        """Rank ``papers`` for a reader of ``topics`` and render them with ``updates``.

        Also returns how many papers the reader's topics picked, and the ids of those shown.
        """
        # Only the papers the cap lets through are shown, so only they need a reason.
        chosen = reader_list(
            self.settings, self.db, papers, topics, digest.created, explained=self.meta.max_papers
        )
        rendered = render_digest(
            Digest(id=digest.id, created=digest.created, papers=chosen.papers),
            self.meta,
            day=digest.created.date(),
            reasons=chosen.reasons,
            sections=chosen.sections,
            updates=updates,
        )
        shown = [paper.id for paper in chosen.papers[: max(self.meta.max_papers, 0)]]
        return rendered, len(chosen.papers), shown

    def _render(
        self,
        after: int,
        through: int,
        topics: tuple[TopicConfig, ...],
        events: Sequence[FollowUp] = (),
    ) -> tuple[BulkMessage, int, list[int]]:
        """Render a digest range for a set of topics (and follow-ups) once, serialise it once.

        Readers with the same topics and no follow-ups share one rendering; follow-ups
        differ by reader, so a reader with some gets their own.
        """
        key = (after, through, tuple(topic.slug for topic in topics), tuple(e.id for e in events))
        if key not in self._rendered:
            from ..render.bulk import BulkMessage

            created = digest_created(self.db, through)
            papers = papers_between(self.db, after, through, loaded=self._queued.get(through))
            digest = Digest(id=through, created=created)
            rendered, count, shown = self.render_selection(
                papers, topics, digest, update_lines(self.db, events)
            )
            bulk = BulkMessage(rendered, self.meta, date=created)
            self._rendered[key] = (bulk, count, shown)
        return self._rendered[key]


@dataclass(frozen=True)
class ReaderList:
    """What one reader gets from a set of papers: best first, their sections, the reasons."""

    papers: tuple[StoredPaper, ...]
    sections: tuple[Section, ...] | None  # None: no topics, one untitled list
    reasons: dict[int, str]


def reader_list(
    settings: Settings,
    db: sqlite3.Connection,
    papers: Sequence[StoredPaper],
    topics: Sequence[TopicConfig],
    created: datetime,
    *,
    explained: int | None = None,
) -> ReaderList:
    """The papers a reader of ``topics`` gets, ranked as of ``created`` (the digest's time).

    The mail and the reader's browser copy both come from here, so they cannot
    disagree on order. ``explained`` limits the reasons to the first papers.
    """
    index = SearchIndex(db)
    weights = Weights.from_settings(settings)
    sections = for_reader(papers, topics, index, weights, created)
    picks = best_first(sections)
    titled = tuple(
        Section(
            s.topic.title, tuple(p.paper.id for p in s.picks), topic_feed_url(settings, s.topic)
        )
        for s in sections
        if s.topic is not None
    )
    reasons = explain(picks if explained is None else picks[:explained], index)
    return ReaderList(tuple(p.paper for p in picks), titled if topics else None, reasons)


def configured_topics(
    settings: Settings, slugs: Sequence[str], *, who: str
) -> tuple[TopicConfig, ...] | None:
    """A reader's configured topics, in config order (empty: everything).

    A topic removed from digest.toml ("orphaned") gives what ``[mail]
    orphaned_topics`` says: ``"all"`` turns the reader into one who gets
    every paper, ``"none"`` drops it, and a reader left with no topic at all
    gets nothing (``None``): never silently everything.
    """
    topics = tuple(topic for topic in settings.topics if topic.slug in slugs)
    gone = sorted(set(slugs) - {topic.slug for topic in topics})
    if not gone:
        return topics
    policy = settings.mail.orphaned_topics
    log.warning(
        "%s: topic(s) %s no longer configured (mail.orphaned_topics = %s)",
        who, ", ".join(gone), policy,
    )  # fmt: skip
    if policy == "all":
        return ()
    return topics or None


@dataclass(frozen=True)
class ReaderCopy:
    """One reader's mail as a page: who, the digests' time, and their whole list."""

    reader: Subscriber
    created: datetime
    chosen: ReaderList


def reader_copy(
    settings: Settings, db: sqlite3.Connection, subscriber_id: int, after: int, through: int
) -> ReaderCopy | None:
    """The list the mail for digests ``after``..``through`` showed this reader, ranked alike.

    The same papers, topics and ranking time as :meth:`Composer.compose` used,
    so the page shows the mail's papers in the mail's order, then the rest.
    None when the reader or the digest is gone.
    """
    reader = get_subscriber(db, subscriber_id)
    if reader is None or through <= after:
        return None
    try:
        created = digest_created(db, through)
    except KeyError:
        return None
    topics = configured_topics(settings, reader.topics, who=reader.email)
    if topics is None:  # every topic gone: the mail was skipped, so the copy is empty
        return ReaderCopy(reader, created, ReaderList((), None, {}))
    papers = papers_between(db, after, through)
    return ReaderCopy(reader, created, reader_list(settings, db, papers, topics, created))


def reader_copy_url(settings: Settings, tokens: Tokens, delivery: Delivery) -> str | None:
    """The signed link to a reader's own copy of the mail ``delivery`` sends (None: no reader)."""
    if delivery.subscriber_id is None:
        return None
    token = tokens.for_copy(delivery.subscriber_id, delivery.from_digest_id, delivery.digest_id)
    return urls(settings).reader_copy(token)
