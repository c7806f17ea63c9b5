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

STARTTLS is used whenever the server offers it, loopback included; the certificate is always
verified (`NYHETSBREV_SMTP_CA_FILE` adds a CA to trust). Credentials — a password or an OAuth2
token (SASL XOAUTH2, see `oauth.py`) — are sent only over TLS, unless
`NYHETSBREV_SMTP_ALLOW_PLAINTEXT_AUTH=1` allows it to a loopback server; they are never part of
a message or of anything shown to anyone.
"""

from __future__ import annotations

import json
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from nyhetsbrev.delivery.oauth import TokenSource, token_source, xoauth2_string
from nyhetsbrev.delivery.smtpconfig import (
    AUTH_ENV,
    PASSWORD_ENV,
    PLAINTEXT_ENV,
    URL_ENV,
)
from nyhetsbrev.delivery.smtpconfig import (
    SmtpSettings as SmtpSettings,
)
from nyhetsbrev.delivery.tls import certificate_problem, client_context
from nyhetsbrev.errors import DeliveryError

Outcome = Literal["sent", "temporary", "permanent", "uncertain"]
NO_SMTPUTF8 = (
    "the SMTP server does not offer SMTPUTF8, which an address with non-ASCII characters "
    "needs — ask the person for a plain-ASCII address, or send through a server that offers it"
)
Stage = Literal["connect", "mail", "rcpt", "data", "message"]


class TransportError(DeliveryError):
    """The SMTP server cannot be used at all (connection, TLS, login, sender refused)."""


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
        self._context = client_context(settings.ca_file)
        self._tokens: TokenSource | None = (
            token_source(settings.oauth, settings.ca_file) if settings.oauth else None
        )
        self.connections = 0

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect (retrying with backoff), secure the connection and log in.

        A refused OAuth token is retried once with a fresh one; a second refusal is an error.
        """
        for fresh_token in (False, True):
            if fresh_token and self._tokens is not None:
                self._tokens.invalidate()
            try:
                self._smtp = self._connect_retrying()
                self.connections += 1
                return
            except _AuthRefused as refused:
                if fresh_token or self._tokens is None:
                    raise TransportError(self._refusal(refused)) from None

    def _connect_retrying(self) -> smtplib.SMTP:
        s = self.settings
        last: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return self._connect()
            except ssl.SSLError as exc:
                problem = certificate_problem(exc, s.scheme, s.host, s.port, s.timeout)
                raise TransportError(f"TLS with {s.display} failed: {problem}") from None
            except (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as exc:
                last = exc
        reason = getattr(last, "strerror", None) or str(last) or type(last).__name__
        raise TransportError(
            f"cannot connect to {s.display} ({self.attempts} tries): {reason} — "
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
        context = self._context
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
            if not encrypted and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
                encrypted = True
            if not encrypted and not s.loopback:
                raise TransportError(
                    f"{s.display} does not offer STARTTLS, so the connection would not be "
                    "encrypted — use the server's submission port (587, STARTTLS) or smtps:// "
                    "(465); nyhetsbrev only talks unencrypted SMTP to a server on loopback"
                )
            if s.auth != "none":
                check_credentials_allowed(s, encrypted)
                if s.auth == "password":
                    self._login(smtp)
                else:
                    self._xoauth2(smtp)
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
            reply = _reply(exc.smtp_code, exc.smtp_error)
            if "5.7.30" in reply or "basic authentication is not supported" in reply.lower():
                raise TransportError(
                    f"{s.display} no longer takes passwords: {reply} — Microsoft 365 has turned "
                    f"off Basic authentication for SMTP: log in as an app with {AUTH_ENV}=m365 "
                    "(docs/operations.md, Microsoft 365)"
                ) from None
            raise TransportError(
                f"{s.display} refused the login for {s.username}: {reply} — check "
                f"{PASSWORD_ENV}; with Microsoft 365, authenticated SMTP must be enabled for the "
                "mailbox"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise TransportError(
                f"{s.display} offers no login (AUTH): remove the user name from {URL_ENV}, or "
                "use the server's submission port"
            ) from None

    def _xoauth2(self, smtp: smtplib.SMTP) -> None:
        s = self.settings
        assert s.username is not None and self._tokens is not None
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        if "XOAUTH2" not in offered:
            shown = " ".join(offered) or "none"
            raise TransportError(
                f"{s.display} does not offer AUTH XOAUTH2 (it offers: {shown}) — for Microsoft "
                "365 use smtp://…@smtp.office365.com:587, for Google smtp://…@smtp.gmail.com:587"
            )
        token = self._tokens.token()
        said: list[str] = []

        def respond(challenge: bytes | None = None) -> str:
            if challenge is None:
                return xoauth2_string(s.username or "", token)
            said.append(_oauth_challenge(challenge))
            return ""  # an empty response ends the exchange: the server then answers 535

        try:
            smtp.auth("XOAUTH2", respond)
        except smtplib.SMTPAuthenticationError as exc:
            reply = _reply(exc.smtp_code, exc.smtp_error)
            raise _AuthRefused(reply, said[0] if said else "") from None

    def _refusal(self, refused: _AuthRefused) -> str:
        s = self.settings
        detail = f" (the server said: {refused.detail})" if refused.detail else ""
        if s.auth == "m365":
            advice = (
                "the app needs the SMTP.SendAsApp permission with admin consent, a service "
                "principal in Exchange Online (New-ServicePrincipal) and FullAccess to the "
                f"mailbox {s.username} (Add-MailboxPermission); see docs/operations.md, "
                "Microsoft 365"
            )
        else:
            advice = (
                "check that NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND prints a token for that user "
                "with the scope for SMTP (Microsoft: https://outlook.office365.com/.default, "
                "Google: https://mail.google.com/)"
            )
        return (
            f"{s.display} refused the OAuth token for {s.username}, a fresh one too: "
            f"{refused.reply}{detail} — {advice}"
        )


class _AuthRefused(Exception):
    def __init__(self, reply: str, detail: str) -> None:
        super().__init__(reply)
        self.reply, self.detail = reply, detail


def _oauth_challenge(challenge: bytes) -> str:
    """The JSON error a server sends in a 334 after a refused XOAUTH2 token (no token in it)."""
    try:
        data = json.loads(challenge)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return ", ".join(f"{k}={v}" for k, v in data.items() if isinstance(v, str | int))[:200]


def check_credentials_allowed(settings: SmtpSettings, encrypted: bool) -> None:
    """Refuse to send a password or token over an unencrypted connection, unless allowed."""
    if settings.auth != "none" and not encrypted and not settings.allow_plaintext_auth:
        what = "password" if settings.auth == "password" else "token"
        raise TransportError(
            f"refusing to send the {what} for {settings.username} to {settings.display} over "
            "an unencrypted connection — the server offers no STARTTLS: use STARTTLS "
            f"(smtp://…:587) or smtps://…:465; for a relay on this machine only, "
            f"{PLAINTEXT_ENV}=1 allows it"
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
