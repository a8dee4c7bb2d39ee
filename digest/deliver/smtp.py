"""SMTP transport: one connection reused for a batch, TLS always, answers classified.

``smtp://user:pass@host:587`` requires STARTTLS (never plaintext AUTH);
``smtps://host:465`` is implicit TLS; ``smtp://host:25?tls=off`` is allowed only
for a relay on a loopback address and never with credentials (a local Postfix).
A 4xx answer or a dropped connection is transient (the ledger retries it); a
5xx answer for a recipient is permanent, with the relay's words kept. A refused
sender or login is neither (:class:`~digest.errors.SenderRefusedError`): no
recipient is at fault, and the drain stops with every mail kept.
"""

from __future__ import annotations

import contextlib
import functools
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
    SenderRefusedError,
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
    _awaiting: bool = field(default=False, init=False)  # a message's answer is still unread

    def send(self, message: bytes, *, sender: str, recipient: str, message_id: str) -> str:
        answer = self.start_send(message, sender=sender, recipient=recipient, message_id=message_id)
        return answer()

    def start_send(
        self,
        message: bytes,
        *,
        sender: str,
        recipient: str,
        message_id: str,
        meanwhile: Callable[[], None] | None = None,
    ) -> Callable[[], str]:
        """Write MAIL, RCPT, DATA and the message through its final dot; return what reads the 250.

        The relay works on the message (a few ms for a digest) while the caller
        composes the next one. Nothing else may be written to the connection
        before the returned callable has read the answer.

        ``meanwhile`` (the drain commits the previous message's outcome with it)
        runs exactly once, before this returns or raises, and always before the
        final dot: right after MAIL is written, while the relay reads it. When
        it raises, the connection is dropped before DATA, so the relay never
        has this message, and its error goes on unchanged.
        """
        if self._awaiting:
            raise RuntimeError("start_send before the previous message's answer was read")
        once = _Once(meanwhile)
        try:
            self._pace()
            answer = self._start(message, sender, recipient, once)
        except BaseException:
            self._settle(once)
            raise
        self._settle(once)
        return answer

    def _settle(self, once: _Once) -> None:
        """Run what is left of ``meanwhile``; if it raises, nothing of this message may go on."""
        try:
            once()
        except BaseException:
            self._drop()  # the relay has at most MAIL FROM: it takes no message
            raise

    def _start(self, message: bytes, sender: str, recipient: str, once: _Once) -> Callable[[], str]:
        for attempt in (1, 2):
            connection = self._open(recipient)
            try:
                _write_message(connection, sender, recipient, message, once)
            except smtplib.SMTPServerDisconnected as error:
                self._drop()
                if _timed_out(error):
                    # A relay that does not answer would not answer a second connection either.
                    raise self._timeout(recipient) from error
                # The relay dropped us (idle timeout, per-connection cap) before it had the
                # message's final dot, so it has not taken it: reconnect once.
                if attempt == 2:
                    raise TransientDeliveryError(
                        f"connection lost: {error}", recipient=recipient
                    ) from error
                continue
            except smtplib.SMTPRecipientsRefused as error:
                code, answer = error.recipients.get(recipient, (550, b"refused"))
                raise _classified(code, answer, recipient) from error
            except smtplib.SMTPSenderRefused as error:
                raise _sender_refused(error, recipient) from error
            except smtplib.SMTPDataError as error:
                raise _classified(error.smtp_code, error.smtp_error, recipient) from error
            except (OSError, smtplib.SMTPException) as error:
                raise self._lost(error, recipient) from error
            except BaseException:
                self._drop()  # ``meanwhile`` raised with MAIL's reply unread
                raise
            self._awaiting = True
            return functools.partial(self._answer, connection, recipient)
        raise AssertionError("unreachable")

    def _answer(self, connection: smtplib.SMTP, recipient: str) -> str:
        """Read the relay's answer to the message written by :meth:`start_send`."""
        self._awaiting = False
        try:
            code, answer = connection.getreply()
        except (OSError, smtplib.SMTPException) as error:
            # The relay had the whole message and may have taken it: never resent at once,
            # the row stays retryable (at most this one message goes out twice).
            raise self._lost(error, recipient) from error
        if code != 250:
            if code == 421:
                self._drop()
            else:
                _reset(connection)
            raise _classified(code, answer, recipient)
        self._sent_on_connection += 1
        if self._sent_on_connection >= self.settings.batch_size:
            self._drop()
        return f"250 accepted by {self.settings.host}"

    def _lost(self, error: BaseException, recipient: str) -> TransientDeliveryError:
        self._drop()
        if _timed_out(error):
            return self._timeout(recipient)
        return TransientDeliveryError(f"{type(error).__name__}: {error}", recipient=recipient)

    def close(self) -> None:
        self._drop()

    def _open(self, recipient: str) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        try:
            self._connection = (self.connect or _connect)(self.settings)
        except smtplib.SMTPAuthenticationError as error:
            raise SenderRefusedError(
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
        self._awaiting = False
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


class _Once:
    """``meanwhile`` of :meth:`SmtpTransport.start_send`, run at most once (None: nothing)."""

    def __init__(self, work: Callable[[], None] | None) -> None:
        self._work = work

    def __call__(self) -> None:
        work, self._work = self._work, None
        if work is not None:
            work()


def _write_message(
    connection: smtplib.SMTP, sender: str, recipient: str, message: bytes, meanwhile: _Once
) -> None:
    """What ``smtplib.SMTP.sendmail`` writes for one recipient, up to the final reply unread.

    The same commands, SIZE option, refusals and bytes on the wire as ``sendmail``
    (see :func:`_data_body`), so splitting the send changes nothing the relay sees,
    but for one RSET: after a refused DATA command (sendmail sends none there).
    ``meanwhile`` runs once MAIL is written, before its reply is read: the
    relay reads and answers MAIL while this process does that work.
    """
    connection.ehlo_or_helo_if_needed()
    options = (
        f" size={len(message)}" if connection.does_esmtp and connection.has_extn("size") else ""
    )
    # SMTP.mail(sender, options) in two halves: the command, then its reply.
    connection.putcmd("mail", f"FROM:{smtplib.quoteaddr(sender)}{options}")
    meanwhile()
    code, answer = connection.getreply()
    if code != 250:
        _closed_or_reset(connection, code)
        raise smtplib.SMTPSenderRefused(code, answer, sender)
    code, answer = connection.rcpt(recipient)
    if code not in (250, 251):
        _closed_or_reset(connection, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, answer)})
    connection.putcmd("data")
    code, answer = connection.getreply()
    if code != 354:
        # Unlike sendmail, end the transaction: a relay that refused DATA (a policy service,
        # a rate limit) keeps MAIL and RCPT, and would answer the next MAIL "503 nested MAIL".
        _closed_or_reset(connection, code)
        raise smtplib.SMTPDataError(code, answer)
    connection.send(_data_body(message))


def _data_body(message: bytes) -> bytes:
    """The message dot-stuffed and terminated, byte for byte as ``smtplib.SMTP.data`` sends bytes.

    Bytes go out as they are (digest's mail already has CRLF line ends); a line
    starting with "." gets a second one (RFC 5321 §4.5.2); then CRLF "." CRLF.
    ``bytes.replace`` finds the lines that smtplib's ``(?m)^\\.`` regex does
    (the start and after each LF) in a tenth of its time, which is spent
    while the relay waits for the body.
    """
    quoted = message.replace(b"\n.", b"\n..")
    if quoted.startswith(b"."):
        quoted = b"." + quoted
    if not quoted.endswith(b"\r\n"):
        quoted += b"\r\n"
    return quoted + b".\r\n"


def _closed_or_reset(connection: smtplib.SMTP, code: int) -> None:
    # As sendmail does: a 421 means the relay is closing; otherwise RSET for the next message.
    if code == 421:
        connection.close()
    else:
        _reset(connection)


def _reset(connection: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPServerDisconnected):  # the next message reconnects
        connection.rset()


def _timed_out(error: BaseException) -> bool:
    """smtplib turns a read timeout into SMTPServerDisconnected; the timeout is its context."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _sender_refused(
    error: smtplib.SMTPSenderRefused, recipient: str
) -> TransientDeliveryError | PermanentDeliveryError:
    """A refused MAIL FROM: about this message only when it is too big (552, SIZE).

    Any other 5xx there refuses the sender itself, whatever the message: it is
    kept for a retry, and the drain stops (:class:`SenderRefusedError`).
    """
    code = error.smtp_code
    if not 500 <= code < 600 or code == 552:
        return _classified(code, error.smtp_error, recipient)
    return SenderRefusedError(
        f"the relay refuses the sender {_text(error.sender)} ({code} {_text(error.smtp_error)}); "
        "check mail.from_address and the login in mail.smtp_url",
        recipient=recipient,
    )


def _classified(
    code: int, answer: bytes | str, recipient: str
) -> TransientDeliveryError | PermanentDeliveryError:
    text = f"{code} {_text(answer)}"
    if 400 <= code < 500:
        return TransientDeliveryError(f"relay answered {text}", recipient=recipient)
    return PermanentDeliveryError(f"relay answered {text}", recipient=recipient)


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
