"""What the public app's routes share: settings, the contact store, pages, limits and links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from starlette.datastructures import FormData
from starlette.requests import Request

from nyhetsbrev.contacts import tokens
from nyhetsbrev.contacts.keys import check_key_from_env
from nyhetsbrev.contacts.store import ContactStore, open_store
from nyhetsbrev.issue.model import Publication
from nyhetsbrev.web.archive import Archive
from nyhetsbrev.web.mail import Mailer
from nyhetsbrev.web.pages import Pages
from nyhetsbrev.web.security import Csrf, RateLimiter


@dataclass(frozen=True)
class Limits:
    """The public app's limits; the defaults suit a list of a few thousand people."""

    subscribe_per_client: int = 5  # sign-up POSTs per client address …
    subscribe_window: float = 600.0  # … in this many seconds
    mails_per_address: int = 3  # sign-up emails to one address …
    mails_window: float = 3600.0  # … in this many seconds
    max_body: int = 64 * 1024  # bytes of a request body
    confirm_lifetime: timedelta = timedelta(hours=72)


#: An address that is never on the list: looking it up runs the suppression list's key check.
KEY_PROBE = "key-check@nyhetsbrev.invalid"


class TokenRejected(Exception):
    """A personal link that must not be honoured (forged, altered, expired, wrong purpose)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Site:
    """The public app's state, kept on `app.state.site`."""

    def __init__(
        self,
        *,
        publication: Publication,
        pages: Pages,
        archive: Archive,
        database_url: str,
        public_url: str,
        csrf: Csrf,
        token_key: bytes,
        mailer: Mailer,
        limits: Limits,
    ) -> None:
        self.publication = publication
        self.pages = pages
        self.archive = archive
        self.database_url = database_url
        self.public_url = public_url.rstrip("/")
        self.csrf = csrf
        self.token_key = token_key
        self.mailer = mailer
        self.limits = limits
        self.subscribe_limiter = RateLimiter(limits.subscribe_per_client, limits.subscribe_window)
        self.mail_limiter = RateLimiter(limits.mails_per_address, limits.mails_window)
        self._store: ContactStore | None = None

    @staticmethod
    def of(request: Request) -> Site:
        return cast(Site, request.app.state.site)

    # --- the contact store: opened by the app's lifespan ----------------------------------

    def open(self) -> None:
        """Open the store, refusing another key than the data was made with (not at the first
        sign-up: then every one would fail)."""
        store = open_store(
            self.database_url,
            topics=self.publication.topics,
            privacy_notice_version=self.publication.privacy_notice_version,
        )
        try:
            check_key_from_env(store.engine)
            store.suppression(KEY_PROBE)  # the suppression list's own fingerprint check
        except BaseException:
            store.close()
            raise
        self._store = store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def store(self) -> ContactStore:
        if self._store is None:
            raise RuntimeError("the contact store is not open (the app's lifespan did not run)")
        return self._store

    # --- personal links ---------------------------------------------------------------------

    def token(self, purpose: str, contact_id: int) -> str:
        expires = None
        if purpose == "confirm":
            expires = datetime.now(UTC) + self.limits.confirm_lifetime
        return tokens.make_token(purpose, contact_id, expires=expires, key=self.token_key)

    def link(self, purpose: str, contact_id: int) -> str:
        return f"{self.public_url}/{purpose}/{self.token(purpose, contact_id)}"

    def contact_id(self, token: str, purpose: str) -> int:
        """The contact a token names; `TokenRejected` for a bad one (nothing is changed)."""
        try:
            return tokens.read_token(token, purpose, key=self.token_key)
        except tokens.InvalidToken as exc:
            raise TokenRejected(exc.reason) from None

    # --- forms -----------------------------------------------------------------------------

    async def form(self, request: Request) -> FormData:
        """The request's form fields (no files; the body limit applies while reading)."""
        return await request.form(max_files=0, max_fields=64, max_part_size=self.limits.max_body)

    def csrf_ok(self, request: Request, form: FormData) -> bool:
        return self.csrf.is_valid(request, form.get(Csrf.FIELD))


def text_field(form: FormData, name: str) -> str:
    """A form field as text ('' when missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""
