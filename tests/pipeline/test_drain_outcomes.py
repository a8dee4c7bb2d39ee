"""What the drain records when a relay refuses part of a send, or a mail is composed twice.

A refusal costs only what it is about: one recipient, one message, or (the sender
or the login refused) nothing at all, the rest staying queued for `digest send`.
A mail records the papers it showed when it went out, and a reader who left
between queueing and sending gets nothing. A real aiosmtpd relay on 127.0.0.1, a
real ledger in a SQLite file, time from NOW.
"""

from __future__ import annotations

import smtplib
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from digest.deliver.smtp import SmtpTransport, parse_smtp_url
from digest.errors import LedgerError
from digest.history import record_sightings
from digest.history.follow_ups import Watch, due_events
from digest.history.subscribers import remove_subscriber
from digest.model import Paper, PaperDetails
from digest.pipeline.drain import drain
from digest.pipeline.newsletter import Newsletter
from digest.pipeline.site import site_tokens
from digest.pipeline.stopping import Stop
from tests.conftest import NOW
from tests.pipeline.test_drain_hand_over import Outbox as QueuedOutbox
from tests.servers import SmtpSink

READERS = [f"reader{number}@example.org" for number in range(1, 5)]


def _paper(number: int, **kw: Any) -> Paper:
    return Paper(
        f"Paper number {number}",
        abstract="Agents and models.",
        arxiv_id=f"2501.0000{number}",
        **kw,
    )


PAPERS = [_paper(number) for number in range(4)]


class Outbox(QueuedOutbox):
    """Four readers and four papers (with arXiv ids), each reader's digest queued."""

    def __init__(self, tmp_path: Path, config: str = "") -> None:
        super().__init__(tmp_path, mail=config, readers=READERS, papers=PAPERS)

    def statuses(self) -> dict[str, str]:
        with sqlite3.connect(self.path) as other:
            return dict(other.execute("SELECT recipient, status FROM deliveries").fetchall())


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as relay:
        yield relay


def _titles_in(raw: bytes) -> set[str]:
    message = message_from_bytes(raw, policy=policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return {paper.title for paper in PAPERS if paper.title in text}


# What a mail shows


def test_a_mail_prepared_then_sent_later_records_only_the_papers_it_showed(
    tmp_path: Path, sink: SmtpSink
) -> None:
    """A drain stopped before any mail went out has already written every prepared mail's
    ``delivery_papers``. The next drain ranks anew (upvotes came in meanwhile) and sends
    other papers; the ledger of what the reader received must be those papers, not both
    sets, or the reader is told follow-ups on papers their mail never showed."""
    box = Outbox(tmp_path, "max_papers = 2\n")
    stop = Stop()
    stop.request()  # SIGTERM as the drain starts: the first chunk is prepared, nothing is sent
    first = box.drain(sink, stop=stop)
    assert first.sent == 0 and first.stopped is not None and sink.messages == []
    assert box.db.execute("SELECT count(*) FROM delivery_papers").fetchone()[0] > 0  # prepared

    # The next run's listing: upvotes for the two papers that were ranked last.
    later = NOW + timedelta(hours=1)
    ranked_up = [_paper(number, upvotes=500) for number in (2, 3)]
    record_sightings(box.db, ranked_up, source="test", run_id=None, now=later, tag_authority="x")

    box.newsletter = Newsletter(box.settings, box.db, site_tokens(box.settings))  # the next run's
    again = box.drain(sink)
    assert again.sent == len(READERS)
    (mail,) = [raw for _, rcpts, raw in sink.messages if rcpts == [READERS[0]]]
    shown_in_mail = _titles_in(mail)
    assert len(shown_in_mail) == 2

    recorded = {
        row[0]
        for row in box.db.execute(
            "SELECT p.title FROM delivery_papers dp JOIN papers p ON p.id = dp.paper_id "
            "JOIN deliveries d ON d.id = dp.delivery_id WHERE d.recipient = ?",
            (READERS[0],),
        )
    }
    # Code turns up for a paper the first (never sent) preparation showed, not the mail.
    (dropped,) = [n for n, paper in enumerate(PAPERS) if paper.title not in shown_in_mail][:1]
    code = PaperDetails(github_repo="https://github.com/example/code")
    news = [_paper(dropped, details=code)]
    record_sightings(
        box.db, news, source="test", run_id=None, now=later + timedelta(hours=1),
        tag_authority="x", watch=Watch(since=NOW - timedelta(days=30)),
    )  # fmt: skip
    told = due_events(box.db, READERS[0], since=NOW - timedelta(days=30))
    assert [event.kind for event in told] == []  # the reader never got that paper
    assert recorded == shown_in_mail


# Refusals


def test_a_4xx_to_the_data_command_retries_that_reader_and_fails_nobody_else(
    tmp_path: Path, sink: SmtpSink
) -> None:
    """A policy service or rate limit at DATA keeps the transaction open: RSET before the next."""
    box = Outbox(tmp_path)
    sink.data_command_script = lambda rcpts: (
        "451 4.7.1 Rate limit reached, try again later" if READERS[1] in rcpts else None
    )
    report = box.drain(sink)
    assert box.statuses() == {
        address: "retry" if address == READERS[1] else "sent" for address in READERS
    }, report.errors
    assert report.failed == 0
    assert Counter(sink.recipients()) == Counter(a for a in READERS if a != READERS[1])


def test_a_relay_that_refuses_the_sender_keeps_every_mail_for_digest_send(
    tmp_path: Path, sink: SmtpSink
) -> None:
    """530 at MAIL FROM is the relay's verdict on the sender, not on any reader."""
    box = Outbox(tmp_path)
    sink.mail_script = lambda sender: "530 5.7.0 Authentication required"
    refused = box.drain(sink)
    assert (refused.sent, refused.failed, refused.retry) == (0, 0, 1)
    assert sorted(box.statuses().values()) == ["pending", "pending", "pending", "retry"]
    assert refused.stopped is not None and "digest send" in refused.stopped
    assert "530 5.7.0 Authentication required" in (refused.why() or "")
    assert "mail.from_address" in (refused.why() or "")

    sink.mail_script = None  # the operator fixed the login
    fixed = box.drain(sink)
    assert (fixed.sent, fixed.failed) == (len(READERS), 0)
    assert Counter(sink.recipients()) == Counter(READERS)


def test_a_message_too_big_for_the_relay_fails_alone(tmp_path: Path, sink: SmtpSink) -> None:
    """552 at MAIL FROM (its SIZE) is about that message: the others go."""
    box = Outbox(tmp_path)
    addresses = iter(READERS)
    # MAIL comes before RCPT: the relay refuses the second message it is offered.
    sink.mail_script = lambda sender: (
        "552 5.3.4 Message size exceeds fixed limit" if next(addresses) == READERS[1] else None
    )
    report = box.drain(sink)
    assert (report.sent, report.failed, report.stopped) == (len(READERS) - 1, 1, None)
    assert box.statuses()[READERS[1]] == "failed"


def test_a_refused_login_stops_the_drain_and_keeps_the_rest_queued(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    attempts: list[str] = []

    def refusing_login(settings: Any) -> Any:
        attempts.append(settings.host)
        raise smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid")

    settings = parse_smtp_url("smtp://user:wrong@relay.example.org:587")
    transport = SmtpTransport(settings, connect=refusing_login)
    report = drain(
        box.db, transport, box.newsletter.compose, sender="digest@localhost",
        clock=lambda: NOW, prepare=box.newsletter.prepare,
    )  # fmt: skip
    assert attempts == ["relay.example.org"], "one login refused is enough to know"
    assert (report.retry, report.failed) == (1, 0) and report.stopped is not None
    assert "check mail.smtp_url credentials" in (report.why() or "")
    assert sorted(box.statuses().values()) == ["pending", "pending", "pending", "retry"]


# Readers who left


def test_a_reader_who_unsubscribed_after_queueing_gets_nothing(
    tmp_path: Path, sink: SmtpSink
) -> None:
    """The relay was down when the mail was queued; the reader unsubscribed before the retry."""
    box = Outbox(tmp_path)
    remove_subscriber(box.db, READERS[2], NOW + timedelta(minutes=5))
    report = box.drain(sink)
    assert (report.sent, report.skipped) == (len(READERS) - 1, 1)
    assert READERS[2] not in sink.recipients()
    assert box.statuses()[READERS[2]] == "skipped"
    assert box.db.execute(
        "SELECT last_error FROM deliveries WHERE recipient = ?", (READERS[2],)
    ).fetchone() == ("the reader unsubscribed after this mail was queued",)


def test_a_ledger_that_cannot_record_what_mails_show_stops_before_sending_them(
    tmp_path: Path, sink: SmtpSink
) -> None:
    """Another process holds the write lock: LedgerError names the file, and nothing goes."""
    box = Outbox(tmp_path)
    box.db.execute("PRAGMA busy_timeout = 0")
    with sqlite3.connect(box.path, isolation_level=None) as other:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(LedgerError) as raised:
            box.drain(sink)
        other.execute("ROLLBACK")
    assert str(box.path) in str(raised.value) and "digest send" in str(raised.value)
    assert sink.messages == [] and set(box.statuses().values()) == {"pending"}
    assert box.drain(sink).sent == len(READERS)
