"""The post a chat channel gets for a digest: a title line, the top papers in Markdown, a link.

One post per digest (or per run of missed digests, combined): "12 new papers —
Tue 1 Dec", then each of the first ``max_papers`` papers as a linked bold
title, its TL;DR and its links, then a link to the day page for the rest.
Apprise turns the Markdown into what each service takes (Slack mrkdwn,
Discord and Telegram Markdown, HTML for Matrix). A service has a size limit
(Discord 2,000 characters, Telegram 4,096): papers are dropped from the end
until the post fits, and the post says "and N more".

Follow-ups on papers the channel was shown before come after the new papers,
in an "Updates" part, one line each, worded as in mail (:mod:`.follow_ups`).
To fit, papers go first (down to one), then updates from the end (the post
says how many it shows: the others wait for the channel's next post), then
the last paper.

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
from .follow_ups import UpdateLine
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
_UPDATE_TITLE_CHARS = 120  # an update names its paper briefly: the news is the point


@dataclass(frozen=True)
class Post:
    """A channel post ready for Apprise: ``title`` and a Markdown ``body``."""

    title: str
    body: str
    shown: int  # papers in the post
    more: int  # papers left to the day page
    updates: int = 0  # update lines in the post (the first ones given)


def day_label(day: date) -> str:
    """``Tue 1 Dec``: our own English names, never the process locale's."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def post_title(count: int, first_day: date, last_day: date, updates: int = 0) -> str:
    """``12 new papers — Tue 1 Dec`` (or ``… — Sun 29 Nov to Tue 1 Dec`` for combined digests).

    With updates: ``12 new papers, 2 updates — …``, or ``1 update — …`` alone (as mail says it).
    """
    headline = plural(count, "new paper") if count else "No new papers"
    if updates:
        news = plural(updates, "update")
        headline = f"{headline}, {news}" if count else news[0].upper() + news[1:]
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
    updates: Sequence[UpdateLine] = (),
) -> Post:
    """The post for ``papers`` (best first) and ``updates``, at most ``limit`` characters of body.

    ``limit`` is what the service takes for the body (Apprise's ``body_maxlen``;
    ``title_in_body``: the service has no title field, so Apprise puts the title
    atop the body and it counts against the limit).
    """
    link = config_url(day_url, "channel day page")
    shown = papers[: max(max_papers, 0)]
    blocks = [_block(number, paper) for number, paper in enumerate(shown, start=1)]
    lines = [_update_line(update) for update in updates]
    while True:
        title = post_title(len(papers), first_day, last_day, len(lines))
        # Apprise joins title and body with a blank line where the service has no title.
        room = limit - (len(title) + 2 if title_in_body else 0)
        body = _body(blocks, len(papers) - len(blocks), link, lines, has_papers=bool(papers))
        if len(body) <= room:
            break
        if len(blocks) > 1 or (blocks and not lines):
            blocks.pop()
        elif lines:
            lines.pop()  # it waits for the next post
        else:
            break
    if len(body) > room:  # not even the footer fits: a limit no real service has
        body = shorten(body, max(room - 1, 1))
    return Post(title, body, len(blocks), len(papers) - len(blocks), len(lines))


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


def _update_line(update: UpdateLine) -> str:
    title = escape_markdown(shorten(update.title, _UPDATE_TITLE_CHARS))
    text = escape_markdown(update.text)
    return f"- [{title}]({_md_url(update.paper_link)}): [{text}]({_md_url(update.link)})"


def _body(
    blocks: Sequence[str], more: int, day_url: str, updates: Sequence[str], *, has_papers: bool
) -> str:
    link = f"[the day page]({_md_url(day_url)})"
    footer = f"and {more} more on {link}" if more else f"All of it on {link}"
    # A post of updates alone has no day of papers to point to.
    parts = [*blocks, footer] if has_papers else []
    if updates:
        parts.append("\n".join(["**Updates**", *updates]))
    return "\n\n".join(parts)


def _md_url(url: str) -> str:
    # A ")" or space would end the Markdown link early; safe URLs have no space.
    return url.replace("(", "%28").replace(")", "%29")
