"""The SMTP transport: settings from the environment, one reused connection, honest outcomes.

`SmtpTransport.send()` runs one SMTP transaction and says what became of it:

- `sent`: the server answered 250 to the end of the message;
- `temporary`: a 4xx (or repeated 421s / dropped connections before the message was complete):
  nothing was delivered, try again later;
- `permanent`: a 5xx for this recipient or this message (`stage` says which: `rcpt` is a hard
  bounce of the address, `data` a refusal of the message);
- `uncertain`: the connection broke after the whole message was sent but before the server's
  answer, so it may or may not have been accepted — never retried automatically.

A 421 or a dropped connection before the end of the message reconnects and tries again (bounded,
with exponential backoff). Problems that are not about one recipient — cannot connect, login
refused, the sender address refused — raise `TransportError`.

Credentials are sent only over TLS (`smtps://`, or STARTTLS on `smtp://`), except to a server on
loopback; the password is never part of a message or a URL shown to anyone.
"""

from __future__ import annotations

import ipaddress
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from nyhetsbrev.errors import DeliveryError

URL_ENV = "NYHETSBREV_SMTP_URL"
PASSWORD_ENV = "NYHETSBREV_SMTP_PASSWORD"
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
Outcome = Literal["sent", "temporary", "permanent", "uncertain"]
NO_SMTPUTF8 = (
    "the SMTP server does not offer SMTPUTF8, which an address with non-ASCII characters "
    "needs — ask the person for a plain-ASCII address, or send through a server that offers it"
)
Stage = Literal["connect", "mail", "rcpt", "data", "message"]


class TransportError(DeliveryError):
    """The SMTP server cannot be used at all (connection, TLS, login, sender refused)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to submit mail; `display` is safe to print (it has no password)."""

    scheme: Literal["smtp", "smtps"]
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0

    @property
    def display(self) -> str:
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}"

    @property
    def security(self) -> str:
        """How the connection is protected, in words."""
        if self.scheme == "smtps":
            return "TLS"
        return "plain, loopback only" if self.loopback else "STARTTLS"

    @property
    def loopback(self) -> bool:
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read `NYHETSBREV_SMTP_URL` and `NYHETSBREV_SMTP_PASSWORD`."""
        env = os.environ if environ is None else environ
        url = env.get(URL_ENV, "").strip()
        if not url:
            raise DeliveryError(
                f"{URL_ENV} is not set: say which SMTP server sends the newsletter, e.g. "
                f"export {URL_ENV}=smtp://kom@politiet.no@smtp.office365.com:587 and the password "
                f"in {PASSWORD_ENV} — see docs/operations.md"
            )
        return cls.parse(url, env.get(PASSWORD_ENV) or None)

    @classmethod
    def parse(cls, url: str, password: str | None = None) -> SmtpSettings:
        """`smtp://user@host:587` (STARTTLS), `smtps://user@host:465` (TLS), `smtp://127.0.0.1:2525`."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise DeliveryError(f"{URL_ENV} is not a valid URL: {_redact(url)}") from None
        if parts.scheme not in DEFAULT_PORTS:
            raise DeliveryError(
                f'{URL_ENV} must start with smtp:// (STARTTLS) or smtps:// (TLS), not "'
                f'{parts.scheme}://" — e.g. smtp://user@smtp.office365.com:587'
            )
        if parts.password is not None:
            raise DeliveryError(
                f"{URL_ENV} contains a password: remove it from the URL and set it in "
                f"{PASSWORD_ENV} instead (the URL is printed; the password never is)"
            )
        if not parts.hostname:
            raise DeliveryError(f"{URL_ENV} names no host: {_redact(url)}")
        username = unquote(parts.username) if parts.username else None
        if username and not password:
            raise DeliveryError(
                f"{URL_ENV} names the user {username} but {PASSWORD_ENV} is not set: set it to "
                "that account's password (or an app password)"
            )
        scheme: Literal["smtp", "smtps"] = "smtps" if parts.scheme == "smtps" else "smtp"
        return cls(scheme, parts.hostname, port or DEFAULT_PORTS[scheme], username, password)


@dataclass(frozen=True)
class SendResult:
    """What happened to one message: outcome, SMTP code, the server's words, at which step."""

    outcome: Outcome
    code: int
    reply: str
    stage: Stage

    @property
    def hard_bounce(self) -> bool:
        """The server refused the address itself (a 5xx to RCPT TO)."""
        return self.outcome == "permanent" and self.stage == "rcpt"


class _Reconnect(Exception):
    def __init__(self, code: int, reply: str, stage: Stage) -> None:
        super().__init__(reply)
        self.code, self.reply, self.stage = code, reply, stage


class SmtpTransport:
    """One SMTP connection, opened on first use and reused; a context manager."""

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        helo: str | None = None,
        attempts: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.helo = helo
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._sleep = sleep
        self._smtp: smtplib.SMTP | None = None
        self.connections = 0

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect (retrying with backoff), secure the connection and log in."""
        last: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            try:
                self._smtp = self._connect()
                self.connections += 1
                return
            except ssl.SSLError as exc:
                raise TransportError(
                    f"TLS with {self.settings.display} failed: {exc.reason or exc} — check the "
                    f"host name in {URL_ENV} (the server's certificate must match it)"
                ) from None
            except (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as exc:
                last = exc
        reason = getattr(last, "strerror", None) or str(last) or type(last).__name__
        raise TransportError(
            f"cannot connect to {self.settings.display} ({self.attempts} tries): {reason} — "
            f"check {URL_ENV} and that the server is reachable from this machine"
        )

    def close(self) -> None:
        """Say QUIT (politely, ignoring errors) and close the connection."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def send(self, sender: str, recipient: str, data: bytes) -> SendResult:
        """One transaction: MAIL FROM `sender`, RCPT TO `recipient`, DATA `data` (CRLF lines)."""
        body = _dot_stuff(data)
        last = _Reconnect(0, "", "connect")
        for attempt in range(self.attempts):
            if attempt > 1:  # the first reconnect is at once: servers close idle connections
                self._sleep(self.backoff * 2 ** (attempt - 2))
            if self._smtp is None:
                self.open()
            try:
                return self._transaction(sender, recipient, body)
            except _Reconnect as signal:
                self._drop()
                last = signal
        return SendResult("temporary", last.code or 421, last.reply, last.stage)

    def _transaction(self, sender: str, recipient: str, body: bytes) -> SendResult:
        smtp = self._smtp
        assert smtp is not None
        options: list[str] = []
        if not (sender.isascii() and recipient.isascii()):  # RFC 6531: only with SMTPUTF8
            if not smtp.has_extn("smtputf8"):
                return SendResult("permanent", 0, f"not sent: {NO_SMTPUTF8}", "mail")
            options = ["SMTPUTF8"]
        code, reply = self._command(lambda: smtp.mail(sender, options), "mail")
        if code >= 500:
            self._rset()
            raise TransportError(
                f"the SMTP server {self.settings.display} refused the sender {sender}: {reply} — "
                "check that the account may send as the publication's sender address"
            )
        if code >= 400:
            self._rset()
            return SendResult("temporary", code, reply, "mail")
        code, reply = self._command(lambda: smtp.rcpt(recipient), "rcpt")
        if code >= 400:
            self._rset()
            return SendResult("temporary" if code < 500 else "permanent", code, reply, "rcpt")
        code, reply = self._command(lambda: smtp.docmd("DATA"), "data")
        if code != 354:
            self._rset()
            return SendResult("temporary" if code < 500 else "permanent", code, reply, "data")
        try:
            smtp.send(body)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            # the end-of-data dot never fully left: the server cannot have accepted the message
            raise _Reconnect(421, f"connection lost while sending: {exc}", "message") from None
        try:
            code, raw = smtp.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._drop()
            return SendResult("uncertain", 0, f"no answer after the message: {exc}", "message")
        reply = _reply(code, raw)
        if code == 421:
            raise _Reconnect(code, reply, "message")
        if 200 <= code < 300:
            return SendResult("sent", code, reply, "message")
        self._rset()
        return SendResult("temporary" if code < 500 else "permanent", code, reply, "message")

    def _command(self, call: Callable[[], tuple[int, bytes]], stage: Stage) -> tuple[int, str]:
        try:
            code, raw = call()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise _Reconnect(421, f"connection lost: {exc}", stage) from None
        reply = _reply(code, raw)
        if code == 421:
            raise _Reconnect(code, reply, stage)
        return code, reply

    def _rset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(
                s.host, s.port, local_hostname=self.helo, timeout=s.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, local_hostname=self.helo, timeout=s.timeout)
        try:
            smtp.ehlo()
            encrypted = s.scheme == "smtps"
            if not encrypted and not s.loopback:
                if not smtp.has_extn("starttls"):
                    raise TransportError(
                        f"{s.display} does not offer STARTTLS, so the connection would not be "
                        "encrypted — use the server's submission port (587, STARTTLS) or smtps:// "
                        "(465); nyhetsbrev only talks unencrypted SMTP to a server on loopback"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
                encrypted = True
            if s.username:
                check_credentials_allowed(s, encrypted)
                self._login(smtp)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        s = self.settings
        assert s.username is not None and s.password is not None
        try:
            smtp.login(s.username, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportError(
                f"{s.display} refused the login for {s.username}: "
                f"{_reply(exc.smtp_code, exc.smtp_error)} — check {PASSWORD_ENV}; with Microsoft "
                "365, authenticated SMTP must be enabled for the mailbox"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise TransportError(
                f"{s.display} offers no login (AUTH): remove the user name from {URL_ENV}, or "
                "use the server's submission port"
            ) from None


def check_credentials_allowed(settings: SmtpSettings, encrypted: bool) -> None:
    """Refuse to send a password over an unencrypted connection, except to loopback."""
    if settings.username and not encrypted and not settings.loopback:
        raise TransportError(
            f"refusing to send the password for {settings.username} to {settings.display} over "
            "an unencrypted connection — use STARTTLS (smtp://…:587) or smtps://…:465"
        )


class RateLimiter:
    """At most `per_minute` message starts a minute, evenly spaced (0 = no limit)."""

    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._clock = clock
        self._next = 0.0

    def delay(self) -> float:
        """Seconds to wait before the next message may start (0 when it may start now)."""
        return max(0.0, self._next - self._clock())

    def started(self) -> None:
        """Record that a message starts now."""
        self._next = max(self._clock(), self._next) + self.interval


def _reply(code: int, raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return f"{code} {' '.join(text.split())}".strip()


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _dot_stuff(data: bytes) -> bytes:
    """RFC 5321 transparency: double a leading dot; end with CRLF . CRLF."""
    body = data
    if data.startswith(b".") or b"\n." in data:  # a fast scan first: most messages have none
        body = _LEADING_DOT.sub(b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _redact(url: str) -> str:
    return re.sub(r"//([^/@:]*):[^/@]*@", r"//\1:***@", url)
