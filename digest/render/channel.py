"""The post a chat channel gets for a digest: a title line, the top papers in Markdown, a link.

One post per digest (or per run of missed digests, combined): "12 new papers —
Tue 1 Dec", then each of the first ``max_papers`` papers as a linked bold
title, its TL;DR and its links, then a link to the day page for the rest.
Apprise turns the Markdown into what each service takes (Slack mrkdwn,
Discord and Telegram Markdown, HTML for Matrix). A service has a size limit
(Discord 2,000 characters, Telegram 4,096): papers are dropped from the end
until the post fits, and the post says "and N more".

Titles are untrusted: Markdown's punctuation is escaped so a title cannot
open a link, a heading or raw HTML, and only http(s) links are emitted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ..model import StoredPaper
from .entry import paper_entry
from .links import config_url
from .text import plural, shorten

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# CommonMark lets a backslash escape any ASCII punctuation; these are the ones
# that mean something at the start of a line or inside a line.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()>#+!|~])")
# "<" cannot be backslash-escaped in every Markdown (python-markdown keeps the
# backslash); where it could open an HTML tag it becomes an entity instead.
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_TITLE_CHARS = 250  # a paper title in a post; titles are rarely longer


@dataclass(frozen=True)
class Post:
    """A channel post ready for Apprise: ``title`` and a Markdown ``body``."""

    title: str
    body: str
    shown: int  # papers in the post
    more: int  # papers left to the day page


def day_label(day: date) -> str:
    """``Tue 1 Dec``: our own English names, never the process locale's."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def post_title(count: int, first_day: date, last_day: date) -> str:
    """``12 new papers — Tue 1 Dec`` (or ``… — Sun 29 Nov to Tue 1 Dec`` for combined digests)."""
    headline = plural(count, "new paper") if count else "No new papers"
    days = day_label(last_day)
    if first_day != last_day:
        days = f"{day_label(first_day)} to {days}"
    return f"{headline} \u2014 {days}"


def render_post(
    papers: Sequence[StoredPaper],
    *,
    first_day: date,
    last_day: date,
    day_url: str,
    max_papers: int,
    limit: int,
    title_in_body: bool = False,
) -> Post:
    """The post for ``papers`` (best first), at most ``limit`` characters of body.

    ``limit`` is what the service takes for the body (Apprise's ``body_maxlen``;
    ``title_in_body``: the service has no title field, so Apprise puts the title
    atop the body and it counts against the limit).
    """
    link = config_url(day_url, "channel day page")
    title = post_title(len(papers), first_day, last_day)
    if title_in_body:
        limit -= len(title) + 2  # Apprise joins them with a blank line
    shown = papers[: max(max_papers, 0)]
    blocks = [_block(number, paper) for number, paper in enumerate(shown, start=1)]
    while True:
        body = _body(blocks, len(papers) - len(blocks), link)
        if len(body) <= limit or not blocks:
            break
        blocks.pop()
    if len(body) > limit:  # not even the footer fits: a limit no real service has
        body = shorten(body, max(limit - 1, 1))
    return Post(title, body, len(blocks), len(papers) - len(blocks))


def escape_markdown(text: str) -> str:
    r"""Untrusted text as literal Markdown: ``[x](y)`` stays text.

    >>> escape_markdown("[x](javascript:y) *b*")
    '\\[x\\]\\(javascript:y\\) \\*b\\*'
    """
    return _TAG_OPEN.sub("&lt;", _MARKDOWN.sub(r"\\\1", text))


def _block(number: int, paper: StoredPaper) -> str:
    """The entry's title, TL;DR and links (render/entry.py), as the mail has them."""
    entry = paper_entry(number, paper)
    title = escape_markdown(shorten(entry.title, _TITLE_CHARS))
    lines = [f"**[{title}]({_md_url(entry.url)})**"]
    if entry.tldr:
        label = f"_{escape_markdown(entry.tldr_label)}:_ " if entry.tldr_label else ""
        lines.append(label + escape_markdown(entry.tldr))
    links = " \u00b7 ".join(
        f"[{escape_markdown(link.label)}]({_md_url(link.url)})" for link in entry.links
    )
    lines.append(links)
    return "\n".join(lines)


def _body(blocks: Sequence[str], more: int, day_url: str) -> str:
    link = f"[the day page]({_md_url(day_url)})"
    footer = f"and {more} more on {link}" if more else f"All of it on {link}"
    return "\n\n".join([*blocks, footer])


def _md_url(url: str) -> str:
    # A ")" or space would end the Markdown link early; safe URLs have no space.
    return url.replace("(", "%28").replace(")", "%29")
