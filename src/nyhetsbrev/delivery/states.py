"""The states of a campaign and of a delivery, spelt out once: code, reports and the schema's
CHECK constraints all use these (see docs/architecture.md, "States")."""

from __future__ import annotations

from enum import StrEnum


class CampaignStatus(StrEnum):
    """A campaign: `running` → `finished`; `paused` until resumed; `cancelled` when started over."""

    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    """A delivery row: `pending` → `sending` → `sent` or `failed`; `uncertain` when a `sending`
    row is found on resume; `skipped` when the contact left or the campaign was cancelled."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    SKIPPED = "skipped"


#: Campaigns that a send may take up again.
OPEN_CAMPAIGN = (CampaignStatus.RUNNING, CampaignStatus.PAUSED)
#: Deliveries that mean the contact got (or may have got) the issue.
RECEIVED = (DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN, DeliveryStatus.SENDING)
