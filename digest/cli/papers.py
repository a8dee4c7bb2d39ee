"""How the commands that list papers print one: a few readable lines, or one JSON object.

``digest search`` and ``digest topics test`` share these, so a paper reads the
same in both and ``--json`` always has the same fields: everything history
knows, links included. A field a source never gave is ``null`` (or ``[]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from ..model import FollowUp, StoredPaper
from ..render.feed import related_links
from ..render.follow_ups import describe
from ..render.links import paper_link, safe_http_url

_TLDR_SHOWN = 200  # characters of the TL;DR line; --json has all of it


def echo_paper(rank: int, paper: StoredPaper, reason: str, score: str) -> None:
    """Title, then date · id · category · score, the reason, the TL;DR and the links."""
    ident = f"arXiv:{paper.arxiv_id}" if paper.arxiv_id else paper.uid
    category = paper.details.primary_category or next(iter(paper.categories), "")
    facts = [f"{paper.first_seen:%Y-%m-%d}", ident, category, score]
    click.echo(f"{rank:>3}. {paper.title}")
    click.echo(f"     {' · '.join(fact for fact in facts if fact)}")
    click.echo(f"     {reason}")
    if paper.details.ai_summary:
        click.echo(f"     TL;DR: {_shorten(paper.details.ai_summary, _TLDR_SHOWN)}")
    links = [f"{link.title} {link.href}" for link in related_links(paper)]
    stars = paper.details.github_stars
    links = [
        f"{text} (\u2605 {stars})" if text.startswith("Code ") and stars is not None else text
        for text in links
    ]
    click.echo(f"     {' · '.join([f'Abstract {paper_link(paper)}', *links])}")


def paper_json(
    paper: StoredPaper,
    *,
    rank: int,
    score: float,
    reason: str,
    follow_ups: Sequence[FollowUp] = (),
) -> dict[str, Any]:
    """One paper as ``--json`` prints it: ``id`` is the history row, ``uid`` the feed's entry
    id; times are UTC ISO-8601. ``follow_ups`` lists the paper's updates (docs/follow-ups.md)."""
    details = paper.details
    return {
        "rank": rank,
        "score": round(score, 6),
        "reason": reason,
        "id": paper.id,
        "uid": paper.uid,
        "url": paper.url,
        "arxiv_id": paper.arxiv_id,
        "version": paper.version,
        "doi": paper.doi,
        "title": paper.title,
        "title_tex": details.title_tex,
        "authors": list(paper.authors),
        "author_count": paper.author_count,
        "organization": paper.organization,
        "categories": list(paper.categories),
        "primary_category": details.primary_category,
        "listed_in": details.listed_in,
        "abstract": paper.abstract,
        "abstract_tex": details.abstract_tex,
        "ai_summary": details.ai_summary,
        "ai_keywords": list(details.ai_keywords),
        "arxiv_comment": details.arxiv_comment,
        "journal_ref": details.journal_ref,
        "upvotes": paper.upvotes,
        "comments": paper.comments,
        "github_stars": details.github_stars,
        "published": _iso(paper.published),
        "featured_at": _iso(details.featured_at),
        "first_seen": _iso(paper.first_seen),
        "updated": _iso(paper.updated),
        "sources": list(paper.sources),
        "links": {
            "abstract": paper_link(paper),
            **{_LINK_KEYS[link.title]: link.href for link in related_links(paper)},
            "thumbnail": safe_http_url(details.thumbnail),
        },
        "follow_ups": [
            {
                "kind": event.kind,
                "value": event.value,
                "detail": event.detail,
                "source": event.source,
                "found": _iso(event.found),
                "text": describe(event),
            }
            for event in follow_ups
        ],
    }


_LINK_KEYS = {
    "PDF": "pdf",
    "Hugging Face": "hugging_face",
    "Code": "code",
    "Project page": "project",
    "DOI": "doi",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"
