"""The bounce policy: which failures mark a contact `bounced` at once, and which count.

- **At once** (`hard`): a permanent failure that says the address does not exist or is disabled:
  5.1.1 (no such mailbox), 5.1.10 (Microsoft 365: RESOLVER.ADR.RecipientNotFound), 5.2.1
  (mailbox disabled), 5.1.6 (moved, no forwarding), and 5.4.1 when the server says the
  recipient was rejected (Exchange Online's directory check: "Recipient address rejected: Access
  denied"); any permanent failure whose words say the same (RecipientNotFound, "user unknown",
  "does not exist", "no such user", "no mailbox here").
- **Counted** (`soft`): every other failure, permanent (mailbox full 5.2.2, message refused,
  policy blocks) or temporary (4.x.x: delays, a full mailbox, a server that did not answer).
  A contact is marked after `CAMPAIGNS_IN_A_ROW` campaigns in a row that each bounced; a
  campaign whose message was delivered without a bounce resets the count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from nyhetsbrev.bounces.message import Failure

Severity = Literal["hard", "soft"]
CAMPAIGNS_IN_A_ROW = 3
NONEXISTENT = ("5.1.1", "5.1.10", "5.2.1", "5.1.6")
_REJECTED = re.compile(r"recipient (address )?rejected|recipientnotfound|access denied", re.I)
_NO_SUCH = re.compile(
    r"recipientnotfound|exrecipnotfound|user unknown|unknown user|does not exist|no such "
    r"(user|mailbox|recipient)|no mailbox here|mailbox (is )?(disabled|unavailable)|"
    r"address rejected: user unknown|invalid recipient|recipient not found|account (is )?disabled",
    re.I,
)
POLICY = (
    "Policy: a permanent failure saying the address does not exist or is disabled "
    "(5.1.1, 5.1.10, 5.2.1, 5.1.6, 5.4.1 recipient rejected, Microsoft's RecipientNotFound) "
    f"marks the contact bounced at once; other failures (mailbox full, 4.x.x) after "
    f"{CAMPAIGNS_IN_A_ROW} campaigns in a row; a later delivery without a bounce resets the count."
)


@dataclass(frozen=True)
class Verdict:
    """How the policy reads one failure: hard or soft, and why, in a few words."""

    severity: Severity
    reason: str


def classify(failure: Failure) -> Verdict:
    """Hard (mark at once) or soft (count), per the policy above."""
    status, words = failure.status, failure.diagnostic
    if failure.permanent:
        if status in NONEXISTENT:
            return Verdict("hard", f"{status}: the address does not exist or is disabled")
        if status == "5.4.1" and _REJECTED.search(words):
            return Verdict("hard", "5.4.1: the recipient's server rejected the address")
        if _NO_SUCH.search(words):
            return Verdict("hard", f"{status or 'permanent'}: the address does not exist")
        return Verdict("soft", f"{status or 'permanent'}: a permanent failure (counted)")
    return Verdict("soft", f"{status or 'temporary'}: a temporary failure (counted)")


@dataclass(frozen=True)
class CampaignResult:
    """One campaign as seen from one contact: did the message go, and did it come back."""

    campaign_id: int
    delivered: bool  # the server accepted it (status `sent`)
    bounced: bool  # a bounce came back, or the server refused the address during the send


def streak(history: Sequence[CampaignResult]) -> int:
    """Campaigns in a row, newest first, that bounced; a delivered one without a bounce ends it.

    Campaigns in which nothing reached the server (skipped, cancelled, pending) neither count
    nor reset.
    """
    count = 0
    for result in sorted(history, key=lambda r: r.campaign_id, reverse=True):
        if result.bounced:
            count += 1
        elif result.delivered:
            break
    return count
