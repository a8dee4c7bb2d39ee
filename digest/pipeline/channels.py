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
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

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
from ..history.search import SearchIndex
from ..locations import urls
from ..model import StoredPaper
from ..render.channel import Post, escape_markdown, render_post
from ..topics import Weights, best_first, for_reader
from .drain import DrainReport

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


def queue_channels(settings: Settings, db: sqlite3.Connection, now: datetime) -> int:
    """One ledger row per configured channel for every digest it has not had yet."""
    if not settings.channels:
        return 0
    return queue_channel_posts(db, [channel.name for channel in settings.channels], now)


def drain_channels(
    settings: Settings,
    db: sqlite3.Connection,
    *,
    clock: Callable[[], datetime],
    poster: Poster | None = None,
) -> ChannelReport:
    """Post every open row of every configured channel, oldest digest first."""
    poster = poster or Poster()
    return ChannelReport(
        {
            channel.name: _drain_one(settings, db, channel, clock, poster)
            for channel in settings.channels
        }
    )


def _drain_one(
    settings: Settings,
    db: sqlite3.Connection,
    channel: ChannelConfig,
    clock: Callable[[], datetime],
    poster: Poster,
) -> DrainReport:
    rows = open_channel_posts(db, channel.name)
    if not rows:
        return DrainReport()
    if channel.url is None:
        error = f"channel {channel.name}: {channel.url_env} is not set (its posts wait)"
        mark_channel_posts(db, [row.id for row in rows], "retry", clock(), error)
        log.warning("%s", error)
        return DrainReport(retry=len(rows), errors=(error,))
    groups = [rows] if channel.combine_missed else [[row] for row in rows]
    sent = retry = failed = skipped = 0
    errors: list[str] = []
    for group in groups:
        ids = [row.id for row in group]
        try:
            service = poster.service(channel.url)
            post = compose(settings, db, channel, group, service)
            if post is None:
                mark_channel_posts(db, ids, "skipped", clock(), "no papers for its topics")
                skipped += len(ids)
                continue
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
            log.info(
                "channel %s: posted digest %d (%d paper(s))",
                channel.name, group[-1].digest_id, post.shown + post.more,
            )  # fmt: skip
    return DrainReport(sent, retry, failed, tuple(errors), skipped)


def compose(
    settings: Settings,
    db: sqlite3.Connection,
    channel: ChannelConfig,
    rows: Sequence[ChannelPost],
    service: apprise_channels.Service,
) -> Post | None:
    """The post for ``rows`` (one digest, or a run of them), or None when it has no papers."""
    after, through = rows[0].from_digest_id, rows[-1].digest_id
    papers = channel_papers(settings, db, channel, after, through)
    if not papers:
        return None
    first_day = _day(db, rows[0].digest_id)
    last_day = _day(db, through)
    return render_post(
        papers,
        first_day=first_day,
        last_day=last_day,
        day_url=day_page_url(settings, last_day),
        max_papers=channel.max_papers,
        limit=service.body_limit,
        # A service without a title field gets it atop the body from Apprise.
        title_in_body=service.title_limit == 0,
    )


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
        post = compose(settings, db, channel, [row], service)
        if post is not None:
            return replace(post, title=f"Test post: {post.title}")
    return Post(
        title=f"Test post from {site}",
        body=(
            f"Channel **{escape_markdown(channel.name)}** is set up: "
            "each new digest will be posted here."
        ),
        shown=0,
        more=0,
    )
