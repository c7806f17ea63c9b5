"""A campaign: queue the audience in the ledger, send with rate limit and retries, resume, report.

`Sender.run()` is the loop. For each pending delivery: wait for the rate limit; in one
transaction record the previous 250 and re-check the contact (skipped if they left the list) and
mark this one `sending`; render its message; run the SMTP transaction; record the outcome. A 4xx
defers the recipient (exponential backoff, bounded tries) while the others go on; a 5xx fails the
delivery, and after `BOUNCES_TO_MARK` campaigns in which the address itself was refused the
contact is marked bounced. `max_errors` failures in a row pause the campaign; so does the daily
cap and a stop request (Ctrl-C), always after the message in flight.
"""

from __future__ import annotations

import getpass
import heapq
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from nyhetsbrev.contacts.model import now
from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.contacts.tokens import make_token, secret_key
from nyhetsbrev.delivery.ledger import Ledger
from nyhetsbrev.delivery.message import MessageTemplate, Recipient, check_address
from nyhetsbrev.delivery.schema import Campaign, Claimed, Outcome, Pending
from nyhetsbrev.delivery.states import CampaignStatus, DeliveryStatus
from nyhetsbrev.delivery.transport import RateLimiter, SendResult, SmtpTransport
from nyhetsbrev.errors import DeliveryError

BOUNCES_TO_MARK = 3
HEARTBEAT_SECONDS = 10.0
#: A campaign whose sender on another machine has been silent this long may be taken over.
STALE_OWNER = timedelta(minutes=5)
#: The host name recorded as a campaign's owner (several machines may share one PostgreSQL).
HOSTNAME_ENV = "NYHETSBREV_HOSTNAME"


@dataclass(frozen=True)
class Audience:
    """Who a campaign goes to: subscribed contacts with any of these topics, sectors, languages."""

    topics: tuple[str, ...] = ("nyhetsbrev",)
    sectors: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    again: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "topics": list(self.topics),
            "sectors": list(self.sectors),
            "languages": list(self.languages),
            "again": self.again,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Audience:
        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key) or []
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        return cls(
            strings("topics"), strings("sectors"), strings("languages"), bool(data.get("again"))
        )

    def describe(self) -> str:
        parts = [f"topic {' or '.join(self.topics)}" if self.topics else "any topic"]
        if self.sectors:
            parts.append(f"sector {' or '.join(self.sectors)}")
        if self.languages:
            parts.append(f"language {' or '.join(self.languages)}")
        return "subscribed, " + ", ".join(parts)


@dataclass(frozen=True)
class Counted:
    """A dry run's view of the audience."""

    recipients: int
    already: int


@dataclass(frozen=True)
class Limits:
    """How fast and how long to send."""

    rate: float = 30.0
    daily_cap: int = 10_000
    max_errors: int = 10
    max_attempts: int = 4
    retry_delay: float = 60.0


@dataclass
class Summary:
    """What a run did, for the final lines and the exit status."""

    campaign: Campaign
    counts: dict[DeliveryStatus, int]
    sent_now: int = 0
    stopped: str | None = None  # why the run paused (None: finished)
    interrupted: bool = False
    last_error: str | None = None
    elapsed: float = 0.0
    bounced: list[int] = field(default_factory=list)


def redact(reply: str, email: str) -> str:
    """An SMTP reply without the recipient's address (the ledger keeps no addresses)."""
    return re.sub(re.escape(email), "[address]", reply, flags=re.IGNORECASE) if email else reply


def since(hours: float) -> datetime:
    """The moment `hours` ago."""
    return now() - timedelta(hours=hours)


def hostname() -> str:
    """This machine's name for the ledger: `NYHETSBREV_HOSTNAME`, else the system's."""
    return os.environ.get(HOSTNAME_ENV, "").strip() or socket.gethostname()


def owner_id() -> str:
    """This process, as the ledger's campaign owner: user@host:pid."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name (a container without /etc/passwd entry)
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{hostname()}:{os.getpid()}"


def owner_who(owner: str) -> str:
    """`user@host` (without the process id) of an owner."""
    return owner.rpartition(":")[0] or owner


def owner_alive(owner: str, updated_at: datetime, moment: datetime) -> bool:
    """Whether the process named by `owner` may still be sending."""
    who, _, pid = owner.rpartition(":")
    host = who.rpartition("@")[2]
    if host == hostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return moment - updated_at < STALE_OWNER


def count_audience(
    store: ContactStore, ledger: Ledger, issue_id: str, audience: Audience
) -> Counted:
    """How many the campaign would go to, and how many of them already got this issue."""
    total = already = 0
    batch: list[int] = []
    for contact in _contacts(store, audience):
        batch.append(contact)
        if len(batch) == 1000:
            total, already = _count(ledger, issue_id, audience, batch, total, already)
            batch = []
    total, already = _count(ledger, issue_id, audience, batch, total, already)
    return Counted(total, already)


def _count(
    ledger: Ledger, issue_id: str, audience: Audience, batch: list[int], total: int, already: int
) -> tuple[int, int]:
    seen = 0 if audience.again else len(ledger.already_received(issue_id, batch))
    return total + len(batch) - seen, already + seen


def queue(store: ContactStore, ledger: Ledger, campaign: Campaign) -> int:
    """Add the audience to the ledger as `pending`, in batches (continues after a crash)."""
    audience = Audience.from_dict(campaign.audience)
    after = ledger.last_queued(campaign.id)
    added = 0
    batch: list[int] = []

    def flush() -> int:
        skip = set() if audience.again else ledger.already_received(campaign.issue_id, batch)
        fresh = [i for i in batch if i not in skip]
        ledger.add_recipients(campaign.id, fresh)
        batch.clear()
        return len(fresh)

    for contact_id in _contacts(store, audience):
        if contact_id > after:
            batch.append(contact_id)
            if len(batch) == 1000:
                added += flush()
    added += flush()
    ledger.mark_queued(campaign.id)
    return added


def _contacts(store: ContactStore, audience: Audience) -> Iterator[int]:
    return (
        c.id
        for c in store.audience(
            topics=list(audience.topics) or None,
            sectors=list(audience.sectors) or None,
            languages=list(audience.languages) or None,
        )
    )


class Sender:
    """Sends one campaign's pending deliveries; `stop()` ends it after the message in flight."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        store: ContactStore,
        campaign: Campaign,
        template: MessageTemplate,
        transport: SmtpTransport,
        limits: Limits,
        progress: Callable[[str], None] | None = None,
        sign: Callable[[bytes], bytes] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        key_scope: str | None = None,
    ) -> None:
        self.ledger, self.store, self.campaign = ledger, store, campaign
        self.template, self.transport, self.limits = template, transport, limits
        self.progress = progress or (lambda outcome: None)
        self.sign = sign
        self._sleep = sleep
        self._stop = False
        self._key = secret_key(key_scope)
        self._owner = campaign.owner or owner_id()

    def stop(self) -> None:
        """Ask the loop to stop after the message in flight (safe from a signal handler)."""
        self._stop = True

    def run(self) -> Summary:
        started = time.monotonic()
        summary = Summary(self.campaign, {})
        limiter = RateLimiter(self.limits.rate)
        sent_today, _ = self.ledger.sent_since(since(24))
        deferred: list[tuple[float, int, Pending]] = []
        stream = iter(self.ledger.pending(self.campaign.id))
        flush: Outcome | None = None
        errors_in_row = 0
        beat = 0.0
        try:
            while not self._stop:
                if sent_today >= self.limits.daily_cap:
                    if flush is not None:
                        self.ledger.record(flush)
                        flush = None
                    _, first_today = self.ledger.sent_since(since(24))
                    again = (first_today + timedelta(hours=24)) if first_today else None
                    when = f" (after {again.astimezone():%Y-%m-%d %H:%M})" if again else ""
                    summary.stopped = (
                        f"the daily cap of {self.limits.daily_cap} messages is "
                        f"reached; resume tomorrow{when}"
                    )
                    break
                item = self._next(deferred, stream)
                if item is None:
                    if not deferred:
                        break
                    if flush is not None:
                        self.ledger.record(flush)
                        flush = None
                    self._wait(deferred[0][0] - time.monotonic())
                    continue
                delay = limiter.delay()
                if delay > 0.002:
                    if flush is not None:
                        self.ledger.record(flush)
                        flush = None
                    if not self._wait(delay):
                        break
                message_id = self.template.new_message_id()
                heartbeat = time.monotonic() - beat > HEARTBEAT_SECONDS
                claimed = self.ledger.claim(item, message_id, self.campaign.id, flush, heartbeat)
                flush = None
                beat = time.monotonic() if heartbeat else beat
                if claimed is None:
                    self.progress("skipped")
                    continue
                limiter.started()
                outcome, result = self._send(item, claimed, message_id)
                if result is not None and result.outcome == "sent":
                    flush = outcome
                    sent_today += 1
                    summary.sent_now += 1
                    errors_in_row = 0
                    self.progress("sent")
                    continue
                errors_in_row += 1
                summary.last_error = outcome.reply
                if outcome.status == DeliveryStatus.PENDING:
                    retry = self.limits.retry_delay * 2 ** max(0, item.attempts)
                    later = replace(item, attempts=item.attempts + 1)
                    heapq.heappush(deferred, (time.monotonic() + retry, item.id, later))
                    self.ledger.record(outcome)
                    self.progress("deferred")
                else:
                    self.ledger.record(outcome)
                    if outcome.hard_bounce and self._bounced(item.contact_id, outcome.reply):
                        summary.bounced.append(item.contact_id)
                    self.progress(outcome.status)
                if errors_in_row >= self.limits.max_errors:
                    summary.stopped = (
                        f"{errors_in_row} errors in a row (the last: {summary.last_error})"
                    )
                    break
            if self._stop and summary.stopped is None:
                summary.interrupted = True
                summary.stopped = "stopped on request (Ctrl-C)"
        except DeliveryError as exc:
            summary.stopped = exc.message
            raise
        finally:
            if flush is not None:
                self.ledger.record(flush)
            self.ledger.close()
            self.transport.close()
            summary.counts = self.ledger.counts(self.campaign.id)
            left = summary.counts[DeliveryStatus.PENDING] + summary.counts[DeliveryStatus.SENDING]
            status = CampaignStatus.PAUSED if (summary.stopped or left) else CampaignStatus.FINISHED
            self.ledger.set_status(
                self.campaign.id, status, summary.stopped, expect_owner=self._owner
            )
            summary.campaign = self.ledger.get(self.campaign.id) or self.campaign
            summary.elapsed = time.monotonic() - started
        return summary

    def _next(
        self, deferred: list[tuple[float, int, Pending]], stream: Iterator[Pending]
    ) -> Pending | None:
        if deferred and deferred[0][0] <= time.monotonic():
            return heapq.heappop(deferred)[2]
        return next(stream, None)

    def _send(
        self, item: Pending, claimed: Claimed, message_id: str
    ) -> tuple[Outcome, SendResult | None]:
        """Render and send one message; the outcome to record, and the server's answer."""
        try:
            check_address(claimed.email)
        except DeliveryError as exc:
            return Outcome(
                item.id, DeliveryStatus.FAILED, None, redact(str(exc), claimed.email)
            ), None
        token = make_token("unsubscribe", item.contact_id, key=self._key)
        url = self.template.unsubscribe_url(token)
        preferences = self.template.preferences_url(
            make_token("preferences", item.contact_id, key=self._key)
        )
        rendered = self.template.render(
            Recipient(claimed.email, claimed.name, url, preferences), message_id=message_id
        )
        data = rendered.data if self.sign is None else self.sign(rendered.data)
        try:
            result = self.transport.send(self.template.sender.email, claimed.email, data)
        except DeliveryError:
            # the server could not be used at all: this recipient was never reached
            self.ledger.record(
                Outcome(item.id, DeliveryStatus.PENDING, None, "not sent: SMTP server unusable")
            )
            raise
        reply = redact(result.reply, claimed.email)
        attempts = item.attempts + 1
        if result.outcome == "sent":
            return Outcome(item.id, DeliveryStatus.SENT, result.code, reply), result
        if result.outcome == "uncertain":
            return Outcome(item.id, DeliveryStatus.UNCERTAIN, result.code or None, reply), result
        if result.outcome == "temporary" and attempts < self.limits.max_attempts:
            return Outcome(item.id, DeliveryStatus.PENDING, result.code, reply), result
        return Outcome(
            item.id, DeliveryStatus.FAILED, result.code, reply, result.hard_bounce
        ), result

    def _bounced(self, contact_id: int, reply: str) -> bool:
        count = self.ledger.hard_bounces(contact_id)
        if count < BOUNCES_TO_MARK:
            return False
        reason = f"address refused in {count} campaigns, the last: {reply}"
        return self.store.mark_bounced(contact_id, actor="nyhetsbrev send", reason=reason[:500])

    def _wait(self, seconds: float) -> bool:
        """Sleep in short steps; False if a stop was requested meanwhile."""
        end = time.monotonic() + max(0.0, seconds)
        while not self._stop:
            left = end - time.monotonic()
            if left <= 0:
                return True
            self._sleep(min(left, 0.1))
        return False
