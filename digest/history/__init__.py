"""History: the SQLite store, and the only code that knows its schema.

``open_history`` opens (and migrates) ``digest.db``; ``papers`` holds the diff
that finds what is new (:func:`record_sightings` returns only novel papers, in
one transaction); ``runs`` keeps the run report and HTTP validators;
``digests`` and ``deliveries`` are the ledger of what was announced and sent to
whom; ``search`` keeps the FTS5 index of titles and abstracts and answers
full-text queries. All raw SQL of the project lives in this package.
"""

from ..model import HttpValidators
from .digests import create_digest, digest_papers, latest_digests
from .follow_ups import any_due as follow_ups_due
from .follow_ups import delivered_with as follow_ups_delivered
from .follow_ups import found_in_run as follow_ups_found
from .follow_ups import paper_events
from .papers import (
    RecordResult,
    feed_papers,
    history_changed_at,
    paper_count,
    record_sightings,
)
from .runs import (
    finish_run,
    load_validators,
    previous_good_fetch,
    record_source_report,
    save_validators,
    start_run,
)
from .schema import SCHEMA_VERSION, integrity_check, open_history, transaction

__all__ = [
    "SCHEMA_VERSION",
    "HttpValidators",
    "RecordResult",
    "create_digest",
    "digest_papers",
    "feed_papers",
    "finish_run",
    "follow_ups_delivered",
    "follow_ups_due",
    "follow_ups_found",
    "history_changed_at",
    "integrity_check",
    "latest_digests",
    "load_validators",
    "open_history",
    "paper_count",
    "paper_events",
    "previous_good_fetch",
    "record_sightings",
    "record_source_report",
    "save_validators",
    "start_run",
    "transaction",
]
