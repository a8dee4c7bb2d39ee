"""`digest preview`: the next mail someone would get, built read-only from history.

With ``--to`` it is that reader's next mail (an address that is no reader is an
error, not an empty preview). Without, it is the next mail of the reader who
is due soonest and has something to read: a weekly reader whose Friday mail
holds the week is that mail, not "nothing new". With no readers at all, the
operator's copy of what the next run would announce.

The preview carries the follow-ups the mail would carry (docs/follow-ups.md §3):
the events found since a sent mail showed the reader the paper, not yet given
to a mail, unless the reader turned updates off. Updates alone make a preview
only with ``[follow_ups] send_alone``, as they make a mail only then.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from ..config import Settings
from ..history.digests import latest_digest_id, papers_between
from ..history.follow_ups import due_events
from ..history.papers import pending_papers
from ..history.subscribers import Subscriber, find_subscriber, list_subscribers
from ..model import Digest, FollowUp, StoredPaper
from ..render.mail import Recipient, build_message, message_id_for
from ..render.text import plural
from .compose import Composer
from .readers import SubscriberError, normalise_address
from .updates import update_lines


@dataclass(frozen=True)
class Preview:
    """The next mail: to whom, on which day, how many papers (``message`` None: nothing due)."""

    recipient: str
    due: date
    papers: int
    message: EmailMessage | None
    reader: Subscriber | None = None
    note: str | None = None  # why there is no message, when there is none
    updates: int = 0  # follow-ups the mail carries (or, with no message, that wait)

    def as_json(self) -> dict[str, object]:
        text = self.message.get_body(("plain",)) if self.message else None
        return {
            "to": self.recipient,
            "reader": self.reader is not None,
            "frequency": self.reader.frequency if self.reader else None,
            "due": self.due.isoformat(),
            "papers": self.papers,
            "updates": self.updates,
            "subject": str(self.message["Subject"]) if self.message else None,
            "text": text.get_content() if text is not None else None,
            "note": self.note,
        }


def next_due(reader: Subscriber, today: date) -> date | None:
    """The day this reader's next mail goes out (None: paused or gone)."""
    if reader.status != "active" or reader.frequency == "paused":
        return None
    if reader.frequency == "weekly":
        return today + timedelta(days=(reader.weekday - today.weekday()) % 7)
    return today


def preview(
    settings: Settings, db: sqlite3.Connection, address: str | None, *, now: datetime
) -> Preview:
    """The next mail to ``address`` (a reader), or of the next reader who has one due."""
    composer = Composer(settings, db)  # no tokens: a preview signs no link, writes no secret
    operator = settings.mail.operator
    readers = list_subscribers(db)
    if address is not None:
        reader = find_subscriber(db, normalise_address(address))
        if reader is None and (readers or address.strip().lower() != operator.lower()):
            raise SubscriberError(
                f"{address} is not a reader (see `digest subscribers list`; "
                f"add one with `digest subscribers add {address}`)"
            )
        return _for(composer, db, reader, operator, now)
    candidates = [
        (due, reader.email, reader)
        for reader in readers
        if (due := next_due(reader, now.date())) is not None and _papers_for(db, reader)
    ]
    if candidates:
        _, _, reader = min(candidates)
        return _for(composer, db, reader, operator, now)
    if readers:
        return Preview(operator, now.date(), 0, None, note="no reader has a mail due")
    return _for(composer, db, None, operator, now)


def _papers_for(db: sqlite3.Connection, reader: Subscriber | None) -> list[StoredPaper]:
    """What the reader's next mail holds: digests since their cursor, then what is pending."""
    papers: list[StoredPaper] = []
    if reader is not None:
        papers = papers_between(db, reader.cursor_digest_id, latest_digest_id(db))
    known = {paper.id for paper in papers}
    return papers + [paper for paper in pending_papers(db) if paper.id not in known]


def _for(
    composer: Composer,
    db: sqlite3.Connection,
    reader: Subscriber | None,
    operator: str,
    now: datetime,
) -> Preview:
    address = reader.email if reader else operator
    due = (next_due(reader, now.date()) if reader else now.date()) or now.date()
    papers = _papers_for(db, reader)
    if reader is not None and next_due(reader, now.date()) is None:
        return Preview(
            address,
            due,
            0,
            None,
            reader,
            note=f"this reader is {reader.status}, {reader.frequency}",
        )
    topics = composer.topics_of(reader.topics if reader else (), who=address)
    if topics is None:
        return Preview(
            address,
            due,
            0,
            None,
            reader,
            note=composer.orphan_reason(reader.topics if reader else ()),
        )
    events = _updates_for(composer, db, reader, address, now)
    alone = bool(events) and composer.settings.follow_ups.send_alone
    if not papers and not alone:
        since = "their last mail" if reader else "the last run"
        note = f"no paper since {since}{_waiting(events)}"
        return Preview(address, due, 0, None, reader, note=note, updates=len(events))
    moment = datetime.combine(due, now.timetz()) if due != now.date() else now
    rendered, count, _ = composer.render_selection(
        papers, topics, Digest(id=0, created=moment), update_lines(db, events)
    )
    if count == 0 and not alone:
        note = f"none of the new papers match their topics{_waiting(events)}"
        return Preview(address, due, 0, None, reader, note=note, updates=len(events))
    recipient = Recipient(address=address, name=reader.name if reader else None)
    message_id = message_id_for(0, due, address, composer.meta.message_domain)
    message = build_message(rendered, recipient, composer.meta, message_id=message_id, date=moment)
    return Preview(address, due, count, message, reader, updates=len(events))


def _updates_for(
    composer: Composer,
    db: sqlite3.Connection,
    reader: Subscriber | None,
    address: str,
    now: datetime,
) -> list[FollowUp]:
    """The follow-ups the next mail to ``address`` would take (none for a reader who wants none)."""
    if reader is not None and not reader.updates:
        return []
    since = now - timedelta(days=composer.settings.follow_ups.window_days)
    return due_events(db, address, since=since)


def _waiting(events: list[FollowUp]) -> str:
    if not events:
        return ""
    return (
        f" ({plural(len(events), 'update')} waiting for new papers: follow_ups.send_alone is false)"
    )
