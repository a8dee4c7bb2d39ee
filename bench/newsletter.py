"""``python -m bench.newsletter``: how big and how tall a 30-paper newsletter is on real days.

Each real saved Hugging Face listing in ../shared/seeds (and the recorded HF API
day in tests/fixtures) is recorded into a fresh history, ranked as a reader
without topics gets it, and rendered as one reader's message with every
per-reader link. One row per day: the message's bytes on the wire (Gmail clips
near 102 KB; the aim is 60 KB), and, when Debian's chromium is installed, the
average height of a paper at 600 px (the aim: 220 px) and at 390 px (a phone).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from digest.history import open_history
from digest.history.papers import record_sightings
from digest.history.search import SearchIndex
from digest.model import Digest, Page
from digest.render.mail import MailMeta, Recipient, build_message, message_id_for, render_digest
from digest.sources import hf, text
from digest.topics import Weights, best_first, explain, for_reader

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
HF_DAY = REPO / "tests" / "fixtures" / "hf_daily_papers_2025-03-12.json"
CHROMIUM = Path("/usr/bin/chromium")
NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
META = MailMeta(
    site_title="Paper digest",
    site_url="https://papers.example.org/",
    feed_url="https://papers.example.org/feed.atom",
    archive_url="https://papers.example.org/digests/",
    from_address="Paper digest <digest@papers.example.org>",
    list_id="daily.papers.example.org",
    message_domain="papers.example.org",
    max_papers=30,
)
READER = Recipient(
    address="ada.lovelace@example.org",
    name="Ada Lovelace",
    unsubscribe_url="https://papers.example.org/unsubscribe/MTIzNDU.gP3v8l0pLrQkS2dFh4jZ",
    view_url="https://papers.example.org/read/WzEyMzQ1LDY5LDcwXQ.Hk2v9xQ0pLrQkS2dFh4jZ",
    preferences_url="https://papers.example.org/preferences/MTIzNDU.gP3v8l0pLrQkS2dFh4jZ",
)


def days() -> list[tuple[str, Page]]:
    found = [
        (path.name, text.parse(path.read_bytes(), str(path)))
        for path in sorted(SEEDS.glob("*.txt"))
    ]
    if HF_DAY.exists():
        found.append((HF_DAY.name, hf.parse_api(HF_DAY.read_bytes(), str(HF_DAY))))
    return found


def message(page: Page, source: str, folder: Path) -> tuple[bytes, int]:
    db = open_history(folder / f"{abs(hash(source))}.db")
    try:
        result = record_sightings(
            db, page.papers, source=source, run_id=None, now=NOW, tag_authority="example.org"
        )
        index = SearchIndex(db)
        picks = best_first(for_reader(result.novel, (), index, Weights(), NOW))
        reasons = explain(picks[: META.max_papers], index)
    finally:
        db.close()
    digest = Digest(id=70, created=NOW, papers=tuple(pick.paper for pick in picks))
    rendered = render_digest(digest, META, day=date(2025, 3, 12), reasons=reasons)
    message_id = message_id_for(70, NOW.date(), READER.address, META.message_domain)
    raw = build_message(rendered, READER, META, message_id=message_id, date=NOW).as_bytes()
    return raw, rendered.shown


def heights(raws: list[bytes]) -> list[dict[int, float]]:
    """Average px per paper at 600 and 390 px, per message (empty when chromium is missing)."""
    if not CHROMIUM.exists():
        return [{} for _ in raws]
    from playwright.sync_api import sync_playwright

    measured: list[dict[int, float]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for raw in raws:
            part = message_from_bytes(raw, policy=policy.default).get_body(("html",))
            if part is None:
                raise RuntimeError("a newsletter without an HTML part")
            html = str(part.get_content())
            row: dict[int, float] = {}
            for width in (600, 390):
                tab = browser.new_page(viewport={"width": width, "height": 900})
                tab.route("**/*", lambda route: route.abort())
                tab.set_content(html)
                sizes: list[float] = tab.evaluate(
                    "() => [...document.querySelectorAll('td.p')]"
                    ".map(td => td.getBoundingClientRect().height)"
                )
                row[width] = sum(sizes) / max(len(sizes), 1)
                tab.close()
            measured.append(row)
        browser.close()
    return measured


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="digest-bench-newsletter-") as folder:
        built = [(name, *message(page, name, Path(folder))) for name, page in days()]
    for (name, raw, shown), tall in zip(built, heights([raw for _, raw, _ in built]), strict=True):
        rows.append(
            {
                "day": name,
                "papers": shown,
                "kb": len(raw) / 1000,
                "px_600": tall.get(600),
                "px_390": tall.get(390),
            }
        )
    return rows


def main(quick: bool = False) -> None:
    print(f"{'day':<40} {'papers':>6} {'KB':>7} {'px/paper 600':>13} {'px/paper 390':>13}")
    for row in run(quick):
        px = [
            f"{row[k]:>13.0f}" if row[k] is not None else f"{'-':>13}" for k in ("px_600", "px_390")
        ]
        print(f"{row['day']:<40} {row['papers']:>6} {row['kb']:>7.1f} {px[0]} {px[1]}", flush=True)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
