"""Approval records: the hash of what goes out, and the signed row saying who approved it.

What an approval covers (its `content_hash`, SHA-256) is the prepared message `send` uses — its
`build_hash` over the email HTML, the text, the PDF if attached, the subject and the sender
headers — together with the audience definition (topics, sectors, languages) and whether the
PDF is attached. A changed comma, another topic or an attachment added makes another hash.

Each row carries an HMAC-SHA256 over all its fields, keyed by a key derived from
`NYHETSBREV_SECRET_KEY` for this use only: a row edited by hand in the database (another actor,
another hash, an earlier date) no longer verifies and counts for nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nyhetsbrev.contacts.database import write_transaction
from nyhetsbrev.contacts.keys import weak_key_message
from nyhetsbrev.contacts.model import now
from nyhetsbrev.contacts.tokens import GENERATE_HINT, SECRET_ENV
from nyhetsbrev.delivery.approval.schema import approvals
from nyhetsbrev.errors import ApprovalError

_DERIVATION = b"nyhetsbrev/approval/v1"
_HASH_PREFIX = b"nyhetsbrev/approval/content/v1\0"
AUDIENCE_KEYS = ("topics", "sectors", "languages")


@dataclass(frozen=True)
class Build:
    """What an approval is of: one issue's prepared message for one audience."""

    issue_id: str
    build_hash: str
    audience: Mapping[str, Sequence[str]]
    attach_pdf: bool
    text: str

    @property
    def audience_json(self) -> str:
        return audience_json(self.audience)

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256(_HASH_PREFIX)
        for part in (self.build_hash, self.audience_json, "pdf" if self.attach_pdf else "no-pdf"):
            digest.update(part.encode("utf-8") + b"\0")
        return digest.hexdigest()


@dataclass(frozen=True)
class Approval:
    """One approval row; `valid` is False when its HMAC does not verify (the row was edited)."""

    id: int
    issue_id: str
    content_hash: str
    build_hash: str
    audience: dict[str, list[str]]
    attach_pdf: bool
    actor: str
    note: str | None
    approved_at: datetime
    text_edition: str
    valid: bool


def audience_json(audience: Mapping[str, Sequence[str]]) -> str:
    """The audience definition, canonical: sorted, without duplicates, only the filter keys."""
    clean = {key: sorted(set(audience.get(key) or ())) for key in AUDIENCE_KEYS}
    return json.dumps(clean, sort_keys=True, separators=(",", ":"))


def approval_key() -> bytes:
    """The HMAC key for approvals, derived from NYHETSBREV_SECRET_KEY."""
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise ApprovalError(
            f"{SECRET_ENV} is not set: approvals are signed with it, so that an approval edited "
            f"in the database is detected. Set the same key the send uses (generate one with "
            f"{GENERATE_HINT}) — see docs/operations.md"
        )
    weak = weak_key_message(secret)
    if weak:
        raise ApprovalError(weak)
    return hmac.new(secret.encode("utf-8"), _DERIVATION, hashlib.sha256).digest()


def _mac(key: bytes, fields: Mapping[str, Any]) -> str:
    at = fields["approved_at"]
    assert isinstance(at, datetime)
    signed = [
        fields["issue_id"],
        fields["content_hash"],
        fields["build_hash"],
        fields["audience"],
        bool(fields["attach_pdf"]),
        fields["actor"],
        fields["note"] or "",
        at.astimezone().timestamp(),
        hashlib.sha256(fields["text_edition"].encode("utf-8")).hexdigest(),
    ]
    message = json.dumps(signed, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def record(engine: Engine, build: Build, actor: str, note: str | None) -> Approval:
    """Store an approval of `build` by `actor`, signed; returns the row as read back."""
    key = approval_key()
    fields: dict[str, Any] = {
        "issue_id": build.issue_id,
        "content_hash": build.content_hash,
        "build_hash": build.build_hash,
        "audience": build.audience_json,
        "attach_pdf": build.attach_pdf,
        "actor": actor,
        "note": (note or "").strip() or None,
        "approved_at": now().replace(microsecond=0),  # the same on every backend
        "text_edition": build.text,
    }
    with write_transaction(engine) as conn:
        inserted = conn.execute(
            approvals.insert().values(**fields, mac=_mac(key, fields))
        ).inserted_primary_key
    assert inserted is not None
    found = get(engine, int(inserted[0]), key=key)
    assert found is not None
    return found


def get(engine: Engine, approval_id: int, *, key: bytes | None = None) -> Approval | None:
    """One approval by its number, verified (None when there is no such row)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(approvals).where(approvals.c.id == approval_id)).first()
    return None if row is None else _approval(row._asdict(), key or approval_key())


def of_issue(engine: Engine, issue_id: str) -> list[Approval]:
    """Every approval of an issue, oldest first, each verified."""
    key = approval_key()
    query = sa.select(approvals).where(approvals.c.issue_id == issue_id).order_by(approvals.c.id)
    with engine.connect() as conn:
        rows = [row._asdict() for row in conn.execute(query)]
    return [_approval(row, key) for row in rows]


def _approval(row: dict[str, Any], key: bytes) -> Approval:
    valid = hmac.compare_digest(str(row["mac"]), _mac(key, row))
    try:
        audience = json.loads(row["audience"])
    except ValueError:
        audience, valid = {}, False
    return Approval(
        id=int(row["id"]),
        issue_id=row["issue_id"],
        content_hash=row["content_hash"],
        build_hash=row["build_hash"],
        audience=audience if isinstance(audience, dict) else {},
        attach_pdf=bool(row["attach_pdf"]),
        actor=row["actor"],
        note=row["note"],
        approved_at=row["approved_at"],
        text_edition=row["text_edition"],
        valid=valid,
    )


def describe(engine: Engine, approval_id: int | None) -> str:
    """`by kari on 2026-03-30 14:02 (approval 4)`, for `campaigns show` and the archive copy."""
    if approval_id is None:
        return "– (sent without an approval)"
    try:
        found = get(engine, approval_id)
    except ApprovalError:
        return f"approval {approval_id} (not verified: {SECRET_ENV} is not set)"
    if found is None:
        return f"approval {approval_id} (no longer in the database)"
    verified = "" if found.valid else ", DOES NOT VERIFY: the row was changed"
    return (
        f"by {found.actor} on {found.approved_at.astimezone():%Y-%m-%d %H:%M} "
        f"(approval {found.id}{verified})"
    )
