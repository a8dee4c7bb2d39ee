"""What keeps the public pages safe: CSRF tokens, rate limits, body limits, security headers.

- CSRF: a signed double-submit token. The browser holds a random nonce in an
  HttpOnly, SameSite=Lax cookie; every form carries that nonce signed with the
  site secret and time-stamped (:meth:`~digest.tokens.Tokens.for_form`). A
  cross-site POST carries no cookie (SameSite) and cannot forge the signature.
  The RFC 8058 unsubscribe POST is the exception by design: its signed path
  token is the authority, and it must work without cookies.
- Rate limits: a sliding window per key (client address, mailbox), kept in
  SQLite (:mod:`digest.history.limits`) so a restart does not reset them.
- Limits on input: request bodies, form fields and path tokens have a size cap.
- Headers on every response: a strict CSP, no framing, no sniffing, no referrer
  (pages carry tokens in their URLs, which must not leak to linked sites).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..tokens import TokenError, Tokens

CSRF_COOKIE = "digest_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 12 * 3600  # a form left open over lunch still works; one from last week does not

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
    """Issue and check signed double-submit tokens (see the module docstring)."""

    def __init__(self, tokens: Tokens, *, secure: bool) -> None:
        self._tokens = tokens
        self._secure = secure

    def nonce(self, request: Request) -> tuple[str, bool]:
        """The browser's nonce, and whether it is new (the response must set the cookie)."""
        current = request.cookies.get(CSRF_COOKIE, "")
        if 20 <= len(current) <= 64 and current.replace("-", "").replace("_", "").isalnum():
            return current, False
        return secrets.token_urlsafe(24), True

    def token(self, nonce: str) -> str:
        return self._tokens.for_form(nonce)

    def set_cookie(self, response: Response, nonce: str) -> None:
        response.set_cookie(
            CSRF_COOKIE, nonce, httponly=True, samesite="lax", secure=self._secure, path="/"
        )

    def check(self, request: Request, form: FormData) -> bool:
        """True when the form's token was signed by us, recently, for this browser's cookie."""
        if request.headers.get("sec-fetch-site") == "cross-site":
            return False
        cookie = request.cookies.get(CSRF_COOKIE, "")
        token = form.get(CSRF_FIELD)
        if not cookie or not isinstance(token, str) or len(token) > 200:
            return False
        try:
            nonce = self._tokens.form_nonce(token, max_age=CSRF_MAX_AGE)
        except TokenError:
            return False
        return secrets.compare_digest(nonce.encode(), cookie.encode())


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


class SecurityHeaders:
    """Add the security headers to every response that does not set them itself.

    HSTS goes only on responses to requests that came over https (RFC 6797
    §7.2: never over plain HTTP); behind a proxy uvicorn takes the scheme from
    ``X-Forwarded-Proto`` of a trusted proxy (``--forwarded-allow-ips``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.by_scheme = {
            secure: [
                (name.encode(), value.encode())
                for name, value in security_headers(hsts=secure).items()
            ]
            for secure in (False, True)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.by_scheme[scope.get("scheme") == "https"]

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
