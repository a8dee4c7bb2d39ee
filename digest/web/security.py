"""What keeps the public pages safe: CSRF checks, rate limits, body limits, security headers.

- CSRF (docs/security.md has the threat model): no secret in any page, so the
  home page is the same bytes for everyone and can carry an ETag. A form POST
  (sign-up, confirm, preferences) is accepted only when

  1. the browser says it came from this origin: ``Sec-Fetch-Site`` is
     ``same-origin`` (or ``none``: the user's own action); without that
     header, an ``Origin`` must be ``[site] base_url``'s origin or the
     request's own; with neither header the request is not from a browser
     that could have been tricked into it (every browser since 2020 sends one);
  2. and it carries our CSRF cookie: signed with the site secret, at most
     ``CSRF_MAX_AGE`` old, ``SameSite=Lax`` and ``HttpOnly``, set by the pages
     with a form. A cross-site POST carries no Lax cookie, which covers the
     older browsers that send neither header but honour SameSite.

  A cross-site page can neither choose those headers nor read or set the
  cookie. The cookie is not per browser (one signed stamp, renewed every
  ``COOKIE_REISSUE`` seconds): it is not a secret, only proof that this
  site set it recently in a same-site context. The RFC 8058 unsubscribe POST
  is the exception by design: its signed path token is the authority, and it
  must work without cookies.
- Rate limits: a sliding window per key (client address, mailbox), kept in
  SQLite (:mod:`digest.history.limits`) so a restart does not reset them.
- Limits on input: request bodies, form fields and path tokens have a size cap.
- Headers on every response: a strict CSP, no framing, no sniffing, no referrer
  (pages carry tokens in their URLs, which must not leak to linked sites).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..tokens import TokenError, Tokens

CSRF_COOKIE = "digest_csrf"
CSRF_FIELD = "csrf_token"  # no form sends it any more; templates written for older versions may
CSRF_MAX_AGE = 12 * 3600  # a form left open over lunch still works; one from last week does not
COOKIE_NONCE = "same-site"  # what the cookie signs: only who signed it, and when, matters
COOKIE_REISSUE = 600  # seconds one signed cookie value is handed out before the next
_STAMPS_KEPT = 256

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


class FormError(ValueError):
    """A form field is missing, too long or not one of the allowed values (a 400, with a message)."""


@dataclass(frozen=True)
class Limits:
    """Rate and size limits of the public endpoints; tests pass smaller ones."""

    subscribe_per_address: int = 3  # sign-ups (so confirmation mails) to one mailbox ...
    address_window: float = 24 * 3600  # ... per this many seconds
    reminders_per_address: int = 1  # "you already get it" mails to one reader per address_window
    subscribe_per_client: int = 10  # sign-up attempts from one client address ...
    client_window: float = 3600  # ... per this many seconds
    body_bytes: int = 16 * 1024  # no form of ours is anywhere near this
    email_chars: int = 254  # RFC 5321 §4.5.3.1.3: the longest path
    field_chars: int = 200
    token_chars: int = 400


class Csrf:
    """Check that a form POST came from our own pages (see the module docstring)."""

    def __init__(
        self, tokens: Tokens, *, secure: bool, origin: str, clock: Callable[[], float]
    ) -> None:
        """``origin``: ``[site] base_url``'s scheme://host[:port]; ``clock``: epoch seconds."""
        self._tokens = tokens
        self._secure = secure
        self._origin = origin
        self._clock = clock
        self._issued: tuple[float, bytes] | None = (
            None  # (when, Set-Cookie) of the cookie handed out
        )
        self._stamps: dict[str, int | None] = {}  # cookie value → when signed (None: not ours)

    def check(self, request: Request) -> bool:
        """True when the request came from this origin and carries a recent cookie of ours."""
        stamp = self._stamp(request.cookies.get(CSRF_COOKIE, ""))
        return (
            same_origin(request, self._origin)
            and stamp is not None
            and self._clock() - stamp <= CSRF_MAX_AGE
        )

    def needs_cookie(self, request: Request) -> bool:
        return self.needs_cookie_value(request.cookies.get(CSRF_COOKIE, ""))

    def needs_cookie_value(self, cookie: str) -> bool:
        """A page with a form renews a cookie that is missing, not ours, or half-way to expiry,
        so a form it shows keeps working for at least half of ``CSRF_MAX_AGE``."""
        stamp = self._stamp(cookie)
        return stamp is None or self._clock() - stamp > CSRF_MAX_AGE / 2

    def set_cookie(self, response: Response) -> None:
        response.raw_headers.append((b"set-cookie", self.cookie_header()))

    def cookie_header(self) -> bytes:
        """The ``Set-Cookie`` value to hand out now: signed once per ``COOKIE_REISSUE``
        seconds, not per request (signing is the dearest part of answering a kept page)."""
        now = self._clock()
        if self._issued is None or not 0 <= now - self._issued[0] < COOKIE_REISSUE:
            value = self._tokens.for_form(COOKIE_NONCE)
            secure = "; Secure" if self._secure else ""
            header = f"{CSRF_COOKIE}={value}; HttpOnly; Path=/; SameSite=lax{secure}"
            self._issued = (now, header.encode("latin-1"))
        return self._issued[1]

    def _stamp(self, cookie: str) -> int | None:
        """When we signed ``cookie``; None when it is not ours. Remembered: there are few values."""
        if not cookie or len(cookie) > 200:
            return None
        if cookie not in self._stamps:
            if len(self._stamps) >= _STAMPS_KEPT:
                self._stamps.clear()  # forged values cannot grow this without bound
            try:
                self._stamps[cookie] = self._tokens.form_stamp(cookie)
            except TokenError:
                self._stamps[cookie] = None
        return self._stamps[cookie]


def same_origin(request: Request, origin: str) -> bool:
    """What the browser says about where a request came from (Fetch Metadata, then Origin).

    ``Sec-Fetch-Site`` decides when present: ``same-site`` is refused too, since a
    sibling subdomain is another party. Else ``Origin`` must be ours: the public
    ``origin`` (behind a proxy) or the one the request was addressed to; ``null``
    (a sandboxed frame, a redirect from elsewhere) is not. A request with
    neither header did not come from a browser that sends them, and the
    SameSite cookie is the check that remains.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    sent = request.headers.get("origin")
    if sent is None:
        return True
    host = request.headers.get("host", "")
    return sent == origin or (bool(host) and sent == f"{request.url.scheme}://{host}")


def text_field(form: FormData, name: str, max_chars: int, *, required: bool = True) -> str:
    """One text field, stripped; FormError when missing (and required) or longer than allowed."""
    value = form.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FormError(f"Please fill in the {name} field.")
        return ""
    if not isinstance(value, str):
        raise FormError(f"The {name} field must be text.")
    if len(value) > max_chars:
        raise FormError(f"The {name} field is too long (at most {max_chars} characters).")
    return value.strip()


def choices(form: FormData, name: str, allowed: Mapping[str, object] | set[str]) -> list[str]:
    """Every value given for a multi-valued field, each one of ``allowed``."""
    values = [value for value in form.getlist(name) if isinstance(value, str)]
    if len(values) > len(allowed) or any(value not in allowed for value in values):
        raise FormError(f"Unknown {name} chosen.")
    return sorted(set(values))


def security_headers(*, hsts: bool) -> dict[str, str]:
    """The headers every response carries; HSTS only for a request that came over https."""
    headers = {
        "content-security-policy": CSP,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": "interest-cohort=(), browsing-topics=()",
    }
    if hsts:
        headers["strict-transport-security"] = "max-age=31536000"
    return headers


_HEADS_BY_SCHEME = {
    secure: [
        (name.encode(), value.encode()) for name, value in security_headers(hsts=secure).items()
    ]
    for secure in (False, True)
}


def security_heads(scope: Scope) -> list[tuple[bytes, bytes]]:
    """:func:`security_headers` for this request's scheme, as ASGI raw headers (do not modify)."""
    return _HEADS_BY_SCHEME[scope.get("scheme") == "https"]


class SecurityHeaders:
    """Add the security headers to every response that does not set them itself.

    HSTS goes only on responses to requests that came over https (RFC 6797
    §7.2: never over plain HTTP); behind a proxy uvicorn takes the scheme from
    ``X-Forwarded-Proto`` of a trusted proxy (``--forwarded-allow-ips``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = security_heads(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in headers if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before they are parsed."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        too_big = not declared.isdigit() or int(declared) > self.limit
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            if too_big:
                raise HTTPException(413, "This request is too large.")
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, "This request is too large.")
            return message

        await self.app(scope, limited_receive, send)
