"""Chat channels on the ledger: queue one post per (digest, channel), then drain them in order.

Queuing runs after the digest is written, in one transaction per run (see
:mod:`.history.channels`); draining posts each channel's open rows oldest
digest first and records each outcome before the next post, so a crash
(even ``kill -9``) mid-post loses nothing: the row is still ``pending`` and the
next ``digest send`` or ``digest run`` posts it. The one post in flight at the
crash may arrive twice; nothing else can.

A channel whose post must be retried stops there for this drain: its later
digests wait, so they never arrive before an earlier one. With
``combine_missed = true`` every open digest of the channel becomes one post.
A channel's papers are what its topics pick (like a reader's), best first.

Follow-ups reach a channel as they reach a reader (docs/follow-ups.md §3): a
post records the papers it shows before it is posted (they count once it is
sent), and the channel's next queued post takes the events found since on
those papers, in an "Updates" part after the new papers. A post of updates
alone is sent only with ``[follow_ups] send_alone``; otherwise it is skipped
and its updates wait for the next post.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from ..config import ChannelConfig, Settings
from ..deliver import channels as apprise_channels
from ..errors import PermanentDeliveryError, TransientDeliveryError
from ..history.channels import (
    ChannelPost,
    mark_channel_posts,
    open_channel_posts,
    queue_channel_posts,
)
from ..history.digests import digest_created, latest_digests, papers_between
from ..history.follow_ups import channel_events_due, post_events, record_posted
from ..history.search import SearchIndex
from ..locations import urls
from ..model import StoredPaper
from ..render.channel import Post, escape_markdown, render_post
from ..topics import Weights, best_first, for_reader
from .drain import DrainReport
from .updates import update_lines

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Poster:
    """How posts leave: Apprise by default; tests may point it at their own receiver URL."""

    service: Callable[[str], apprise_channels.Service] = apprise_channels.service_of
    post: Callable[[str, str, str], None] = apprise_channels.post


@dataclass(frozen=True)
class ChannelReport:
    """Per channel, what one drain did; ``total`` sums them for ``digest run --json``."""

    by_channel: dict[str, DrainReport] = field(default_factory=dict)
    updates: int = 0  # follow-ups in the posts that were sent (``follow_ups.posted``)

    @property
    def total(self) -> DrainReport:
        reports = list(self.by_channel.values())
        return DrainReport(
            sent=sum(r.sent for r in reports),
            retry=sum(r.retry for r in reports),
            failed=sum(r.failed for r in reports),
            errors=tuple(e for r in reports for e in r.errors),
            skipped=sum(r.skipped for r in reports),
        )


@dataclass(frozen=True)
class Composed:
    """A post, and what it shows: the papers (ids) and the follow-ups (event ids)."""

    post: Post
    papers: tuple[int, ...] = ()
    events: tuple[int, ...] = ()


def queue_channels(settings: Settings, db: sqlite3.Connection, now: datetime) -> int:
    """One ledger row per configured channel for every digest it has not had yet."""
    if not settings.channels:
        return 0
    names = [channel.name for channel in settings.channels]
    return queue_channel_posts(db, names, now, follow_since=_follow_since(settings, now))


def channel_updates_due(settings: Settings, db: sqlite3.Connection, now: datetime) -> bool:
    """Whether a configured channel has follow-ups waiting for a post (for ``send_alone``)."""
    names = [channel.name for channel in settings.channels]
    return bool(names) and channel_events_due(db, names, since=_follow_since(settings, now))


def _follow_since(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(days=settings.follow_ups.window_days)


def drain_channels(
    settings: Settings,
    db: sqlite3.Connection,
    *,
    clock: Callable[[], datetime],
    poster: Poster | None = None,
) -> ChannelReport:
    """Post every open row of every configured channel, oldest digest first."""
    poster = poster or Poster()
    drained = {
        channel.name: _drain_one(settings, db, channel, clock, poster)
        for channel in settings.channels
    }
    return ChannelReport(
        {name: report for name, (report, _) in drained.items()},
        updates=sum(updates for _, updates in drained.values()),
    )


def _drain_one(
    settings: Settings,
    db: sqlite3.Connection,
    channel: ChannelConfig,
    clock: Callable[[], datetime],
    poster: Poster,
) -> tuple[DrainReport, int]:
    """The channel's drain, and how many follow-ups its sent posts carried."""
    rows = open_channel_posts(db, channel.name)
    if not rows:
        return DrainReport(), 0
    if channel.url is None:
        error = f"channel {channel.name}: {channel.url_env} is not set (its posts wait)"
        mark_channel_posts(db, [row.id for row in rows], "retry", clock(), error)
        log.warning("%s", error)
        return DrainReport(retry=len(rows), errors=(error,)), 0
    groups = [rows] if channel.combine_missed else [[row] for row in rows]
    sent = retry = failed = skipped = updates = 0
    errors: list[str] = []
    for group in groups:
        ids = [row.id for row in group]
        try:
            service = poster.service(channel.url)
            composed = compose(settings, db, channel, group, service)
            if composed is None:
                mark_channel_posts(db, ids, "skipped", clock(), _skip_reason(db, ids))
                skipped += len(ids)
                continue
            post = composed.post
            # Before it leaves: once it is sent, later follow-ups on these papers reach the channel.
            record_posted(db, ids, composed.papers, composed.events)
            poster.post(channel.url, post.title, post.body)
        except TransientDeliveryError as error:
            mark_channel_posts(db, ids, "retry", clock(), str(error))
            retry += len(ids)
            errors.append(f"channel {channel.name}: {error}")
            log.warning("channel %s: will retry: %s", channel.name, error)
            # Later digests wait for this one (their rows stay as they are): they must
            # not arrive first. They count as waiting to be retried.
            retry += sum(len(later) for later in groups[groups.index(group) + 1 :])
            break
        except PermanentDeliveryError as error:
            mark_channel_posts(db, ids, "failed", clock(), str(error))
            failed += len(ids)
            errors.append(f"channel {channel.name}: {error}")
            log.error("channel %s: failed: %s", channel.name, error)
        else:
            mark_channel_posts(db, ids, "sent", clock(), None)
            sent += len(ids)
            updates += post.updates
            log.info(
                "channel %s: posted digest %d (%d paper(s), %d update(s))",
                channel.name, group[-1].digest_id, post.shown + post.more, post.updates,
            )  # fmt: skip
    return DrainReport(sent, retry, failed, tuple(errors), skipped), updates


def compose(
    settings: Settings,
    db: sqlite3.Connection,
    channel: ChannelConfig,
    rows: Sequence[ChannelPost],
    service: apprise_channels.Service,
) -> Composed | None:
    """The post for ``rows`` (one digest, or a run of them) and their follow-ups.

    None when there is nothing to post: no papers for the channel's topics, and
    no updates or ``[follow_ups] send_alone`` is false. Reads history only.
    """
    after, through = rows[0].from_digest_id, rows[-1].digest_id
    papers = channel_papers(settings, db, channel, after, through)
    events = post_events(db, [row.id for row in rows])
    if not papers and not (events and settings.follow_ups.send_alone):
        return None
    first_day = _day(db, rows[0].digest_id)
    last_day = _day(db, through)
    post = render_post(
        papers,
        first_day=first_day,
        last_day=last_day,
        day_url=day_page_url(settings, last_day),
        max_papers=channel.max_papers,
        limit=service.body_limit,
        # A service without a title field gets it atop the body from Apprise.
        title_in_body=service.title_limit == 0,
        updates=update_lines(db, events),
    )
    shown_papers = tuple(paper.id for paper in papers[: post.shown])
    return Composed(post, shown_papers, tuple(event.id for event in events[: post.updates]))


def _skip_reason(db: sqlite3.Connection, post_ids: Sequence[int]) -> str:
    if post_events(db, post_ids):
        return "no papers for its topics (its updates wait: follow_ups.send_alone is false)"
    return "no papers for its topics"


def channel_papers(
    settings: Settings,
    db: sqlite3.Connection,
    channel: ChannelConfig,
    after: int,
    through: int,
) -> list[StoredPaper]:
    """The papers of the digests in (``after``, ``through``] that the channel's topics pick, best first."""
    topics = tuple(topic for topic in settings.topics if topic.slug in channel.topics)
    papers = papers_between(db, after, through)
    if not papers:
        return []
    sections = for_reader(
        papers,
        topics,
        SearchIndex(db),
        Weights.from_settings(settings),
        digest_created(db, through),
    )
    return [pick.paper for pick in best_first(sections)]


def day_page_url(settings: Settings, day: date) -> str:
    return urls(settings).digest_page(day.isoformat())


def _day(db: sqlite3.Connection, digest_id: int) -> date:
    return digest_created(db, digest_id).date()


def test_post(
    settings: Settings,
    db: sqlite3.Connection,
    channel: ChannelConfig,
    service: apprise_channels.Service,
) -> Post:
    """What ``digest channels test`` posts: the newest digest as this channel would get it.

    It is built from history read-only and never written to the ledger, so a
    test neither counts as the digest's post nor stops the real one.
    """
    newest = latest_digests(db, limit=2)
    site = settings.site.title
    if newest:
        after = newest[1].id if len(newest) > 1 else 0
        row = ChannelPost(0, channel.name, newest[0].id, after, "test", 0, None)
        composed = compose(settings, db, channel, [row], service)
        if composed is not None:
            return replace(composed.post, title=f"Test post: {composed.post.title}")
    return Post(
        title=f"Test post from {site}",
        body=(
            f"Channel **{escape_markdown(channel.name)}** is set up: "
            "each new digest will be posted here."
        ),
        shown=0,
        more=0,
    )
