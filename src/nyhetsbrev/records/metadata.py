"""The archive copy's description: `metadata.json` and a Dublin Core `metadata.xml`.

Both say the same: title, publisher, date sent, language, period, number of recipients, who
approved, who sent, the content hash, and the files. Nothing about any recipient but their count.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any

DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
OWN = "https://nyhetsbrev.dev/ns/records/1"  # our own few elements, beside Dublin Core
ET.register_namespace("dc", DC)
ET.register_namespace("dcterms", DCTERMS)
ET.register_namespace("nyhetsbrev", OWN)


@dataclass(frozen=True)
class Metadata:
    """What the records system journals the sent issue under."""

    identifier: str
    title: str
    subject: str
    publisher: str
    language: str
    period_start: str
    period_end: str
    status: str  # "sent" or "draft"
    date_sent: str | None
    recipients: int
    campaign: int | None
    sent_by: str | None
    approved_by: str | None
    approved_at: str | None
    approval: int | None
    content_hash: str
    build_hash: str
    audience: dict[str, Any]
    sender: str
    files: dict[str, str] = field(default_factory=dict)  # name → what it is

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    def to_dublin_core(self) -> bytes:
        root = ET.Element("metadata")

        def add(namespace: str, name: str, value: object, **attributes: str) -> None:
            if value is None or value == "":
                return
            element = ET.SubElement(root, f"{{{namespace}}}{name}", attributes)
            element.text = str(value)

        add(DC, "identifier", self.identifier)
        add(DC, "title", self.title)
        add(DC, "publisher", self.publisher)
        add(DC, "creator", self.publisher)
        add(DC, "type", "Text")
        add(DC, "language", self.language)
        add(DC, "date", self.date_sent)
        add(DCTERMS, "issued", self.date_sent)
        add(DCTERMS, "temporal", f"{self.period_start}/{self.period_end}")
        add(DCTERMS, "dateAccepted", self.approved_at)
        for name in self.files:
            add(DC, "format", _media_type(name))
        add(OWN, "status", self.status)
        add(OWN, "recipients", self.recipients)
        add(OWN, "campaign", self.campaign)
        add(OWN, "sentBy", self.sent_by)
        add(OWN, "approvedBy", self.approved_by)
        add(OWN, "approval", self.approval)
        add(OWN, "contentHash", self.content_hash, algorithm="SHA-256")
        add(OWN, "sender", self.sender)
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def _media_type(name: str) -> str:
    suffix = name.rpartition(".")[2].lower()
    return {
        "pdf": "application/pdf",
        "eml": "message/rfc822",
        "html": "text/html",
        "json": "application/json",
        "xml": "application/xml",
    }.get(suffix, "application/octet-stream")
