"""The secret key (`NYHETSBREV_SECRET_KEY`): strong enough, and the one the data was made with.

Every reader of the key (the personal-link tokens, the suppression hashes, `send`, `serve`)
refuses a weak key with `key_weakness()`. `check_key()` compares the key with the fingerprint
that the contact database keeps in its `settings` table (HMAC-SHA256 of a fixed text under the
key: it tells whether a key is the right one, never what the key is), so `serve` and `send`
refuse to start with another key than the one the links already sent and the suppression list
were made with, instead of failing on every sign-up. A deliberate rotation names the old key in
`NYHETSBREV_OLD_SECRET_KEY` once (docs/operations.md, "Rotating the secret key").
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import os
from collections import Counter

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nyhetsbrev.contacts.database import write_transaction
from nyhetsbrev.contacts.schema.tables import settings
from nyhetsbrev.errors import NyhetsbrevError

SECRET_ENV = "NYHETSBREV_SECRET_KEY"
OLD_SECRET_ENV = "NYHETSBREV_OLD_SECRET_KEY"
GENERATE_HINT = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
MIN_SECRET_BYTES = 32
#: A generated key of 32 random bytes (43 base64url or 64 hex characters) scores 190–240 bits
#: on the estimate below; 16 random bytes score about 115; typed text or patterns far less.
MIN_ESTIMATED_BITS = 128
MIN_DISTINCT = 10
KEY_CHECK_SETTING = "secret_key_check"
_CHECK_TEXT = b"nyhetsbrev-key-check"


def key_weakness(secret: str) -> str | None:
    """Why `secret` is too weak to be the key (None when it is fine).

    Randomness cannot be measured from one sample; this refuses what is clearly not random:
    fewer than 32 bytes, whitespace, a repeated unit, a run of consecutive characters, few
    different characters, or less than 128 bits by the character-frequency estimate.
    """
    size = len(secret.encode("utf-8"))
    if size < MIN_SECRET_BYTES:
        return f"too short ({size} bytes, at least {MIN_SECRET_BYTES})"
    if any(c.isspace() for c in secret):
        return "it contains whitespace (a copy-and-paste slip?)"
    if secret in (secret + secret)[1:-1]:
        return "it is one short piece repeated"
    steps = sum(1 for a, b in itertools.pairwise(secret) if abs(ord(b) - ord(a)) <= 1)
    if steps * 2 > len(secret) - 1:
        return "it is mostly a sequence of neighbouring characters"
    counts = Counter(secret)
    if len(counts) < MIN_DISTINCT:
        return f"it has too few different characters ({len(counts)})"
    n = len(secret)
    bits = -sum(c * math.log2(c / n) for c in counts.values())
    if bits < MIN_ESTIMATED_BITS:
        return f"too little randomness (about {bits:.0f} bits, at least {MIN_ESTIMATED_BITS})"
    return None


def weak_key_message(secret: str) -> str | None:
    """The error text for a weak `NYHETSBREV_SECRET_KEY`, or None."""
    weakness = key_weakness(secret)
    if weakness is None:
        return None
    if weakness.startswith("too short"):
        head = f"{SECRET_ENV} is too short ({weakness.removeprefix('too short (')}"
    else:
        head = f"{SECRET_ENV} is too weak ({weakness})"
    return (
        f"{head}: it needs at least {MIN_SECRET_BYTES} bytes of real randomness — generate one "
        f"with {GENERATE_HINT}"
    )


def fingerprint(secret: str) -> str:
    """What the database keeps of the key: HMAC-SHA256(key, "nyhetsbrev-key-check")."""
    return hmac.new(secret.encode("utf-8"), _CHECK_TEXT, hashlib.sha256).hexdigest()


class KeyMismatch(NyhetsbrevError):
    """`NYHETSBREV_SECRET_KEY` is not the key the contact database was used with."""


def check_key(engine: Engine, secret: str, *, old: str | None = None) -> None:
    """Record the key's fingerprint on first use; refuse another key later (`KeyMismatch`).

    `old` (from `NYHETSBREV_OLD_SECRET_KEY`) is a deliberate rotation: when it matches the
    recorded fingerprint, the new key's fingerprint replaces it.
    """
    mine = fingerprint(secret)
    # A write transaction (BEGIN IMMEDIATE on SQLite): two commands starting at once on a new
    # database must not both think they record the first fingerprint.
    try:
        with write_transaction(engine) as conn:
            return _check_key(conn, mine, old)
    except sa.exc.IntegrityError:
        # PostgreSQL: another process recorded the first fingerprint since our read; compare
        # with what it recorded.
        with write_transaction(engine) as conn:
            return _check_key(conn, mine, old)


def _check_key(conn: Connection, mine: str, old: str | None) -> None:
    query = sa.select(settings.c.value).where(settings.c.key == KEY_CHECK_SETTING)
    recorded = conn.execute(query).scalar_one_or_none()
    if recorded is None:
        conn.execute(settings.insert().values(key=KEY_CHECK_SETTING, value=mine))
        return
    if hmac.compare_digest(recorded, mine):
        return
    if old is not None and hmac.compare_digest(recorded, fingerprint(old)):
        conn.execute(
            settings.update().where(settings.c.key == KEY_CHECK_SETTING).values(value=mine)
        )
        return
    raise KeyMismatch(
        f"{SECRET_ENV} is not the key this contact database was used with: the links in the "
        "newsletters already sent were signed with the other one (with this key they would "
        "all be refused), and the suppression list was hashed with it. Set the key used so far "
        "(from your password manager). To change the key on purpose (it leaked), set the new "
        f"one in {SECRET_ENV} and the old one in {OLD_SECRET_ENV} for one start — see "
        'docs/operations.md, "Rotating the secret key"'
    )


def check_key_from_env(engine: Engine) -> None:
    """`check_key()` with the keys of the environment (the caller has read a strong key)."""
    old = os.environ.get(OLD_SECRET_ENV) or None
    check_key(engine, os.environ.get(SECRET_ENV, ""), old=old)
