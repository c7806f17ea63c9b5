"""Signed tokens for personal links (unsubscribe, confirm, preferences): compact, URL-safe, HMAC.

A token is base64url (no padding) of

    version (1 byte) | purpose (1 byte) | expires (4 bytes, Unix seconds, 0 = never)
    | contact id (1–8 bytes, big-endian) | HMAC-SHA256 of everything before it (first 16 bytes)

The MAC key is derived from `NYHETSBREV_SECRET_KEY` for this use only (the same secret also keys
the contact list's suppression hashes, under another derivation). 128 bits of MAC is the
truncation RFC 2104 and NIST SP 800-107 allow; it keeps an unsubscribe token at 32 characters.
Without the key a token can be neither made nor changed: any change to the purpose, the expiry or
the contact id breaks the MAC. Changing the key invalidates every token made before, including the
unsubscribe links in newsletters already sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from datetime import UTC, datetime, timedelta
from typing import Literal

from nyhetsbrev.contacts.keys import weak_key_message
from nyhetsbrev.errors import DeliveryError

SECRET_ENV = "NYHETSBREV_SECRET_KEY"
Purpose = Literal["unsubscribe", "confirm", "preferences"]
PURPOSES: dict[str, int] = {"unsubscribe": 1, "confirm": 2, "preferences": 3}
#: How long a `confirm` (double opt-in) link works when no expiry is given.
CONFIRM_LIFETIME = timedelta(days=7)

_VERSION = 1
_HEAD = struct.Struct(">BBI")
_MAC_BYTES = 16
# The derivation label names the module's first home; it stays, or every link already sent breaks.
_DERIVATION = b"nyhetsbrev/delivery/token/v1"
GENERATE_HINT = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'

Reason = Literal["malformed", "forged", "expired", "wrong-purpose"]


class InvalidToken(Exception):
    """A token that must not be honoured; `reason` says why, `str()` says it to a person."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


def secret_key(scope: str | None = None) -> bytes:
    """The derived MAC key; a `DeliveryError` saying how to set it when it is missing or weak.

    `scope` (a publication, in a workspace with several) derives a key of its own, so a link
    signed for one publication is rejected by another's pages (their contact ids overlap)."""
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise DeliveryError(
            f"{SECRET_ENV} is not set: personal unsubscribe links are signed with it. Generate "
            f"one with {GENERATE_HINT}, keep it in your password manager, and set it in the "
            f"environment (export {SECRET_ENV}=…) of every machine that sends or serves the "
            "newsletter — see docs/operations.md"
        )
    weak = weak_key_message(secret)
    if weak:
        raise DeliveryError(weak)
    derivation = _DERIVATION if scope is None else _DERIVATION + b"/" + scope.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), derivation, hashlib.sha256).digest()


def make_token(
    purpose: str, contact_id: int, *, expires: datetime | None = None, key: bytes | None = None
) -> str:
    """A signed token naming `contact_id` for `purpose`.

    `unsubscribe` tokens never expire (RFC 8058 links must keep working in old newsletters), so
    `expires` is refused for them; `confirm` tokens default to `CONFIRM_LIFETIME` from now;
    `preferences` tokens expire only when `expires` is given. `key` defaults to `secret_key()`.
    """
    code = _purpose_code(purpose)
    if not 0 < contact_id < 2**63:
        raise ValueError(f"contact id out of range: {contact_id}")
    if purpose == "unsubscribe" and expires is not None:
        raise ValueError("unsubscribe tokens never expire (RFC 8058): do not pass expires")
    if purpose == "confirm" and expires is None:
        expires = datetime.now(UTC) + CONFIRM_LIFETIME
    stamp = 0
    if expires is not None:
        if expires.tzinfo is None:
            raise ValueError("expires must be timezone-aware")
        stamp = max(1, min(int(expires.timestamp()), 2**32 - 1))
    body = _HEAD.pack(_VERSION, code, stamp) + contact_id.to_bytes(_id_length(contact_id), "big")
    mac = hmac.new(key if key is not None else secret_key(), body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + mac[:_MAC_BYTES]).rstrip(b"=").decode("ascii")


def read_token(
    token: str, purpose: str, *, now: datetime | None = None, key: bytes | None = None
) -> int:
    """The contact id a valid token names; `InvalidToken` when it is malformed, forged or
    altered (the MAC does not match), expired, or made for another purpose."""
    expected = _purpose_code(purpose)
    raw = _decode(token)
    if len(raw) < _HEAD.size + 1 + _MAC_BYTES or len(raw) > _HEAD.size + 8 + _MAC_BYTES:
        raise InvalidToken("malformed", "not a nyhetsbrev link token (wrong length)")
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    version, code, stamp = _HEAD.unpack_from(body)
    if version != _VERSION:
        raise InvalidToken("malformed", f"unknown token version {version}")
    good = hmac.new(key if key is not None else secret_key(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, good[:_MAC_BYTES]):
        raise InvalidToken(
            "forged",
            "the link's signature does not match: it was altered, or not made with this "
            f"site's key ({SECRET_ENV} changed since it was sent?)",
        )
    if code != expected:
        names = {number: name for name, number in PURPOSES.items()}
        raise InvalidToken(
            "wrong-purpose",
            f"this is a {names.get(code, 'unknown')} link, not a {purpose} link",
        )
    if stamp:
        moment = now if now is not None else datetime.now(UTC)
        if moment.timestamp() >= stamp:
            when = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
            raise InvalidToken("expired", f"the link expired on {when}")
    return int.from_bytes(body[_HEAD.size :], "big")


def _purpose_code(purpose: str) -> int:
    try:
        return PURPOSES[purpose]
    except KeyError:
        raise ValueError(
            f"unknown token purpose {purpose!r}: one of {', '.join(PURPOSES)}"
        ) from None


def _id_length(contact_id: int) -> int:
    return max(1, (contact_id.bit_length() + 7) // 8)


def _decode(token: str) -> bytes:
    text = token.strip()
    if not text or len(text) > 64 or not text.isascii():
        raise InvalidToken("malformed", "not a nyhetsbrev link token")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed", "not a nyhetsbrev link token (not base64url)") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text:
        # non-canonical spellings (stray characters, other padding bits) are not ours
        raise InvalidToken("malformed", "not a nyhetsbrev link token (not canonical base64url)")
    return raw
