"""`nyhetsbrev archive`: the records package of a sent issue, checked with bagit's own validator,
pikepdf (PDF/A-2 and PDF/UA in the XMP, tagged structure) and the stdlib email package."""

from __future__ import annotations

import base64
import json
import os
import shutil
import xml.etree.ElementTree as ET
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import bagit
import pikepdf
import pytest
from tests.delivery.conftest import SECRET, Sink

from nyhetsbrev.contacts.store import open_store

REPO = Path(__file__).resolve().parents[2]
ISSUE = "2025-q1"
ADDRESSES = [f"mottaker{i}@kripos.example.no" for i in range(1, 4)]
STEM = f"kom-nyhetsbrev-{ISSUE}"
DC = "{http://purl.org/dc/elements/1.1/}"
OWN = "{https://nyhetsbrev.dev/ns/records/1}"


@pytest.fixture
def small_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_sink: Sink) -> Path:
    """tests/data/small (an issue with a picture) as cwd, with approval on, SMTP and a key."""
    root = tmp_path / "ws"
    shutil.copytree(REPO / "tests" / "data" / "small", root)
    (root / "contacts").mkdir()
    kom = root / "newsletters" / "kom.yaml"
    kom.write_text(kom.read_text("utf-8") + "approval: required\n", "utf-8")
    monkeypatch.chdir(root)
    for name in list(os.environ):
        if name.startswith("NYHETSBREV_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2025-03-20")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1742000000")
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", smtp_sink.url)
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", SECRET)
    monkeypatch.setenv("NYHETSBREV_ACTOR", "anne")
    with open_store(f"sqlite:///{(root / 'contacts' / 'contacts.sqlite').as_posix()}") as store:
        for address in ADDRESSES:
            store.add(address, actor="test", name="Kari Mottaker")
    return root


def test_archive_of_a_sent_issue(small_ws: Path, cli: Any, smtp_sink: Sink) -> None:
    unsent = cli("archive", ISSUE, "--out", "arkiv")
    assert unsent.exit_code == 1
    assert unsent.output == (
        "Error: 2025-q1 has not been sent (no campaign has sent it): the archive copy is a "
        "record of what went out. Send it first (`nyhetsbrev send 2025-q1`), or add --draft for "
        "a copy of the current build, marked as a draft\n"
    )
    assert not (small_ws / "arkiv").exists()
    assert cli("approve", ISSUE, "--actor", "kari").exit_code == 0
    sent = cli("send", ISSUE, "--confirm", "--rate", "0", "--allow-warnings")
    assert sent.exit_code == 0, sent.output
    assert smtp_sink.count() == 3

    (small_ws / "arkiv").mkdir()  # an empty folder is fine
    made = cli("archive", ISSUE, "--out", "arkiv")
    assert made.exit_code == 0, made.output
    assert made.output.startswith(
        "Archive copy of 2025-q1 (as sent by campaign 1 to 3 recipient(s)) in arkiv/:\n"
    )
    bag = bagit.Bag(str(small_ws / "arkiv"))
    bag.validate()  # every checksum, Payload-Oxum, completeness
    assert sorted(bag.payload_files()) == sorted(
        f"data/{name}"
        for name in (f"{STEM}.pdf", f"{STEM}.eml", f"{STEM}.html", "metadata.json", "metadata.xml")
    )
    assert bag.info["External-Identifier"] == ISSUE
    assert set(bag.algorithms) == {"sha256", "sha512"}
    data = small_ws / "arkiv" / "data"
    assert data.stat().st_mode & 0o777 == 0o755

    with pikepdf.open(data / f"{STEM}.pdf") as pdf:
        xmp = pdf.open_metadata()
        assert xmp["pdfaid:part"] == "2"
        assert xmp["pdfaid:conformance"] == "A"
        assert xmp["pdfuaid:part"] == "1"
        assert pdf.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in pdf.Root
        kinds = {str(node.get("/S")) for node in _structure(pdf.Root.StructTreeRoot)}
        assert {"/H1", "/P", "/Figure"} <= kinds

    raw = (data / f"{STEM}.eml").read_bytes()
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"] == "recipient@recipient.invalid"
    assert message["Subject"] == "Nyhetsbrev fra KOM – januar–mars 2025"
    assert "/unsubscribe/PERSONAL-TOKEN-REMOVED" in message["List-Unsubscribe"]
    text = message.get_body(("plain",))
    assert text is not None and "Ny veileder om identifisering" in text.get_content()
    as_sent = smtp_sink.received[0].message
    assert (
        as_sent.get_body(("plain",))
        .get_content()
        .replace(  # type: ignore[union-attr]
            _token(as_sent), "PERSONAL-TOKEN-REMOVED"
        )
        .replace(_preferences_token(as_sent), "PERSONAL-TOKEN-REMOVED")
        == text.get_content()
    )
    everything = b"".join(p.read_bytes() for p in (small_ws / "arkiv").rglob("*") if p.is_file())
    for address in ADDRESSES:
        assert address.encode() not in everything
    assert b"Kari Mottaker" not in everything
    assert _token(as_sent).encode() not in everything

    page = (data / f"{STEM}.html").read_text("utf-8")
    assert 'src="data:image/png;base64,' in page
    assert (
        base64.b64encode((small_ws / "newsletters" / ISSUE / "veileder.png").read_bytes()).decode()
        in page
    )
    assert "<link" not in page and 'src="veileder.png"' not in page
    assert 'href="https://nyhetsbrev.kom.test/"' in page

    meta = json.loads((data / "metadata.json").read_text("utf-8"))
    assert meta["recipients"] == 3
    assert (meta["sent_by"], meta["approved_by"], meta["status"]) == ("anne", "kari", "sent")
    assert meta["publisher"] == "Koordineringsenheten mot menneskehandel"
    assert (meta["period_start"], meta["period_end"], meta["language"]) == (
        "2025-01-01", "2025-03-31", "nb"
    )  # fmt: skip
    assert len(meta["content_hash"]) == 64
    dc = ET.parse(data / "metadata.xml").getroot()
    assert dc.findtext(f"{DC}title") == "Nyhetsbrev fra KOM – januar–mars 2025"
    assert dc.findtext(f"{DC}language") == "nb"
    assert dc.findtext(f"{OWN}recipients") == "3"
    assert dc.findtext(f"{OWN}approvedBy") == "kari"
    assert dc.findtext(f"{OWN}contentHash") == meta["content_hash"]

    again = cli("archive", ISSUE, "--out", "arkiv")
    assert again.exit_code == 1
    assert again.output.startswith("Error: arkiv is not empty: ")


def test_draft_archive_and_a_changed_issue(small_ws: Path, cli: Any, smtp_sink: Sink) -> None:
    draft = cli("archive", ISSUE, "--out", "utkast", "--draft")
    assert draft.exit_code == 0, draft.output
    assert "(DRAFT: the current build, not sent)" in draft.output
    bagit.Bag(str(small_ws / "utkast")).validate()
    meta = json.loads((small_ws / "utkast" / "data" / "metadata.json").read_text("utf-8"))
    assert (meta["status"], meta["recipients"], meta["date_sent"]) == ("draft", 0, None)

    assert cli("approve", ISSUE, "--actor", "kari").exit_code == 0
    assert cli("send", ISSUE, "--confirm", "--rate", "0", "--allow-warnings").exit_code == 0
    issue = small_ws / "newsletters" / ISSUE / "issue.yaml"
    issue.write_text(issue.read_text("utf-8").replace("God vår!", "God påske!"), "utf-8")
    changed = cli("archive", ISSUE, "--out", "arkiv")
    assert changed.exit_code == 1
    assert changed.output.startswith("Error: 2025-q1 changed since campaign 1 sent it: ")
    assert not (small_ws / "arkiv").exists()
    assert not [p for p in small_ws.iterdir() if p.name.startswith(".arkiv")]


def _preferences_token(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).split("/preferences/", 1)[1].split()[0]


def _token(message: EmailMessage) -> str:
    header = str(message["List-Unsubscribe"])
    return header.split("/unsubscribe/", 1)[1].split(">", 1)[0]


def _structure(node: Any) -> list[Any]:
    """Every structure element under `node` (the tagged PDF's tree)."""
    out = []
    kids = node.get("/K")
    if kids is None:
        return out
    items = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
    for kid in items:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            out.append(kid)
            out.extend(_structure(kid))
    return out
