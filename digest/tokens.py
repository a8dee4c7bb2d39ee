"""Signed tokens for links in mail and pages (unsubscribe, preferences, browser copy, confirm) and forms.

Tokens are HMAC-signed with the site secret (itsdangerous), so a reader can
only act on their own subscription; a forged or altered token fails the
signature check (a constant-time comparison). Confirmation tokens expire;
unsubscribe tokens do not, because a mail from last year must still let its
reader leave (RFC 8058).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

from .clock import utc_now
from .errors import DigestError

CONFIRM_MAX_AGE = 3 * 24 * 3600  # a sign-up link is good for three days


class TokenError(DigestError):
    """The token is not one of ours, was altered, or has expired."""


def load_secret(configured: str, path: Path) -> str:
    """The configured secret, else one generated once and kept in ``path`` (``secret.key``)."""
    if configured:
        return configured
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret


def _seconds_now() -> float:
    return utc_now().timestamp()


class Tokens:
    def __init__(self, secret: str, *, clock: Callable[[], float] = _seconds_now) -> None:
        """``clock`` (seconds since the epoch) stamps and ages confirmation tokens."""
        self._subscriber = URLSafeSerializer(secret, salt="digest.subscriber")
        self._copy = URLSafeSerializer(secret, salt="digest.copy")
        self._confirm = URLSafeTimedSerializer(
            secret, salt="digest.confirm", signer=_clocked_signer(clock)
        )
        self._feed = URLSafeSerializer(secret, salt="digest.reader-feed")
        self._form = URLSafeTimedSerializer(
            secret, salt="digest.form", signer=_clocked_signer(clock)
        )

    def for_subscriber(self, subscriber_id: int) -> str:
        """Unsubscribe and preferences: opaque, per reader, no expiry."""
        return str(self._subscriber.dumps(subscriber_id))

    def subscriber_id(self, token: str) -> int:
        try:
            value = self._subscriber.loads(token)
        except BadSignature as error:
            raise TokenError("this link is not valid (it may have been altered)") from error
        if not isinstance(value, int):
            raise TokenError("this link is not valid")
        return value

    def for_feed(self, subscriber_id: int, generation: int) -> str:
        """A reader's private feed: no expiry; a new generation (unsubscribing) revokes it."""
        return str(self._feed.dumps([subscriber_id, generation]))

    def feed_owner(self, token: str) -> tuple[int, int]:
        """(subscriber id, generation) of a feed token; TokenError when it is not ours."""
        try:
            value = self._feed.loads(token)
        except BadSignature as error:
            raise TokenError("this feed address is not valid") from error
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(part, int) and not isinstance(part, bool) for part in value)
        ):
            raise TokenError("this feed address is not valid")
        return value[0], value[1]

    def for_copy(self, subscriber_id: int, after_digest: int, through_digest: int) -> str:
        """A reader's browser copy of one mail (the digests after one, through another)."""
        return str(self._copy.dumps([subscriber_id, after_digest, through_digest]))

    def copy_of(self, token: str) -> tuple[int, int, int]:
        """``(subscriber id, after digest, through digest)`` of a browser-copy token."""
        try:
            value = self._copy.loads(token)
        except BadSignature as error:
            raise TokenError("this link is not valid (it may have been altered)") from error
        if not (
            isinstance(value, list)
            and len(value) == 3
            and all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        ):
            raise TokenError("this link is not valid")
        return value[0], value[1], value[2]

    def for_confirmation(self, subscriber_id: int, pending_since: str | None) -> str:
        """A sign-up link, bound to the sign-up it confirms (when the reader became pending)."""
        return str(self._confirm.dumps([subscriber_id, pending_since]))

    def confirmation(self, token: str, max_age: int = CONFIRM_MAX_AGE) -> tuple[int, str | None]:
        """(reader id, pending since) of a sign-up link; TokenError when forged or expired."""
        try:
            value = self._confirm.loads(token, max_age=max_age)
        except SignatureExpired as error:
            raise TokenError("this confirmation link has expired; please sign up again") from error
        except BadSignature as error:
            raise TokenError("this confirmation link is not valid") from error
        if isinstance(value, int):  # a link mailed before links named their sign-up
            return value, None
        if (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], int)
            and isinstance(value[1], str | None)
        ):
            return value[0], value[1]
        raise TokenError("this confirmation link is not valid")

    def confirmed_id(self, token: str, max_age: int = CONFIRM_MAX_AGE) -> int:
        return self.confirmation(token, max_age)[0]

    def for_form(self, nonce: str) -> str:
        """``nonce`` signed and time-stamped: the value of the CSRF cookie (web/security.py)."""
        return str(self._form.dumps(nonce))

    def form_stamp(self, token: str) -> int:
        """When a :meth:`for_form` token was signed (seconds since the epoch); TokenError when
        it is not ours."""
        try:
            _value, signed = self._form.loads(token, return_timestamp=True)
        except BadSignature as error:
            raise TokenError("this form is not ours") from error
        return int(signed.timestamp())


def _clocked_signer(clock: Callable[[], float]) -> type[TimestampSigner]:
    """itsdangerous reads ``time.time()`` itself; this signer asks the injected clock instead."""

    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    return ClockedSigner
