"""The drain composes the next mail while the relay works on the one in flight, and no more.

A real aiosmtpd relay on 127.0.0.1 (tests/servers.py), real SMTP, a real
ledger. The order is the guarantee: compose N+1, read N's answer, commit N's
outcome, and only then send N+1, so at most the one message in flight can go
out twice and a message composed but not sent stays queued.
"""

from __future__ import annotations

import io
import smtplib
import socket
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from digest.config import Settings, load_settings
from digest.deliver.smtp import SmtpTransport, parse_smtp_url
from digest.errors import LedgerError, TransientDeliveryError
from digest.history import create_digest, open_history, record_sightings
from digest.history.deliveries import Delivery, delivery_counts, open_deliveries
from digest.history.subscribers import add_subscriber
from digest.model import Paper
from digest.pipeline.drain import DrainReport, Skip, _ahead, drain
from digest.pipeline.newsletter import Newsletter
from digest.pipeline.site import site_tokens
from digest.pipeline.stopping import Stop
from tests.conftest import NOW
from tests.servers import SmtpSink

READERS = [f"reader{number}@example.org" for number in range(1, 7)]
PAPERS = [Paper(f"Paper number {number}", abstract="Agents and models.") for number in range(5)]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as relay:
        yield relay


class Outbox:
    """Readers (six by default) with a queued digest each, in a real history database."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        min_papers: int = 1,
        mail: str = "",
        readers: Sequence[str] = READERS,
        papers: Sequence[Paper] = PAPERS,
    ) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.path = tmp_path / "digest.db"
        config = tmp_path / "digest.toml"
        config.write_text(f"[mail]\nmin_papers = {min_papers}\n{mail}")
        self.settings: Settings = load_settings(
            config, environ={}, overrides={"data_dir": str(tmp_path)}
        )
        self.db = open_history(self.path)
        for address in readers:
            add_subscriber(self.db, address, now=NOW)
        record_sightings(
            self.db, papers, source="test", run_id=None, now=NOW, tag_authority="example.org"
        )
        digest = create_digest(self.db, run_id=None, now=NOW, day=NOW.date().isoformat())
        self.newsletter = Newsletter(self.settings, self.db, site_tokens(self.settings))
        assert self.newsletter.queue(digest, NOW) == len(readers)

    def drain(
        self, relay: SmtpSink, compose: Callable[[Delivery], bytes | Skip] | None = None, **kw: Stop
    ) -> DrainReport:
        transport = SmtpTransport(parse_smtp_url(relay.url))
        return drain(
            self.db, transport, compose or self.newsletter.compose,
            sender="digest@localhost", clock=lambda: NOW, prepare=self.newsletter.prepare, **kw,
        )  # fmt: skip

    def statuses(self) -> dict[str, str]:
        """Each reader's ledger status, read through a connection of its own (as a crash would)."""
        with sqlite3.connect(self.path) as other:
            rows = other.execute("SELECT recipient, status FROM deliveries").fetchall()
        return dict(rows)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path)
    yield box
    box.db.close()


def test_the_next_mail_is_composed_before_the_relay_answers_the_one_in_flight(
    outbox: Outbox, sink: SmtpSink
) -> None:
    """The relay holds the 3rd message's answer until the 4th is composed: no deadlock."""
    sink.hold_at, sink.accept_held = 3, True
    accepted_when_composed: list[int] = []

    def compose(delivery: Delivery) -> bytes | Skip:
        accepted_when_composed.append(len(sink.messages))
        if len(accepted_when_composed) == 4:
            sink.release.set()  # only now may the relay answer the 3rd
        return outbox.newsletter.compose(delivery)

    report = outbox.drain(sink, compose)
    assert report.sent == len(READERS)
    assert accepted_when_composed[3] == 2  # the 4th was composed while the 3rd was unanswered
    assert Counter(sink.recipients()) == Counter(READERS)


def test_a_mail_goes_out_only_after_the_outcome_before_it_is_committed(
    outbox: Outbox, sink: SmtpSink
) -> None:
    """At each RCPT the ledger (read from outside) already shows every earlier message sent."""
    committed_before: list[int] = []

    def check(address: str, attempt: int) -> str | None:
        committed_before.append(Counter(outbox.statuses().values())["sent"])
        return None  # 250

    sink.rcpt_script = check
    report = outbox.drain(sink)
    assert report.sent == len(READERS)
    assert committed_before == list(range(len(READERS)))


@pytest.mark.parametrize(("answer", "status"), [("451 try later", "retry"), ("554 no", "failed")])
def test_an_answer_at_the_end_of_data_is_recorded_for_that_reader_alone(
    outbox: Outbox, sink: SmtpSink, answer: str, status: str
) -> None:
    sink.data_script = lambda recipients: answer if READERS[2] in recipients else None
    report = outbox.drain(sink)
    assert getattr(report, status) == 1 and report.sent == len(READERS) - 1
    assert answer in report.errors[0]
    assert outbox.statuses() == {
        address: status if address == READERS[2] else "sent" for address in READERS
    }


def test_a_connection_cut_after_the_message_before_the_answer_leaves_it_to_retry(
    outbox: Outbox, sink: SmtpSink
) -> None:
    sink.data_script = lambda recipients: "drop" if READERS[1] in recipients else None
    first = outbox.drain(sink)
    assert first.retry == 1 and first.sent == len(READERS) - 1
    assert outbox.statuses()[READERS[1]] == "retry"
    sink.data_script = None
    again = outbox.drain(sink)
    assert again.sent == 1
    assert Counter(sink.recipients()) == Counter(READERS)


def test_a_stop_while_a_mail_is_in_flight_records_it_and_leaves_the_composed_one_queued(
    outbox: Outbox, sink: SmtpSink
) -> None:
    stop = Stop()

    def compose(delivery: Delivery) -> bytes | Skip:
        if delivery.recipient == READERS[3]:
            stop.request()  # the 3rd is in flight; the 4th is composed but must not go
        return outbox.newsletter.compose(delivery)

    report = outbox.drain(sink, compose, stop=stop)
    assert report.sent == 3 and report.stopped is not None
    assert delivery_counts(outbox.db) == {"sent": 3, "pending": 3}
    again = outbox.drain(sink)  # composes the 4th again: what it records is written alike
    assert again.sent == 3
    assert Counter(sink.recipients()) == Counter(READERS)
    shown = outbox.db.execute(
        "SELECT count(*), count(DISTINCT delivery_id) FROM delivery_papers"
    ).fetchone()
    assert shown == (len(READERS) * len(PAPERS), len(READERS))


def test_a_compose_that_fails_still_records_the_mail_in_flight(
    outbox: Outbox, sink: SmtpSink
) -> None:
    def compose(delivery: Delivery) -> bytes | Skip:
        if delivery.recipient == READERS[2]:
            raise RuntimeError("the template broke")
        return outbox.newsletter.compose(delivery)

    with pytest.raises(RuntimeError):
        outbox.drain(sink, compose)
    assert delivery_counts(outbox.db) == {"sent": 2, "pending": 4}


class RecordingRelay:
    """A minimal SMTP server on 127.0.0.1 that answers 250/354 and keeps every byte it reads."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self.transcripts: list[bytes] = []
        self._ended = threading.Semaphore(0)
        threading.Thread(target=self._serve, daemon=True).start()

    def transcript(self, number: int) -> bytes:
        """The bytes of the ``number``-th conversation (0-based), once it has ended."""
        while len(self.transcripts) <= number:
            assert self._ended.acquire(timeout=10), "the conversation did not end"
        return self.transcripts[number]

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection, connection.makefile("rwb") as file:
                self.transcripts.append(_converse(file))
            self._ended.release()

    def close(self) -> None:
        self._server.close()


def _converse(file: BinaryIO) -> bytes:
    seen = bytearray()
    file.write(b"220 relay ready\r\n")
    file.flush()
    in_data = False
    while line := file.readline():
        seen += line
        command = line[:4].upper()
        if in_data:
            if line == b".\r\n":
                in_data = False
                file.write(b"250 kept\r\n")
        elif command == b"EHLO":
            file.write(b"250-relay\r\n250 SIZE 1000000\r\n")
        elif command == b"DATA":
            in_data = True
            file.write(b"354 go on\r\n")
        elif command == b"QUIT":
            file.write(b"221 bye\r\n")
            file.flush()
            break
        else:
            file.write(b"250 ok\r\n")
        file.flush()
    return bytes(seen)


@pytest.mark.parametrize(
    "message",
    [
        b"Subject: dots\r\n\r\n.starts with a dot\r\n..two\r\nmiddle . dot\r\n.\r\n",
        b"Subject: no final line end\r\n\r\nlast line",
        b"Subject: plain\r\n\r\nbody\r\n",
    ],
)
def test_the_bytes_on_the_wire_are_those_smtplib_sendmail_writes(message: bytes) -> None:
    relay = RecordingRelay()
    try:
        reference = smtplib.SMTP("127.0.0.1", relay.port)
        reference.sendmail("digest@localhost", ["reader@example.org"], message)
        reference.quit()  # as the transport ends a batch
        transport = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{relay.port}?tls=off"))
        transport.send(
            message, sender="digest@localhost", recipient="reader@example.org", message_id="<m>"
        )
        transport.close()
    finally:
        relay.close()
    assert b"SIZE=" in relay.transcript(0).upper()
    assert relay.transcript(1) == relay.transcript(0)


def test_an_accepted_outcome_that_cannot_be_committed_stops_the_drain_before_the_next_mail(
    outbox: Outbox, sink: SmtpSink
) -> None:
    """The 2nd mail's commit (overlapping the 3rd's MAIL) fails: the relay never gets the 3rd."""
    outbox.db.execute("PRAGMA busy_timeout = 50")
    holders: list[sqlite3.Connection] = []

    def compose(delivery: Delivery) -> bytes | Skip:
        message = outbox.newsletter.compose(delivery)
        if delivery.recipient == READERS[2]:  # composed while the 2nd is in flight
            holders.append(sqlite3.connect(outbox.path, isolation_level=None))
            holders[0].execute("BEGIN IMMEDIATE")  # another process holds the write lock
        return message

    with pytest.raises(LedgerError, match=READERS[1]):
        outbox.drain(sink, compose)
    assert sink.recipients() == READERS[:2]
    holders[0].execute("ROLLBACK")
    holders[0].close()
    assert outbox.statuses() == {
        address: "sent" if address == READERS[0] else "pending" for address in READERS
    }
    again = outbox.drain(sink)
    assert again.sent == len(READERS) - 1
    assert Counter(sink.recipients()) == Counter({**Counter(READERS), READERS[1]: 2})


class MailWatchingRelay(RecordingRelay):
    """A :class:`RecordingRelay` that sets ``mail_read`` on reading MAIL, and answers it only
    once ``answer_mail`` is set."""

    def __init__(self) -> None:
        self.mail_read = threading.Event()
        self.answer_mail = threading.Event()
        super().__init__()

    def _serve(self) -> None:
        relay = self

        class Watched(io.BufferedRWPair):
            def readline(self, size: int | None = -1) -> bytes:
                line = super().readline(size)
                if line[:4].upper() == b"MAIL":
                    relay.mail_read.set()
                    relay.answer_mail.wait(10)
                return line

        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with (
                connection,
                connection.makefile("rb", buffering=0) as reader,
                connection.makefile("wb", buffering=0) as writer,
            ):
                self.transcripts.append(_converse(cast(BinaryIO, Watched(reader, writer))))
            self._ended.release()


def _transport(port: int) -> SmtpTransport:
    return SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{port}?tls=off"))


def test_meanwhile_runs_once_mail_is_written_and_before_its_answer_is_read() -> None:
    relay = MailWatchingRelay()
    ran: list[bool] = []

    def meanwhile() -> None:
        # The relay has MAIL already, and has not answered it: this overlaps its work.
        ran.append(relay.mail_read.wait(10))
        relay.answer_mail.set()

    transport = _transport(relay.port)
    try:
        answer = transport.start_send(
            b"Subject: s\r\n\r\nbody\r\n", sender="digest@localhost",
            recipient="reader@example.org", message_id="<m>", meanwhile=meanwhile,
        )  # fmt: skip
        assert answer().startswith("250")
        transport.close()
    finally:
        relay.close()
    assert ran == [True]
    assert relay.transcript(0).count(b"\r\n.\r\n") == 1


def test_when_meanwhile_raises_the_relay_never_gets_the_message() -> None:
    relay = RecordingRelay()

    def meanwhile() -> None:
        raise LedgerError("the ledger is full")

    transport = _transport(relay.port)
    try:
        with pytest.raises(LedgerError):
            transport.start_send(
                b"Subject: s\r\n\r\nbody\r\n", sender="digest@localhost",
                recipient="reader@example.org", message_id="<m>", meanwhile=meanwhile,
            )  # fmt: skip
        said = transport.send(
            b"Subject: next\r\n\r\nbody\r\n", sender="digest@localhost",
            recipient="reader@example.org", message_id="<n>",
        )  # fmt: skip
        transport.close()
    finally:
        relay.close()
    first = relay.transcript(0)
    commands = first.upper()
    assert b"MAIL FROM" in commands and b"DATA" not in commands and commands.endswith(b"QUIT\r\n")
    assert said.startswith("250") and b"Subject: next" in relay.transcript(1)


def test_meanwhile_runs_even_when_the_relay_cannot_be_reached() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])  # closed again: nobody listens there
    ran: list[int] = []
    with pytest.raises(TransientDeliveryError):
        _transport(port).start_send(
            b"Subject: s\r\n\r\nbody\r\n", sender="digest@localhost",
            recipient="reader@example.org", message_id="<m>", meanwhile=lambda: ran.append(1),
        )  # fmt: skip
    assert ran == [1]


def test_each_next_deliveries_are_prepared_before_the_first_of_them_is_composed() -> None:
    seen: list[object] = []
    ahead = _ahead(iter(range(10)), lambda chunk: seen.append(list(chunk)), 4)  # type: ignore[arg-type]
    for item in ahead:
        seen.append(item)
    assert seen == [[0, 1, 2, 3], 0, 1, 2, 3, [4, 5, 6, 7], 4, 5, 6, 7, [8, 9], 8, 9]


def _shown(db: sqlite3.Connection) -> list[tuple[int, int]]:
    return db.execute("SELECT delivery_id, paper_id FROM delivery_papers ORDER BY 1, 2").fetchall()


def test_a_prepared_mail_is_the_mail_composed_alone_and_shows_the_same(outbox: Outbox) -> None:
    deliveries = list(open_deliveries(outbox.db))
    alone = [outbox.newsletter.compose(delivery) for delivery in deliveries]
    shown = _shown(outbox.db)
    outbox.db.execute("DELETE FROM delivery_papers")
    outbox.newsletter.prepare(deliveries)
    assert _shown(outbox.db) == shown  # all of them before any is composed
    assert [outbox.newsletter.compose(delivery) for delivery in deliveries] == alone
    assert _shown(outbox.db) == shown and len(shown) == len(READERS) * len(PAPERS)


def test_a_prepared_mail_with_too_few_papers_is_skipped_and_shows_nothing(tmp_path: Path) -> None:
    box = Outbox(tmp_path, min_papers=len(PAPERS) + 1)
    deliveries = list(open_deliveries(box.db))
    box.newsletter.prepare(deliveries)
    assert all(isinstance(box.newsletter.compose(d), Skip) for d in deliveries)
    assert _shown(box.db) == []
