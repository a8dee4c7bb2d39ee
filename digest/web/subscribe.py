"""Sign-up with double opt-in, one-click unsubscribe (RFC 8058), and the preferences page.

- ``POST /subscribe`` answers the same page whatever the address's state, and
  mails after the answer is sent (a background task), so neither the words nor
  the timing say whether an address is already subscribed. A new or returning
  address is stored ``pending`` (origin ``web``) and gets a signed link that
  expires; an active one gets nothing and keeps its preferences.
- ``GET /confirm/<token>`` shows a button; only its ``POST`` confirms, because
  mail link scanners fetch every link they see.
- ``POST /unsubscribe/<token>`` with ``List-Unsubscribe=One-Click`` unsubscribes
  at once: no cookie, CSRF token, login, redirect or second step; the signed
  token is the authority. ``GET`` shows a page with the same button. Both are
  idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ..history.subscribers import (
    Subscriber,
    add_subscriber,
    find_subscriber,
    get_subscriber,
    set_status,
    update_preferences,
)
from ..locations import urls
from ..pipeline.readers import WEEKDAYS, SubscriberError, normalise_address
from ..render.confirmation import Confirmation
from ..tokens import TokenError
from .confirmation import send_confirmation
from .context import NO_STORE, Site, client_address, site_of
from .pages import subscribe_form_context
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


async def subscribe_page(request: Request) -> Response:
    site = site_of(request)
    return site.page(request, "subscribe.html.j2", subscribe_form_context(site), form=True)


async def subscribe(request: Request) -> Response:
    site = site_of(request)
    form = await _form(request)
    if not site.csrf.check(request, form):
        return _refused(site, request)
    wait = site.by_client.hit(client_address(request))
    if wait:
        return _too_many(site, request, wait)
    typed = str(form.get("email") or "")[: site.limits.email_chars]
    try:
        address, topics, frequency = _sign_up_fields(site, form)
    except (FormError, SubscriberError) as error:
        context = subscribe_form_context(site, email=typed, error=_sentence(error))
        return site.page(request, "subscribe.html.j2", context, status=400, form=True)
    wait = site.by_address.hit(address.lower())
    if wait:
        return _too_many(site, request, wait)
    task = BackgroundTask(_sign_up, site, address, topics, frequency)
    response = site.page(request, "check_inbox.html.j2", {"email": address}, cache=NO_STORE)
    response.background = task
    return response


def _sign_up_fields(site: Site, form: FormData) -> tuple[str, list[str], str]:
    address = normalise_address(text_field(form, "email", site.limits.email_chars))
    topics = choices(form, "topics", {topic.slug for topic in site.settings.topics})
    frequency = text_field(form, "frequency", 20, required=False) or "daily"
    if frequency not in SIGN_UP_FREQUENCIES:
        raise FormError("Choose daily or weekly.")
    return address, topics, frequency


def _sentence(error: Exception) -> str:
    if isinstance(error, SubscriberError):
        # email-validator's reason (the cause), without an echo of what was typed.
        reason = str(error.__cause__ or "it does not look like one")
        return f"That is not an email address we can send to: {reason}"
    return str(error)


def _sign_up(site: Site, address: str, topics: list[str], frequency: str) -> None:
    """After the answer went out: store the sign-up and mail the link (or do nothing)."""
    now = site.clock()
    db = site.open_db()
    try:
        existing = find_subscriber(db, address)
        if existing is not None and existing.status == "active":
            log.info("sign-up for %s: already a reader; nothing sent", address)
            return
        reader, _ = add_subscriber(
            db, address, now=now, topics=topics, frequency=frequency, status="pending", origin="web"
        )
    finally:
        db.close()
    token = site.tokens.for_confirmation(reader.id)
    confirmation = Confirmation(
        address=reader.email,
        confirm_url=urls(site.settings).confirm(token),
        topics=_topic_titles(site, reader.topics),
        frequency=frequency,
    )
    send_confirmation(site.settings, site.transport_factory(site.settings), confirmation, now=now)


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
    context = {"email": reader.email, "action": request.url.path, "done": reader.status == "active"}
    return site.page(request, "confirm.html.j2", context, form=True, headers=_ROBOTS)


async def confirm(request: Request) -> Response:
    site = site_of(request)
    form = await _form(request)
    if not site.csrf.check(request, form):
        return _refused(site, request)
    reader = await _reader(site, request, site.tokens.confirmed_id)
    if isinstance(reader, Response):
        return reader
    await site.query(lambda db: set_status(db, reader.id, "active", site.clock()))
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
        "weekdays": [(number, name) for number, name in enumerate(_WEEKDAY_NAMES)],
        "unsubscribe_url": request.url.path.replace("/preferences/", "/unsubscribe/", 1),
    }
    return site.page(
        request, "preferences.html.j2", context, status=status, form=True, headers=_ROBOTS
    )


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
assert len(_WEEKDAY_NAMES) == len(WEEKDAYS)


async def save_preferences(request: Request) -> Response:
    site = site_of(request)
    form = await _form(request)
    if not site.csrf.check(request, form):
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
    weekday = text_field(form, "weekday", 2, required=False) or "0"
    if not weekday.isdigit() or not 0 <= int(weekday) <= 6:
        raise FormError("Choose a day of the week.")
    return topics, frequency, int(weekday)
