"""The newsletter: a digest is rendered once, then one message is built per recipient.

:func:`render_digest` does the costly part: both templates from one context and
the CSS inlined once. The bodies it returns keep *slots* for what differs per
recipient (name, address, unsubscribe and view-in-browser links; see
:mod:`.templates`), so :func:`build_message` only fills strings and wraps them in
MIME. Header safety lives in :mod:`.headers`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any

from ..model import Digest, StoredPaper
from . import headers, templates
from .entry import AUTHORS_IN_MAIL, Entry, paper_entry
from .follow_ups import UpdateLine
from .headers import message_id_for
from .links import config_url
from .text import cap_line_octets, plain, plural, shorten

__all__ = [
    "Arrangement",
    "Group",
    "MailMeta",
    "Recipient",
    "RenderedDigest",
    "Section",
    "arrange",
    "build_message",
    "message_id_for",
    "render_digest",
]

_PREHEADER_CHARS = 140  # what inbox lists show after the subject
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip

# Gmail's non-Google clients and Outlook ignore or drop <style>, so every rule is
# inlined; keep_at_rules leaves the @media block for the clients that honour it
# (Apple Mail, the Gmail apps). Nothing remote is ever fetched.


@cache
def _inliner() -> Any:
    import css_inline  # imported when a mail is first rendered, not by every command

    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, minify_css=True)


@dataclass(frozen=True)
class MailMeta:
    """Newsletter-wide settings (from ``digest.toml``)."""

    site_title: str
    site_url: str
    feed_url: str
    archive_url: str | None
    from_address: str  # "Paper digest <digest@example.org>"
    list_id: str  # "daily.papers.example.org" (RFC 2919)
    message_domain: str  # right-hand side of every Message-ID
    max_papers: int = 30
    templates_dir: Path | None = None  # the operator's overrides ([site] templates_dir)
    abstract: str = "tldr"  # "tldr" | "full" | "none": see [mail] abstract


@dataclass(frozen=True)
class Recipient:
    """One subscriber, with the per-recipient links the sender computed."""

    address: str
    name: str | None = None
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    view_url: str | None = None  # the reader's own copy of this mail, as a page
    preferences_url: str | None = None
    feed_url: str | None = None  # the reader's private feed


@dataclass(frozen=True)
class RenderedDigest:
    """A digest rendered once: both bodies, per-recipient slots still unfilled."""

    subject: str
    text: str
    html: str
    shown: int
    more: int


@dataclass(frozen=True)
class Section:
    """A titled part of a digest (one topic): its papers by id, in display order."""

    title: str
    paper_ids: tuple[int, ...]
    link: str | None = None  # the topic's own feed


@dataclass(frozen=True)
class Group:
    """One titled part of a list as shown: its entries, numbered in display order."""

    title: str
    link: str | None
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Arrangement:
    """A reader's list laid out: what the mail shows (``groups``), then ``rest`` (the page's)."""

    groups: tuple[Group, ...]
    rest: tuple[Entry, ...]

    @property
    def shown(self) -> tuple[Entry, ...]:
        return tuple(entry for group in self.groups for entry in group.entries)


def arrange(
    papers: Sequence[StoredPaper],
    *,
    limit: int,
    reasons: Mapping[int, str] | None = None,
    sections: Sequence[Section] | None = None,
    authors_shown: int = AUTHORS_IN_MAIL,
) -> Arrangement:
    """The first ``limit`` of ``papers`` (best first) under their sections, then the rest.

    The mail shows ``groups``; the reader's browser copy shows the same groups
    and then ``rest``, numbered on, so that "and N more" can point at paper
    ``limit + 1`` of the same list.
    """
    reasons = reasons or {}
    shown = papers[: max(limit, 0)]
    if sections is None:
        grouped: list[tuple[str, str | None, list[StoredPaper]]] = [("", None, list(shown))]
    else:
        by_id = {paper.id: paper for paper in shown}
        grouped = [
            (plain(s.title), s.link, [by_id[i] for i in s.paper_ids if i in by_id])
            for s in sections
        ]
    groups: list[Group] = []
    number = 0
    for title, link, members in grouped:
        if not members:
            continue
        entries = tuple(
            paper_entry(number + n, p, reasons.get(p.id), authors_shown=authors_shown)
            for n, p in enumerate(members, 1)
        )
        number += len(entries)
        link = config_url(link, "Section.link") if link else None
        groups.append(Group(title, link, entries))
    rest = tuple(
        paper_entry(number + n, p, reasons.get(p.id), authors_shown=authors_shown)
        for n, p in enumerate(papers[len(shown) :], 1)
    )
    return Arrangement(tuple(groups), rest)


def render_digest(
    digest: Digest,
    meta: MailMeta,
    *,
    day: date,
    reasons: Mapping[int, str] | None = None,
    sections: Sequence[Section] | None = None,
    updates: Sequence[UpdateLine] = (),
) -> RenderedDigest:
    """Render subject, text and HTML once for every recipient of ``digest``.

    ``updates`` (follow-ups on papers the reader got before) come after the new
    papers, in their own "Updates" section.

    Past ``meta.max_papers`` the rest is one "and N more" link (docs/readers.md §7).
    With ``sections`` (a reader's topics) the papers appear under their
    section's heading; the cap still keeps the first papers of ``digest.papers``
    (best first), whichever section they are in.
    """
    # The mail never shows the rest (the browser copy does, web/reader.py): only the
    # papers it shows become entries (a first run over a 10,000-entry feed: ~1 s less).
    shown_papers = digest.papers[: max(meta.max_papers, 0)]
    arrangement = arrange(shown_papers, limit=meta.max_papers, reasons=reasons, sections=sections)
    shown = len(arrangement.shown)
    more = len(digest.papers) - shown
    context = _context(
        arrangement, more, len(digest.papers), meta, day, titled=sections is not None
    )
    context["updates"] = list(updates)
    if updates:
        news = plural(len(updates), "update")
        context["headline"] = f"{context['headline']}, {news}" if digest.papers else news
        context["subject"] = (
            f"{context['site_title']} \u2014 {context['headline']}, {_short_day(day)}"
        )
    html = _inliner().inline(
        templates.render("email/digest.html.j2", context, templates_dir=meta.templates_dir)
    )
    text = templates.render("email/digest.txt.j2", context, templates_dir=meta.templates_dir)
    return RenderedDigest(context["subject"], text, html, shown, more)


def _context(
    arrangement: Arrangement,
    more: int,
    total: int,
    meta: MailMeta,
    day: date,
    *,
    titled: bool,
) -> dict[str, Any]:
    headline = plural(total, "new paper") if total else "no new papers"
    site_title = plain(meta.site_title)
    entries = arrangement.shown
    return {
        "subject": f"{site_title} \u2014 {headline}, {_short_day(day)}",
        "site_title": site_title,
        "site_url": config_url(meta.site_url, "MailMeta.site_url"),
        "feed_url": config_url(meta.feed_url, "MailMeta.feed_url"),
        "archive_url": config_url(meta.archive_url, "MailMeta.archive_url")
        if meta.archive_url
        else None,
        "headline": headline,
        "day": _long_day(day),
        "papers": entries,
        "sections": arrangement.groups,
        # Papers are h3 under a topic's h2, else h2 themselves: one heading per paper.
        "paper_heading": "h3" if titled else "h2",
        "abstract": meta.abstract,
        "more": more,
        "preheader": shorten(" \u00b7 ".join(e.title for e in entries[:4]), _PREHEADER_CHARS),
    }


def _short_day(day: date) -> str:
    # Our own English names: strftime's %a and %b follow the process locale.
    return f"{_DAYS[day.weekday()][:3]} {day.day} {_MONTHS[day.month - 1][:3]} {day.year}"


def _long_day(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def build_message(
    rendered: RenderedDigest,
    recipient: Recipient,
    meta: MailMeta,
    *,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """One recipient's ``multipart/alternative`` message, headers per docs/standards.md §1."""
    url = headers.unsubscribe_url(recipient.unsubscribe_url)
    mailto = headers.unsubscribe_mailto(recipient.unsubscribe_mailto)
    message = EmailMessage()
    message["From"] = headers.config_header(meta.from_address, "MailMeta.from_address")
    message["To"] = headers.to_address(recipient.address, recipient.name)
    message["Subject"] = plain(rendered.subject)  # one line: CR/LF cannot start a header
    message["Date"] = format_datetime(date if date.tzinfo else date.replace(tzinfo=UTC))
    message["Message-ID"] = headers.checked_message_id(message_id)
    message["MIME-Version"] = "1.0"
    message["List-Id"] = f"<{headers.config_header(meta.list_id, 'MailMeta.list_id')}>"
    headers.add_list_unsubscribe(message, url, mailto)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no vacation replies
    values = _slot_values(recipient, meta, rendered, unsubscribe=url or mailto or "")
    _attach_bodies(message, rendered, values, seed=message_id)
    return message


def _slot_values(
    recipient: Recipient, meta: MailMeta, rendered: RenderedDigest, *, unsubscribe: str
) -> dict[str, str]:
    view = config_url(recipient.view_url, "Recipient.view_url") if recipient.view_url else ""
    manage = recipient.preferences_url
    # "and N more" opens the reader's copy at the first paper the mail left out.
    fallback = meta.archive_url or meta.feed_url
    return {
        "name": plain(recipient.name),
        "address": plain(recipient.address),
        "unsubscribe": unsubscribe,  # Gmail's bulk rules want a visible link too
        "view": view,
        "more": f"{view}#paper-{rendered.shown + 1}" if view else config_url(fallback, "MailMeta"),
        "manage": config_url(manage, "Recipient.preferences_url") if manage else "",
        "feed": config_url(recipient.feed_url, "Recipient.feed_url") if recipient.feed_url else "",
    }


def _attach_bodies(
    message: EmailMessage, rendered: RenderedDigest, values: Mapping[str, str], *, seed: str
) -> None:
    # RFC 2046 §5.1.4: the last alternative is the preferred one, so HTML goes last.
    message.make_alternative()
    text = cap_line_octets(templates.personalise(rendered.text, values, html=False))
    html = templates.personalise(rendered.html, values, html=True)
    for body, subtype in ((text, "plain"), (html, "html")):
        part = EmailMessage()
        # Quoted-printable keeps every wire line within 76 octets (RFC 2045 §6.7).
        part.set_content(body, subtype=subtype, charset="utf-8", cte="quoted-printable")
        del part["MIME-Version"]  # set_content adds it; only the top level needs it
        message.attach(part)
    # "=_" never occurs in quoted-printable (RFC 2045 §6.7 rule 1), so the boundary
    # cannot collide with a body; derived from the Message-ID, it is reproducible.
    message.set_boundary("=_digest_" + hashlib.sha256(seed.encode()).hexdigest()[:24])
