"""SMTP settings from the environment: the server, how to log in, and which certificates to trust.

`SmtpSettings.from_env()` reads every `NYHETSBREV_SMTP_*` (and, for Microsoft 365,
`NYHETSBREV_M365_*`) setting and refuses an incomplete or contradictory set with a message that
says what to set. Nothing here connects anywhere; `display`, `security` and `login` are safe to
print (no password, token or secret is ever part of them).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from nyhetsbrev.delivery.oauth import (
    TOKEN_COMMAND_ENV,
    M365App,
    TokenCommand,
    m365_from_env,
    token_command_from_env,
)
from nyhetsbrev.errors import DeliveryError

URL_ENV = "NYHETSBREV_SMTP_URL"
PASSWORD_ENV = "NYHETSBREV_SMTP_PASSWORD"
AUTH_ENV = "NYHETSBREV_SMTP_AUTH"
PLAINTEXT_ENV = "NYHETSBREV_SMTP_ALLOW_PLAINTEXT_AUTH"
CA_FILE_ENV = "NYHETSBREV_SMTP_CA_FILE"
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
AuthMode = Literal["none", "password", "xoauth2", "m365"]
AUTH_MODES: tuple[AuthMode, ...] = ("password", "xoauth2", "m365")


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: a server on this machine (credentials may go in clear
    there only when the user says so)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to submit mail; `display` is safe to print (it has no password)."""

    scheme: Literal["smtp", "smtps"]
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    auth: AuthMode = "none"
    oauth: TokenCommand | M365App | None = None
    allow_plaintext_auth: bool = False
    ca_file: Path | None = None

    @property
    def display(self) -> str:
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}"

    @property
    def security(self) -> str:
        """How the connection will be protected, in words (the dry run shows it)."""
        if self.scheme == "smtps":
            return "TLS"
        if not self.loopback:
            return "STARTTLS"
        if self.auth == "none":
            return "STARTTLS when the server offers it, else plain (loopback)"
        if self.allow_plaintext_auth:
            return (
                f"STARTTLS when the server offers it, else plain: {PLAINTEXT_ENV}=1 lets the "
                "login travel unencrypted to this loopback server"
            )
        return "STARTTLS when the server offers it; no login without it"

    @property
    def login(self) -> str:
        """How nyhetsbrev logs in, in words (never the secret itself)."""
        if self.auth == "password":
            return f"password for {self.username} ({PASSWORD_ENV})"
        if isinstance(self.oauth, TokenCommand):
            return f"OAuth2 (XOAUTH2) as {self.username}, token from {self.oauth.program}"
        if isinstance(self.oauth, M365App):
            return f"Microsoft 365 (XOAUTH2) as {self.username}, {self.oauth.describe}"
        return "none"

    @property
    def loopback(self) -> bool:
        return is_loopback_host(self.host)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read `NYHETSBREV_SMTP_URL`, the login settings and the TLS trust settings."""
        env = os.environ if environ is None else environ
        url = env.get(URL_ENV, "").strip()
        if not url:
            raise DeliveryError(
                f"{URL_ENV} is not set: say which SMTP server sends the newsletter, e.g. "
                f"export {URL_ENV}=smtp://kom@politiet.no@smtp.office365.com:587 and the password "
                f"in {PASSWORD_ENV} — see docs/operations.md"
            )
        password = env.get(PASSWORD_ENV) or None
        chosen = env.get(AUTH_ENV, "").strip().lower()
        if chosen and chosen not in AUTH_MODES:
            raise DeliveryError(
                f'{AUTH_ENV} is "{chosen}": choose password, xoauth2 (a token from '
                f"{TOKEN_COMMAND_ENV}) or m365 (Microsoft 365 app credentials)"
            )
        auth = next((mode for mode in AUTH_MODES if mode == chosen), None)
        oauth: TokenCommand | M365App | None = None
        if auth == "xoauth2":
            oauth = token_command_from_env(env)
        elif auth == "m365":
            oauth = m365_from_env(env)
        return cls.parse(
            url,
            password,
            auth=auth,
            oauth=oauth,
            allow_plaintext_auth=_flag(env, PLAINTEXT_ENV),
            ca_file=_ca_file(env),
        )

    @classmethod
    def parse(
        cls,
        url: str,
        password: str | None = None,
        *,
        auth: AuthMode | None = None,
        oauth: TokenCommand | M365App | None = None,
        allow_plaintext_auth: bool = False,
        ca_file: Path | None = None,
    ) -> SmtpSettings:
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
        if auth is None:
            auth = "password" if username else "none"
        if auth == "password" and username and not password:
            raise DeliveryError(
                f"{URL_ENV} names the user {username} but {PASSWORD_ENV} is not set: set it to "
                f"that account's password (or an app password), or log in with a token: "
                f"{AUTH_ENV}=m365 (Microsoft 365) or xoauth2"
            )
        if auth != "none" and not username:
            mailbox = "the mailbox that sends" if auth != "password" else "the account"
            raise DeliveryError(
                f"{URL_ENV} names no user, but {AUTH_ENV}={auth} logs in: put {mailbox} in the "
                f"URL, e.g. smtp://kom%40politiet.no@smtp.office365.com:587"
            )
        if auth in ("xoauth2", "m365") and oauth is None:
            raise DeliveryError(f"{AUTH_ENV}={auth} needs its settings (see docs/operations.md)")
        scheme: Literal["smtp", "smtps"] = "smtps" if parts.scheme == "smtps" else "smtp"
        return cls(
            scheme,
            parts.hostname,
            port or DEFAULT_PORTS[scheme],
            username,
            password if auth == "password" else None,
            auth=auth,
            oauth=oauth if auth in ("xoauth2", "m365") else None,
            allow_plaintext_auth=allow_plaintext_auth,
            ca_file=ca_file,
        )


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "no", "false"):
        return False
    if value in ("1", "yes", "true"):
        return True
    raise DeliveryError(f'{name} is "{value}": set it to 1 (allow) or leave it out')


def _ca_file(env: Mapping[str, str]) -> Path | None:
    value = env.get(CA_FILE_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise DeliveryError(
            f"{CA_FILE_ENV}={value}: no such file — give the path of a PEM file with the "
            "certificate(s) of the CA to trust (in addition to this machine's)"
        )
    return path


def _redact(url: str) -> str:
    return re.sub(r"//([^/@:]*):[^/@]*@", r"//\1:***@", url)


__all__ = [
    "AUTH_ENV",
    "CA_FILE_ENV",
    "DEFAULT_PORTS",
    "PASSWORD_ENV",
    "PLAINTEXT_ENV",
    "URL_ENV",
    "SmtpSettings",
]
