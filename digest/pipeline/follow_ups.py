"""Follow-ups in a run: which papers are watched, and the daily checks that ask about them.

Listings show most news by themselves (HF lists a paper for days, arXiv ``/new``
shows replacements): every sighting of a watched paper is compared with history
(:mod:`digest.history.follow_ups`). Once a UTC day, the first run also asks:

- the Hugging Face API, ``/api/papers/<id>``, for watched papers HF knows (code,
  project page, upvotes), at most ``hf_per_day`` of them, paced per host: the
  ones asked least recently (never first, then the oldest answer), so with N
  papers in the window each is asked within ceil(N / ``hf_per_day``) days;
- the arXiv API, ``/api/query?id_list=…``, 100 ids a request and 3 s apart, for
  versions, DOI, journal-ref and withdrawals.

Only papers first seen on an earlier day are asked about: today's were just
listed. Answers pass the same boundary as sources (:mod:`digest.sources.validate`).
A check that fails is reported like a source (``failed``, with the
error) and never fails the run; what it read before failing is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from .. import history
from ..config import Settings
from ..errors import DigestError, FetchError
from ..history.follow_ups import Watch, hf_check_turn, last_check, mark_hf_checked, watched_papers
from ..model import FOLLOW_UP_CHECKS, Paper, SourceReport, SourceStatus
from ..sources.detect import parser_for
from ..sources.validate import validated_page
from .runtime import Runtime
from .site import tag_authority

log = logging.getLogger(__name__)

# Ask one API about some papers: what it said, and the error that stopped it, if any.
_Ask = Callable[[Settings, "Runtime", str, Sequence[str]], tuple[list[Paper], str | None]]

HF_CHECK = FOLLOW_UP_CHECKS["hf-check"]
ARXIV_CHECK = FOLLOW_UP_CHECKS["arxiv-check"]
ARXIV_IDS_PER_REQUEST = 100  # the arXiv API's advice for id_list
ARXIV_SPACING = 3.0  # seconds between arXiv API requests (arXiv's terms of use)


def watch(settings: Settings, now: datetime) -> Watch:
    """What this run follows up: papers first seen within ``[follow_ups] window_days``."""
    rules = settings.follow_ups
    return Watch(since=now - timedelta(days=rules.window_days), upvote_marks=rules.upvote_marks)


def check(
    settings: Settings, runtime: Runtime, run_id: int, first_position: int
) -> list[SourceReport]:
    """Run the day's checks, unless turned off or done already today; one report per check."""
    rules = settings.follow_ups
    if not rules.check:
        return []
    now = runtime.clock()
    today = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
    since = watch(settings, now).since
    papers = watched_papers(runtime.db, since=since, before=today)
    hf_url = f"{rules.hf_api_base}/api/papers"
    arxiv_url = f"{rules.arxiv_api_base}/api/query"
    reports: list[SourceReport] = []
    for url, kind, ask in (
        (hf_url, "hf-check", _ask_hf),
        (arxiv_url, "arxiv-check", _ask_arxiv),
    ):
        done = last_check(runtime.db, url)
        if done is not None and done >= today:
            continue  # once a day
        if kind == "hf-check":
            ids = hf_check_turn(runtime.db, since=since, before=today, limit=rules.hf_per_day)
        else:
            ids = [arxiv_id for arxiv_id, _ in papers]
        report = _run_check(settings, runtime, run_id, url, kind, ids, ask)
        history.record_source_report(runtime.db, run_id, first_position + len(reports), report)
        log.log(
            logging.WARNING if report.status == "failed" else logging.INFO,
            "follow-up check %s: %s, %d asked, %d update(s)%s",
            kind, report.status, report.found, report.novel,
            f" ({report.error})" if report.error else "",
        )  # fmt: skip
        reports.append(report)
    return reports


def _run_check(
    settings: Settings,
    runtime: Runtime,
    run_id: int,
    url: str,
    kind: str,
    ids: Sequence[str],
    ask: _Ask,
) -> SourceReport:
    if not ids:
        return SourceReport(url, kind, "empty", reason="no papers to follow up")
    papers, error = ask(settings, runtime, url, ids)
    label = HF_CHECK if kind == "hf-check" else ARXIV_CHECK
    result = history.record_sightings(
        runtime.db, papers, source=label, run_id=run_id, now=runtime.clock(),
        tag_authority=tag_authority(settings), watch=watch(settings, runtime.clock()),
        known_only=True,
    )  # fmt: skip
    status: SourceStatus = "failed" if error else "ok"
    # ``novel`` counts the updates the check found: a check never adds a paper.
    return SourceReport(url, kind, status, found=len(ids), novel=result.events, error=error)


def _ask_hf(
    settings: Settings, runtime: Runtime, url: str, ids: Sequence[str]
) -> tuple[list[Paper], str | None]:
    """One request per paper, paced by the fetcher; a paper HF does not know (404) is skipped.

    Each paper HF answered about (a 404 too) is marked checked, so tomorrow asks others first.
    """
    papers: list[Paper] = []
    answered: list[str] = []
    error_text: str | None = None
    for arxiv_id in ids:
        paper_url = f"{url}/{arxiv_id}"
        try:
            papers.extend(_papers_at(runtime, paper_url, "hf-api", source=paper_url))
        except FetchError as error:
            if error.status != 404:
                error_text = str(error)
                break
        except DigestError as error:
            error_text = str(error)
            break
        answered.append(arxiv_id)
    mark_hf_checked(runtime.db, answered, runtime.clock())
    return papers, error_text


def _ask_arxiv(
    settings: Settings, runtime: Runtime, url: str, ids: Sequence[str]
) -> tuple[list[Paper], str | None]:
    """``id_list`` in batches of 100, 3 s apart whatever host serves the API."""
    papers: list[Paper] = []
    for start in range(0, len(ids), ARXIV_IDS_PER_REQUEST):
        if start:
            runtime.fetcher.sleep(ARXIV_SPACING)
        batch = ids[start : start + ARXIV_IDS_PER_REQUEST]
        query = f"{url}?id_list={','.join(batch)}&max_results={len(batch)}"
        try:
            papers.extend(_papers_at(runtime, query, "arxiv-api", source=url))
        except DigestError as error:
            return papers, str(error)
    return papers, None


def _papers_at(runtime: Runtime, url: str, kind: str, *, source: str) -> Sequence[Paper]:
    """The papers an API answer at ``url`` names, through the source boundary like any listing."""
    response = runtime.fetcher.get(url, source=source)
    page = parser_for(kind)(response.payload, url)
    return validated_page(page, source=source, now=runtime.clock()).papers
