"""Reading bounces straight from the sender's mailbox over IMAP (imapclient).

Settings come from the environment, never from files:

- `NYHETSBREV_IMAP_URL`: `imaps://user@host/INBOX` (TLS, port 993) or `imap://user@host/INBOX`
  (STARTTLS, port 143); a user name with an `@` may be written as is or as `%40`.
- `NYHETSBREV_IMAP_PASSWORD`, or `NYHETSBREV_IMAP_OAUTH_TOKEN_COMMAND`: a command that prints an
  OAuth2 access token (SASL XOAUTH2, e.g. for Microsoft 365 with the IMAP.AccessAsUser.All or
  IMAP.AccessAsApp scope).
- `NYHETSBREV_IMAP_PLAIN_LOOPBACK=1`: allow `imap://` without STARTTLS, for a server on
  loopback only (tests, a local proxy). Like SMTP, a password never crosses the network in clear.

Messages are read with BODY.PEEK (never marked read). With `--apply`, each message read gets the
keyword `$NyhetsbrevProcessed` (so the next run skips it) and, with `--move-to`, bounces and
auto-replies are moved there (MOVE, or COPY when the server lacks MOVE: the original keeps its
keyword). Nothing is ever deleted.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import ssl
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from nyhetsbrev.delivery.smtpconfig import is_loopback_host
from nyhetsbrev.errors import BouncesError

URL_ENV = "NYHETSBREV_IMAP_URL"
PASSWORD_ENV = "NYHETSBREV_IMAP_PASSWORD"
TOKEN_ENV = "NYHETSBREV_IMAP_OAUTH_TOKEN_COMMAND"
PLAIN_ENV = "NYHETSBREV_IMAP_PLAIN_LOOPBACK"
KEYWORD = "$NyhetsbrevProcessed"
DEFAULT_PORTS = {"imap": 143, "imaps": 993}
BATCH = 100


@dataclass(frozen=True)
class ImapSettings:
    """Where the bounces arrive; `display` is safe to print (no password, no token)."""

    scheme: Literal["imap", "imaps"]
    host: str
    port: int
    username: str
    folder: str
    password: str | None = field(default=None, repr=False)
    token_command: str | None = field(default=None, repr=False)
    plain_loopback: bool = False
    timeout: float = 60.0

    @property
    def display(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{self.username}@{host}:{self.port}/{self.folder}"

    @property
    def loopback(self) -> bool:
        return is_loopback_host(self.host)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ImapSettings:
        env = os.environ if environ is None else environ
        url = env.get(URL_ENV, "").strip()
        if not url:
            raise BouncesError(
                f"{URL_ENV} is not set: say which mailbox receives the bounces, e.g. "
                f"export {URL_ENV}=imaps://KOM.pod@politiet.no@outlook.office365.com/INBOX and the "
                f"password in {PASSWORD_ENV} (or a token command in {TOKEN_ENV}) — see "
                "docs/contacts.md, Bounces"
            )
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise BouncesError(f"{URL_ENV} is not a valid URL") from None
        if parts.scheme not in DEFAULT_PORTS:
            raise BouncesError(
                f'{URL_ENV} must start with imaps:// (TLS) or imap:// (STARTTLS), not "'
                f'{parts.scheme}://"'
            )
        if parts.password is not None:
            raise BouncesError(
                f"{URL_ENV} contains a password: remove it from the URL and set it in "
                f"{PASSWORD_ENV} instead (the URL is printed; the password never is)"
            )
        if not parts.hostname or not parts.username:
            raise BouncesError(
                f"{URL_ENV} must name the user and the host: imaps://user@host/INBOX"
            )
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        token = env.get(TOKEN_ENV, "").strip() or None
        password = env.get(PASSWORD_ENV) or None
        if not token and not password:
            raise BouncesError(
                f"neither {PASSWORD_ENV} nor {TOKEN_ENV} is set: give the mailbox's password "
                "(or an app password), or a command that prints an OAuth2 access token"
            )
        scheme: Literal["imap", "imaps"] = "imaps" if parts.scheme == "imaps" else "imap"
        return cls(
            scheme,
            parts.hostname,
            port or DEFAULT_PORTS[scheme],
            unquote(parts.username),
            folder,
            password,
            token,
            env.get(PLAIN_ENV, "").strip().lower() in ("1", "yes", "true"),
        )


def access_token(command: str) -> str:
    """Run the token command; its standard output is the token (never printed or stored)."""
    try:
        done = subprocess.run(
            shlex.split(command), capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise BouncesError(f"{TOKEN_ENV} could not be run: {exc}") from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[0][:200]
        raise BouncesError(f"{TOKEN_ENV} failed (exit code {done.returncode}): {said}")
    token = done.stdout.strip()
    if not token or any(c.isspace() for c in token):
        raise BouncesError(f"{TOKEN_ENV} printed no token (one line, no spaces, expected)")
    return token


class Mailbox:
    """One IMAP session on the bounce folder."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.client = self._connect()

    def __enter__(self) -> Mailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.client.logout()
        except (IMAPClientError, OSError):
            self.client.shutdown()

    def _connect(self) -> IMAPClient:
        s = self.settings
        context = ssl.create_default_context()
        try:
            client = IMAPClient(
                s.host, s.port, ssl=s.scheme == "imaps", ssl_context=context, timeout=s.timeout
            )
        except (OSError, IMAPClientError) as exc:
            raise BouncesError(f"cannot connect to {s.display}: {exc}") from None
        try:
            if s.scheme == "imap":
                if b"STARTTLS" in client.capabilities():
                    try:
                        client.starttls(context)
                    except (OSError, IMAPClientError) as exc:  # ssl.SSLError is an OSError
                        raise BouncesError(f"{s.display}: STARTTLS failed: {exc}") from None
                elif not (s.loopback and s.plain_loopback):
                    raise BouncesError(
                        f"{s.display} does not offer STARTTLS, so the login would travel in "
                        "clear — use imaps:// (993); only a server on loopback may be used "
                        f"without TLS, and only with {PLAIN_ENV}=1"
                    )
            self._login(client)
        except BaseException:
            with contextlib.suppress(OSError, IMAPClientError):
                client.shutdown()
            raise
        return client

    def _login(self, client: IMAPClient) -> None:
        s = self.settings
        try:
            if s.token_command:
                client.oauth2_login(s.username, access_token(s.token_command))
            else:
                assert s.password is not None
                client.login(s.username, s.password)
        except LoginError as exc:
            how = "the OAuth2 token" if s.token_command else PASSWORD_ENV
            raise BouncesError(
                f"{s.display} refused the login for {s.username}: {_text(exc)} — check {how}"
            ) from None
        except (IMAPClientError, OSError) as exc:
            raise BouncesError(f"{s.display}: the login failed: {_text(exc)}") from None

    def unprocessed(self, *, readonly: bool, limit: int | None) -> list[int]:
        """The folder's messages without the keyword, oldest first."""
        try:
            self.client.select_folder(self.settings.folder, readonly=readonly)
            uids = sorted(self.client.search(["UNKEYWORD", KEYWORD]))
        except IMAPClientError as exc:
            raise BouncesError(
                f"{self.settings.display}: cannot open the folder: {_text(exc)}"
            ) from None
        return uids[:limit] if limit else uids

    def messages(self, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        """Each message's raw bytes (BODY.PEEK: not marked read), fetched a batch at a time."""
        for start in range(0, len(uids), BATCH):
            batch = list(uids[start : start + BATCH])
            found: dict[int, Any] = self.client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                data = found.get(uid, {}).get(b"BODY[]")
                if isinstance(data, bytes):
                    yield uid, data

    def mark(self, uids: Sequence[int], move: Sequence[int], folder: str | None) -> str:
        """Give `uids` the keyword; move `move` to `folder`. Returns how it moved them."""
        if not uids:
            return ""
        try:
            self.client.add_flags(list(uids), [KEYWORD], silent=True)
            if not (folder and move):
                return ""
            folder = self._server_name(folder)
            if not self.client.folder_exists(folder):
                self.client.create_folder(folder)
                self.client.subscribe_folder(folder)
            if self.client.has_capability("MOVE"):
                self.client.move(list(move), folder)
                return "moved"
            self.client.copy(list(move), folder)
            return "copied (the server has no MOVE; the originals keep the keyword)"
        except IMAPClientError as exc:
            raise BouncesError(
                f"{self.settings.display}: the bounces were recorded, but marking the messages "
                f"failed: {_text(exc)} — the next fetch reads them again (and counts them once)"
            ) from None

    def _server_name(self, folder: str) -> str:
        """`Nyhetsbrev/Behandlet` with the server's hierarchy separator (Exchange: `/`, some
        Dovecot and Courier setups: `.`)."""
        try:
            personal = self.client.namespace().personal
        except IMAPClientError:
            return folder
        separator = personal[0][1] if personal and personal[0][1] else "/"
        if isinstance(separator, bytes):
            separator = separator.decode()
        return folder.replace("/", separator)


def _text(exc: BaseException) -> str:
    value = exc.args[0] if exc.args else exc
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
