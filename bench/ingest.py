"""Workload 1, ingest: an Atom feed of N arXiv-like papers read four times.

1. first run (empty history / data file);
2. nothing new: the same bytes again, a plain 200 (no validators offered);
3. ten new entries on top, now served with an ETag;
4. nothing new with a 304 (the client sends the ETag back).

digest runs ``digest run --source URL`` (fetch, diff, feed, digest, and the
operator's one newsletter into its Maildir); rss2email runs ``r2e run
--no-send`` (fetch, parse, diff, build each entry's message). Each repetition
starts from fresh state, and the two programs alternate step by step.
"""

from __future__ import annotations

from pathlib import Path

from . import data
from .measure import Row, Sample
from .pages import PageServer
from .programs import DigestHome, Rss2emailHome

STEPS = (
    "first run",
    "nothing new (200, same bytes)",
    "10 new on top",
    "nothing new (304)",
)


def run(
    work: Path, *, entries: int, repeat: int, r2e: Path | None, notes: list[str] | None = None
) -> list[Row]:
    label = f"1. ingest {entries:,}-entry feed"
    walls = {step: Row(f"{label}: {step}", "wall", "s") for step in STEPS}
    memory = {step: Row(f"{label}: {step}", "peak RSS", "MB") for step in STEPS}
    first = data.papers(range(11, entries + 11))
    second = data.papers(range(1, 11)) + first  # newest first, as feeds list them
    feeds = (data.atom_feed(first), data.atom_feed(second))
    with PageServer() as server:
        for number in range(repeat):
            folder = work / f"ingest-{number}"
            url = server.put("/feed.atom", feeds[0])
            ours = DigestHome(folder / "digest")
            theirs = Rss2emailHome(r2e, folder / "r2e", url) if r2e else None
            for step in STEPS:
                if step == "10 new on top":
                    server.put("/feed.atom", feeds[1], etag='"bench-v2"')
                _record(walls[step], memory[step], ours.run(url), "digest")
                if theirs is not None:
                    _record(walls[step], memory[step], theirs.run(send=False), "peer")
            _check_statuses(server.hits.get("/feed.atom", []), theirs is not None, notes)
            server.hits.clear()
    return [row for step in STEPS for row in (walls[step], memory[step])]


def _record(wall: Row, memory: Row, sample: Sample, who: str) -> None:
    getattr(wall, who).append(sample.seconds)
    getattr(memory, who).append(sample.peak_mb)


def _check_statuses(hits: list[int], with_peer: bool, notes: list[str] | None) -> None:
    """Both programs should have sent the ETag back on the last step: one 304 each.

    digest not doing so is an error; rss2email not doing so (it keeps no ETag
    after a fetch that timed out, say) is reported, since its last row is then
    not a 304.
    """
    ours = hits[-2] if with_peer else hits[-1]
    if ours != 304:
        raise RuntimeError(
            f"digest's last step should have been answered 304; the server saw {hits}"
        )
    if with_peer and hits[-1] != 304 and notes is not None:
        notes.append(f"Ingest: rss2email's last step was answered {hits[-1]}, not 304 ({hits}).")
