"""Every error digest raises on purpose, in one tree.

    DigestError                    base: a message the operator can act on
    ├── ConfigError                digest.toml / environment: names file, line and key
    ├── SourceError                one source failed; the run goes on with the others
    │   ├── FetchError             network, HTTP status, timeout (``url``, ``status``)
    │   └── ParseError             the payload is not what the source kind expects
    │       └── LayoutError        a recognised page whose data is missing (layout drift)
    ├── StoreError                 the SQLite history cannot be opened, migrated or written
    │   ├── BrokenHistoryError     digest.db is empty, not SQLite, damaged, or from a newer digest
    │   ├── BusyError              another process holds a write lock past our deadline
    │   └── LedgerError            a delivery outcome could not be recorded: sending stops
    ├── QueryError                 a full-text query is not valid FTS5 syntax (``query``)
    ├── RunLockedError             another run holds the database's run lock
    └── DeliveryError              one message could not be handed over
        ├── TransientDeliveryError 4xx, dropped connection: retry later
        │   └── RelayTimeoutError  the relay did not answer in time (twice: give up this drain)
        └── PermanentDeliveryError 5xx: the relay refused this recipient for good

The CLI has a single ``except`` for these (and for the operator's OSError and
sqlite3 errors: a full disk, a read-only file, a locked database) that prints
one line and exits 2 for ConfigError, BrokenHistoryError and set-up errors, 1
otherwise (``digest.cli.failures``). Pipeline stages catch the narrowest class per source
or per recipient, record it in the run report, and continue. A stop request is
not an error: ``digest.pipeline.stopping.Interrupted`` is a BaseException.
"""

from __future__ import annotations


class DigestError(Exception):
    """Base class: ``str(error)`` is a complete sentence for the operator."""


class ConfigError(DigestError):
    """A setting is missing, malformed or out of range."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class SourceError(DigestError):
    """A source could not be read; ``source`` is the URL or path as the user gave it."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        self.reason = message
        super().__init__(f"{source}: {message}" if source else message)


class FetchError(SourceError):
    """The bytes could not be fetched (network, timeout, HTTP error status)."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        status: int | None = None,
        unreachable: bool = False,
    ) -> None:
        self.status = status
        self.unreachable = unreachable  # no connection at all (DNS, refused): not the page's fault
        super().__init__(message, source=source)


class ParseError(SourceError):
    """The bytes are not a page of the kind expected (wrong format, truncated, error page)."""


class LayoutError(ParseError):
    """The page is of a known kind, but the data we read from it is missing: layout drift."""


class StoreError(DigestError):
    """The history database cannot be used."""


class BrokenHistoryError(StoreError):
    """``digest.db`` is there but cannot be trusted; digest refuses it rather than start afresh.

    Starting a new, empty history over it would lose every reader and every
    record of what was sent (and mail the next digest to the operator alone).
    """

    def __init__(self, path: object, problem: str, remedy: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}. {remedy}")


class BusyError(StoreError):
    """The database stayed locked by another process for longer than we were asked to wait."""


class LedgerError(StoreError):
    """The outbox ledger could not be written after a message was handed over (or refused).

    The drain stops at once: had it gone on, every later message would be sent
    again by the next drain, not just the one whose outcome was lost.
    """


class QueryError(DigestError):
    """A full-text query (``digest search``, a topic's ``query``) that SQLite FTS5 cannot parse."""

    def __init__(self, message: str, *, query: str) -> None:
        self.query = query
        super().__init__(message)


class RunLockedError(DigestError):
    """Another run is in progress on the same database."""


class DeliveryError(DigestError):
    """A message could not be delivered to one recipient."""

    def __init__(self, message: str, *, recipient: str | None = None) -> None:
        self.recipient = recipient
        self.reason = message  # the relay's answer or the connection error, without the address
        super().__init__(f"{recipient}: {message}" if recipient else message)


class TransientDeliveryError(DeliveryError):
    """Try again later: a 4xx answer, a dropped connection, a relay that is down."""


class RelayTimeoutError(TransientDeliveryError):
    """The relay accepted the connection (or not) but did not answer within ``mail.smtp_timeout``."""


class SenderRefusedError(TransientDeliveryError):
    """The relay refuses the sender or the login, not this recipient: nothing goes until it is fixed.

    A 5xx to MAIL FROM (530 authentication required, 553 sender not allowed) or a
    refused login is the same for every message, so the drain stops at the first
    one and keeps the rest queued for ``digest send``, instead of failing them all.
    """


class PermanentDeliveryError(DeliveryError):
    """Do not retry: the relay answered 5xx for this recipient."""
