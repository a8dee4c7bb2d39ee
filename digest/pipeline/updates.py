"""Follow-ups on their way out: the lines a mail, a chat post or a preview shows for events.

One wording for every place (:func:`digest.render.follow_ups.update_line`): a
channel says "Code released: ★ 1.2k — github.com/…" exactly as the mail does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ..history.papers import load_papers
from ..model import FollowUp
from ..render.follow_ups import UpdateLine, update_line


def update_lines(db: sqlite3.Connection, events: Sequence[FollowUp]) -> list[UpdateLine]:
    """The events as lines (the paper's title and link, the news, where to look), in the order given."""
    papers = {p.id: p for p in load_papers(db, sorted({e.paper_id for e in events}))}
    return [update_line(event, papers[event.paper_id]) for event in events]
