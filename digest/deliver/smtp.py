"""SMTP transport: one connection reused for a batch, TLS always, answers classified.

``smtp://user:pass@host:587`` requires STARTTLS (never plaintext AUTH);
``smtps://host:465`` is implicit TLS; ``smtp://host:25?tls=off`` is allowed only
for a relay on a loopback address and never with credentials (a local Postfix).
A 4xx answer or a dropped connection is transient (the ledger retries it); a
5xx answer for a recipient is permanent, with the relay's words kept.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import (
    ConfigError,
    PermanentDeliveryError,
    RelayTimeoutError,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "starttls" | "tls" | "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    rate: float = 0.0  # messages per second; 0 = as fast as the relay takes them
    batch_size: int = 200  # reconnect after this many messages (relays cap per-connection counts)


def parse_smtp_url(
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    rate: float = 0.0,
    batch_size: int = 200,
    timeout: float = 30.0,
) -> SmtpSettings:
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            f"mail.smtp_url: {_redact(url)!r} is not smtp://host:port or smtps://host:port"
        )
    user = unquote(parts.username) if parts.username else username
    secret = unquote(parts.password) if parts.password else password
    if parts.scheme == "smtps":
        security = "tls"
    elif query.get("tls", "").lower() in ("off", "no", "false", "0"):
        security = "none"
    else:
        security = "starttls"
    if security == "none":
        _check_plain_allowed(parts.hostname, user)
    port = parts.port or (465 if security == "tls" else 587 if security == "starttls" else 25)
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        security=security,
        username=user,
        password=secret,
        rate=rate,
        batch_size=batch_size,
        timeout=timeout,
    )


def _check_plain_allowed(host: str, user: str | None) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"mail.smtp_url: tls=off is only allowed for a relay on a loopback address, not {host}"
        )
    if user:
        raise ConfigError(
            "mail.smtp_url: tls=off cannot be combined with a user name: AUTH is never sent in clear"
        )


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


@dataclass
class SmtpTransport:
    settings: SmtpSettings
    connect: Callable[[SmtpSettings], smtplib.SMTP] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _connection: smtplib.SMTP | None = field(default=None, init=False)
    _sent_on_connection: int = field(default=0, init=False)
    _last_send: float | None = field(default=None, init=False)

    def send(self, message: bytes, *, sender: str, recipient: str, message_id: str) -> str:
        self._pace()
        for attempt in (1, 2):
            connection = self._open(recipient)
            try:
                refused = connection.sendmail(sender, [recipient], message)
            except smtplib.SMTPServerDisconnected as error:
                self._drop()
                if _timed_out(error):
                    # A relay that does not answer would not answer a second connection either.
                    raise self._timeout(recipient) from error
                # The relay dropped us (idle timeout, per-connection cap): reconnect once.
                if attempt == 2:
                    raise TransientDeliveryError(
                        f"connection lost: {error}", recipient=recipient
                    ) from error
                continue
            except smtplib.SMTPRecipientsRefused as error:
                code, answer = error.recipients.get(recipient, (550, b"refused"))
                raise _classified(code, answer, recipient) from error
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
                raise _classified(error.smtp_code, error.smtp_error, recipient) from error
            except (OSError, smtplib.SMTPException) as error:
                self._drop()
                if _timed_out(error):
                    raise self._timeout(recipient) from error
                raise TransientDeliveryError(
                    f"{type(error).__name__}: {error}", recipient=recipient
                ) from error
            if refused:
                code, answer = refused[recipient]
                raise _classified(code, answer, recipient)
            self._sent_on_connection += 1
            if self._sent_on_connection >= self.settings.batch_size:
                self._drop()
            return f"250 accepted by {self.settings.host}"
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._drop()

    def _open(self, recipient: str) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        try:
            self._connection = (self.connect or _connect)(self.settings)
        except smtplib.SMTPAuthenticationError as error:
            raise TransientDeliveryError(
                f"the relay refused the login ({error.smtp_code} {_text(error.smtp_error)}); "
                "check mail.smtp_url credentials",
                recipient=recipient,
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            if _timed_out(error):
                raise self._timeout(recipient) from error
            raise TransientDeliveryError(
                f"cannot reach the relay {self.settings.host}:{self.settings.port}: {error}",
                recipient=recipient,
            ) from error
        self._sent_on_connection = 0
        return self._connection

    def _timeout(self, recipient: str) -> RelayTimeoutError:
        return RelayTimeoutError(
            f"the relay {self.settings.host}:{self.settings.port} did not answer within "
            f"{self.settings.timeout:g} s (mail.smtp_timeout)",
            recipient=recipient,
        )

    def _drop(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (OSError, smtplib.SMTPException):
            self._connection.close()
        self._connection = None

    def _pace(self) -> None:
        if self.settings.rate <= 0:
            return
        now = self.clock()
        if self._last_send is not None:
            wait = 1.0 / self.settings.rate - (now - self._last_send)
            if wait > 0:
                self.sleep(wait)
        self._last_send = self.clock()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    # Loading the CA store takes ~15 ms: only when TLS is used (a batch reconnects every
    # mail.batch_size messages, so a plain loopback relay would pay it over and over).
    context = ssl.create_default_context() if settings.security != "none" else None
    connection: smtplib.SMTP
    if settings.security == "tls":
        connection = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    connection.ehlo()
    if settings.security == "starttls":
        if not connection.has_extn("starttls"):
            connection.close()
            raise smtplib.SMTPNotSupportedError(
                f"{settings.host} does not offer STARTTLS; refusing to send in clear "
                "(use smtps:// or a relay that supports TLS)"
            )
        connection.starttls(context=context)
        connection.ehlo()
    if settings.username:
        connection.login(settings.username, settings.password or "")
    return connection


def _timed_out(error: BaseException) -> bool:
    """smtplib turns a read timeout into SMTPServerDisconnected; the timeout is its context."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _classified(
    code: int, answer: bytes | str, recipient: str
) -> TransientDeliveryError | PermanentDeliveryError:
    text = f"{code} {_text(answer)}"
    if 400 <= code < 500:
        return TransientDeliveryError(f"relay answered {text}", recipient=recipient)
    return PermanentDeliveryError(f"relay answered {text}", recipient=recipient)


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
