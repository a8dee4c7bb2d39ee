"""Sign-up with double opt-in, one-click unsubscribe (RFC 8058), and the preferences page.

- ``POST /subscribe`` answers the same page whatever the address's state, and
  mails after the answer is sent (a background task), so neither the words nor
  the timing say whether an address is already subscribed. A new or returning
  address is stored ``pending`` (origin ``web``) before the answer — a busy
  database gets a 503, never "check your inbox" for nothing — and gets a
  signed link that expires and names this sign-up; an active one gets nothing
  and keeps its preferences. Confirmation mails are limited per mailbox
  (``+tag`` and case variants count as one) and per client, in SQLite.
- ``GET /confirm/<token>`` shows a button; only its ``POST`` confirms, because
  mail link scanners fetch every link they see.
- ``POST /unsubscribe/<token>`` with ``List-Unsubscribe=One-Click`` unsubscribes
  at once: no cookie, CSRF token, login, redirect or second step; the signed
  token is the authority. ``GET`` shows a page with the same button. Both are
  idempotent.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ..history.subscribers import (
    Subscriber,
    add_subscriber,
    confirm_pending,
    find_subscriber,
    get_subscriber,
    set_status,
    update_preferences,
)
from ..locations import urls
from ..pipeline.reader_feeds import feed_urls
from ..pipeline.readers import WEEKDAYS, SubscriberError, mailbox_key, normalise_address
from ..render.confirmation import Confirmation, Reminder
from ..tokens import TokenError
from .confirmation import send_confirmation, send_reminder
from .context import NO_STORE, Site, client_address, site_of
from .pages import WEEKDAY_NAMES, subscribe_form_context
from .security import FormError, choices, text_field

log = logging.getLogger(__name__)

SIGN_UP_FREQUENCIES = ("daily", "weekly")
FREQUENCIES = ("daily", "weekly", "paused")
_ROBOTS = {"X-Robots-Tag": "noindex"}  # pages reached by a personal link


async def _form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=40, max_part_size=2048)


def _refused(site: Site, request: Request) -> Response:
    return site.message(
        request,
        403,
        "This form has expired",
        "It is older than a few hours, or it was sent from another site. "
        "Go back, reload the page and send it again.",
    )


def _too_many(site: Site, request: Request, wait: float) -> Response:
    minutes = max(1, round(wait / 60))
    return site.message(
        request,
        429,
        "Too many requests",
        f"Please try again in about {minutes} minute{'s' if minutes != 1 else ''}.",
        headers={"Retry-After": str(int(wait) + 1)},
    )


def _bad_link(site: Site, request: Request, reason: str) -> Response:
    return site.message(
        request, 400, "This link does not work", f"{reason[:1].upper()}{reason[1:]}."
    )


def _old_link(site: Site, request: Request) -> Response:
    return _bad_link(
        site, request,
        "this confirmation link is from an earlier sign-up; please sign up again for a fresh one",
    )  # fmt: skip


async def subscribe_page(request: Request) -> Response:
    site = site_of(request)
    return site.page(request, "subscribe.html.j2", subscribe_form_context(site), form=True)


async def subscribe(request: Request) -> Response:
    site = site_of(request)
    form = await _form(request)
    if not site.csrf.check(request):
        return _refused(site, request)
    client = client_address(request)
    wait = await site.query(lambda db: site.rate_limit(db, "client", client))
    if wait:
        return _too_many(site, request, wait)
    typed = str(form.get("email") or "")[: site.limits.email_chars]
    try:
        address, topics, frequency, weekday = _sign_up_fields(site, form)
    except (FormError, SubscriberError) as error:
        context = subscribe_form_context(site, email=typed, error=_sentence(error))
        return site.page(request, "subscribe.html.j2", context, status=400, form=True)
    wait, reader = await site.query(
        lambda db: _sign_up(site, db, address, topics, frequency, weekday)
    )
    if wait:
        return _too_many(site, request, wait)
    response = site.page(request, "check_inbox.html.j2", {"email": address}, cache=NO_STORE)
    if reader is not None:
        response.background = BackgroundTask(_mail_link, site, reader, frequency)
    return response


def _sign_up_fields(site: Site, form: FormData) -> tuple[str, list[str], str, int]:
    address = normalise_address(text_field(form, "email", site.limits.email_chars))
    topics = choices(form, "topics", {topic.slug for topic in site.settings.topics})
    frequency = text_field(form, "frequency", 20, required=False) or "daily"
    if frequency not in SIGN_UP_FREQUENCIES:
        raise FormError("Choose daily or weekly.")
    return address, topics, frequency, _weekday(form)


def _weekday(form: FormData) -> int:
    weekday = text_field(form, "weekday", 2, required=False) or "0"
    if not weekday.isdigit() or not 0 <= int(weekday) <= 6:
        raise FormError("Choose a day of the week.")
    return int(weekday)


def _sentence(error: Exception) -> str:
    if isinstance(error, SubscriberError):
        # email-validator's reason (the cause), without an echo of what was typed.
        reason = str(error.__cause__ or "it does not look like one")
        return f"That is not an email address we can send to: {reason}"
    return str(error)


def _sign_up(
    site: Site,
    db: sqlite3.Connection,
    address: str,
    topics: list[str],
    frequency: str,
    weekday: int,
) -> tuple[float, Subscriber | None]:
    """Before the answer: count the mailbox's hit, store the sign-up; the reader to mail, if any.

    An address that is already a reader keeps its preferences; it is returned
    too (it gets a mail with its preferences link), unless it was reminded
    within ``Limits.address_window`` already, so the form cannot flood a reader.
    """
    wait = site.rate_limit(db, "address", mailbox_key(address))
    if wait:
        return wait, None
    existing = find_subscriber(db, address)
    if existing is not None and existing.status == "active":
        if site.rate_limit(db, "reminder", mailbox_key(address)):
            log.info("sign-up for %s: already a reader, reminded lately: nothing sent", address)
            return 0.0, None
        return 0.0, existing
    reader, _ = add_subscriber(
        db, address, now=site.clock(), topics=topics, frequency=frequency, weekday=weekday,
        status="pending", origin="web",
    )  # fmt: skip
    return 0.0, reader


def _mail_link(site: Site, reader: Subscriber, frequency: str) -> None:
    """After the answer went out: the confirmation link, or an active reader's preferences link."""
    now = site.clock()
    transport = site.transport_factory(site.settings)
    if reader.status == "active":
        log.info("sign-up for %s: already a reader; mailing their preferences link", reader.email)
        manage = urls(site.settings).preferences(site.tokens.for_subscriber(reader.id))
        send_reminder(site.settings, transport, Reminder(reader.email, manage), now=now)
        return
    token = site.tokens.for_confirmation(reader.id, reader.pending_since)
    confirmation = Confirmation(
        address=reader.email,
        confirm_url=urls(site.settings).confirm(token),
        topics=_topic_titles(site, reader.topics),
        frequency=frequency,
    )
    send_confirmation(site.settings, transport, confirmation, now=now)


def _topic_titles(site: Site, slugs: tuple[str, ...]) -> tuple[str, ...]:
    titles = {topic.slug: topic.title for topic in site.settings.topics}
    return tuple(titles.get(slug, slug) for slug in slugs)


async def _reader(
    site: Site, request: Request, read_token: Callable[[str], int]
) -> Subscriber | Response:
    """The reader a path token names, or the page that says the link does not work."""
    token = str(request.path_params["token"])
    if len(token) > site.limits.token_chars:
        return _bad_link(site, request, "this link is not valid")
    try:
        reader_id = read_token(token)
    except TokenError as error:
        return _bad_link(site, request, str(error))
    reader = await site.query(lambda db: get_subscriber(db, reader_id))
    if reader is None:
        return _bad_link(site, request, "this link is not valid")
    return reader


async def confirm_page(request: Request) -> Response:
    site = site_of(request)
    reader = await _reader(site, request, site.tokens.confirmed_id)
    if isinstance(reader, Response):
        return reader
    _, since = site.tokens.confirmation(str(request.path_params["token"]))
    if reader.status != "active" and (reader.status != "pending" or reader.pending_since != since):
        return _old_link(site, request)
    context = {"email": reader.email, "action": request.url.path, "done": reader.status == "active"}
    return site.page(request, "confirm.html.j2", context, form=True, headers=_ROBOTS)


async def confirm(request: Request) -> Response:
    site = site_of(request)
    await _form(request)  # read (and size-checked) though no field of it is needed
    if not site.csrf.check(request):
        return _refused(site, request)
    reader = await _reader(site, request, site.tokens.confirmed_id)
    if isinstance(reader, Response):
        return reader
    _, since = site.tokens.confirmation(str(request.path_params["token"]))
    if reader.status != "active":
        done = await site.query(lambda db: confirm_pending(db, reader.id, since, site.clock()))
        if not done:
            # An old link: the reader has left (or signed up again) since it was mailed.
            return _old_link(site, request)
        log.info("reader %d confirmed their subscription", reader.id)
    context = {
        "email": reader.email,
        "preferences_url": f"/preferences/{site.tokens.for_subscriber(reader.id)}",
        "feed_url": urls(site.settings).feed,
    }
    return site.page(request, "confirmed.html.j2", context, cache=NO_STORE, headers=_ROBOTS)


async def unsubscribe_page(request: Request) -> Response:
    site = site_of(request)
    reader = await _reader(site, request, site.tokens.subscriber_id)
    if isinstance(reader, Response):
        return reader
    return _unsubscribe_page(site, request, reader.email, done=reader.status == "unsubscribed")


async def unsubscribe(request: Request) -> Response:
    """RFC 8058 one-click: the signed token in the path is all it takes."""
    site = site_of(request)
    reader = await _reader(site, request, site.tokens.subscriber_id)
    if isinstance(reader, Response):
        return reader
    form = await _form(request)
    if form.get("List-Unsubscribe") != "One-Click":
        return site.message(
            request, 400, "Nothing changed", "To unsubscribe, send List-Unsubscribe=One-Click."
        )
    changed = await site.query(lambda db: set_status(db, reader.id, "unsubscribed", site.clock()))
    if changed:
        log.info("reader %d unsubscribed (one-click)", reader.id)
    return _unsubscribe_page(site, request, reader.email, done=True, just_now=True)


def _unsubscribe_page(
    site: Site, request: Request, email: str, *, done: bool, just_now: bool = False
) -> Response:
    """The confirm page (GET) and the after-the-fact page (POST) are one template."""
    context = {
        "email": email,
        "action": request.url.path,
        "done": done,
        "just_now": just_now,
        "preferences_url": request.url.path.replace("/unsubscribe/", "/preferences/", 1),
    }
    return site.page(request, "unsubscribe.html.j2", context, cache=NO_STORE, headers=_ROBOTS)


async def preferences_page(request: Request) -> Response:
    site = site_of(request)
    reader = await _reader(site, request, site.tokens.subscriber_id)
    if isinstance(reader, Response):
        return reader
    return _preferences(site, request, reader, notice="")


def _preferences(
    site: Site, request: Request, reader: Subscriber, *, notice: str, status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "email": reader.email,
        "status": reader.status,
        "action": request.url.path,
        "notice": notice,
        "topics": [{"slug": topic.slug, "title": topic.title} for topic in site.settings.topics],
        "chosen": list(reader.topics),
        "frequency": reader.frequency,
        "weekday": reader.weekday,
        "updates": reader.updates,
        "weekdays": list(enumerate(WEEKDAY_NAMES)),
        "unsubscribe_url": request.url.path.replace("/preferences/", "/unsubscribe/", 1),
        "feed_urls": (
            feed_urls(site.settings, site.tokens, reader) if reader.status == "active" else None
        ),
    }
    return site.page(
        request, "preferences.html.j2", context, status=status, form=True, headers=_ROBOTS
    )


assert len(WEEKDAY_NAMES) == len(WEEKDAYS)


async def save_preferences(request: Request) -> Response:
    site = site_of(request)
    form = await _form(request)
    if not site.csrf.check(request):
        return _refused(site, request)
    reader = await _reader(site, request, site.tokens.subscriber_id)
    if isinstance(reader, Response):
        return reader
    if form.get("action") == "resubscribe":
        await site.query(lambda db: set_status(db, reader.id, "active", site.clock()))
        notice = "Welcome back: you are subscribed again."
    else:
        try:
            topics, frequency, weekday = _preference_fields(site, form)
        except FormError as error:
            return _preferences(site, request, reader, notice=str(error), status=400)
        # A form without the updates box (an older page) leaves the choice as it was.
        updates = "updates" in form if "updates_asked" in form else None
        await site.query(
            lambda db: update_preferences(
                db,
                reader.id,
                topics=topics,
                frequency=frequency,
                weekday=weekday,
                updates=updates,
            )
        )
        notice = "Saved. Your next mail follows these settings."
    updated = await site.query(lambda db: get_subscriber(db, reader.id))
    return _preferences(site, request, updated or reader, notice=notice)


def _preference_fields(site: Site, form: FormData) -> tuple[list[str], str, int]:
    topics = choices(form, "topics", {topic.slug for topic in site.settings.topics})
    frequency = text_field(form, "frequency", 20)
    if frequency not in FREQUENCIES:
        raise FormError("Choose daily, weekly or paused.")
    return topics, frequency, _weekday(form)
