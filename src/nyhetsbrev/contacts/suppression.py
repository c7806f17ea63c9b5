"""The suppression list: keyed hashes of erased addresses, so no import or add brings them back.

A hash is HMAC-SHA256 of the normalised address. The key comes from `NYHETSBREV_SECRET_KEY`
(kept outside the database: a copy of the database alone cannot tell whether a given address was
ever on the list) or, when that is not set, from a random key that the first migration stored in
the `settings` table (simpler, but anyone holding the database file can test guesses against the
hashes). The first suppression records a fingerprint of the key in use; if the key later changes,
every command that needs the suppression list stops with an error instead of silently letting
erased addresses back in.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nyhetsbrev.contacts.keys import weak_key_message
from nyhetsbrev.contacts.model import now
from nyhetsbrev.contacts.schema.tables import settings, suppressions
from nyhetsbrev.errors import ContactsError

SECRET_ENV = "NYHETSBREV_SECRET_KEY"
_PURPOSE = b"nyhetsbrev/contacts/suppression/v1"


class Suppressor:
    """Computes and checks suppression hashes with the key of one database connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._key = self._load_key()
        self._fingerprint = hmac.new(self._key, b"fingerprint", hashlib.sha256).hexdigest()[:16]
        self._checked = False

    def _load_key(self) -> bytes:
        secret = os.environ.get(SECRET_ENV, "")
        if secret:
            weak = weak_key_message(secret)
            if weak:
                raise ContactsError(weak)
            base = secret.encode("utf-8")
        else:
            stored = self._setting("suppression_key")
            if stored is None:
                raise ContactsError(
                    "the contact database has no suppression key (settings.suppression_key) and "
                    f"{SECRET_ENV} is not set — set {SECRET_ENV} to the key used so far"
                )
            base = bytes.fromhex(stored)
        # Derive a key for this purpose only: the same secret may also sign unsubscribe links.
        return hmac.new(base, _PURPOSE, hashlib.sha256).digest()

    def _setting(self, key: str) -> str | None:
        value = self._conn.execute(sa.select(settings.c.value).where(settings.c.key == key))
        return value.scalar_one_or_none()

    def check_key(self) -> None:
        """Stop if the suppression list was made with another key than the current one."""
        if self._checked:
            return
        recorded = self._setting("suppression_key_fingerprint")
        if recorded is not None and recorded != self._fingerprint:
            raise ContactsError(
                "the suppression list was hashed with a different key: "
                f"{SECRET_ENV} was changed, set or unset since addresses were erased — restore "
                "the key used before (or unset it, if the database's own key was used); "
                "without it, erased addresses could be imported again"
            )
        self._checked = True

    def hash(self, normalised: str) -> str:
        """The suppression hash of a normalised address (64 hex digits)."""
        return hmac.new(self._key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()

    def all_hashes(self) -> set[str]:
        """Every suppressed hash, in one query (for imports)."""
        self.check_key()
        return set(self._conn.execute(sa.select(suppressions.c.address_hash)).scalars())

    def find(self, normalised: str) -> sa.Row[Any] | None:
        """The suppression entry for an address, if it is suppressed."""
        self.check_key()
        query = sa.select(suppressions).where(suppressions.c.address_hash == self.hash(normalised))
        return self._conn.execute(query).one_or_none()

    def add(self, normalised: str, *, actor: str, reason: str = "erased") -> bool:
        """Suppress an address; False if it already was."""
        self.check_key()
        if self._setting("suppression_key_fingerprint") is None:
            self._conn.execute(
                settings.insert().values(key="suppression_key_fingerprint", value=self._fingerprint)
            )
        if self.find(normalised) is not None:
            return False
        self._conn.execute(
            suppressions.insert().values(
                address_hash=self.hash(normalised), created_at=now(), actor=actor, reason=reason
            )
        )
        return True

    def lift(self, normalised_addresses: Iterable[str]) -> None:
        """Remove suppressions (a person erased earlier has asked, afresh, to be on the list)."""
        hashes = [self.hash(a) for a in normalised_addresses]
        if hashes:
            self._conn.execute(suppressions.delete().where(suppressions.c.address_hash.in_(hashes)))
