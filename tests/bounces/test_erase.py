"""Erased means erased: after `contacts erase`, no file in the workspace holds the address or the
Message-IDs of the messages sent to it — database, campaign and bounce reports, .eml files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bounces.conftest import SEND, dsn
from tests.delivery.conftest import Sink

GONE = "person2@example.no"


def files_naming(root: Path, needles: list[str]) -> list[str]:
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            data = path.read_bytes().lower() + path.name.lower().encode()
            for needle in needles:
                if needle.lower().encode() in data:
                    found.append(f"{path.relative_to(root)}: {needle}")
    return sorted(found)


def test_erase_leaves_no_trace_in_any_file(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(3)
    eml = cli("send", "2024-q4", "--write-eml", "utkast", "--allow-warnings")
    assert eml.exit_code == 0, eml.output
    assert cli(*SEND).exit_code == 0
    got = {r.rcpt_tos[0]: r for r in smtp_sink.received}
    message_id = str(got[GONE].message["Message-ID"])
    (send_ws / "innboks").mkdir()
    (send_ws / "innboks" / "bounce.eml").write_bytes(dsn(got[GONE], "4.2.2", "452 4.2.2 full"))
    (send_ws / "innboks" / "other.eml").write_bytes(dsn(got["person1@example.no"], "4.2.2"))
    assert cli("bounces", "import", "innboks", "--apply").exit_code == 0
    before = files_naming(send_ws, [GONE, message_id])
    assert {line.split(":")[0] for line in before} >= {
        "contacts/contacts.sqlite",
        "contacts/reports/campaign-1-2024-q4.csv",
        "innboks/bounce.eml",
        "utkast/00002-person2@example.no.eml",
    }
    assert any(line.startswith("contacts/reports/bounces-") for line in before)

    erased = cli("contacts", "erase", GONE, "--yes")
    assert erased.exit_code == 0, erased.output
    lines = erased.output.splitlines()
    assert lines[1].startswith("Removed the address from 2 report(s): contacts/reports/bounces-")
    assert lines[1].endswith(", contacts/reports/campaign-1-2024-q4.csv")
    assert lines[2] == (
        "Deleted 2 message file(s) naming it: innboks/bounce.eml, "
        "utkast/00002-person2@example.no.eml"
    )
    assert len(lines) == 3
    assert files_naming(send_ws, [GONE, message_id]) == []
    # the others are still there
    report = (send_ws / "contacts" / "reports" / "campaign-1-2024-q4.csv").read_text("utf-8-sig")
    assert "person1@example.no" in report and "person3@example.no" in report
    assert (send_ws / "innboks" / "other.eml").exists()
    assert (send_ws / "utkast" / "00001-person1@example.no.eml").exists()

    # a bounce for the erased address that arrives later is dropped, not stored
    (send_ws / "late").mkdir()
    (send_ws / "late" / "late.eml").write_bytes(dsn(got[GONE]))
    late = cli("bounces", "import", "late", "--apply")
    assert late.exit_code == 0, late.output
    assert "dropped: the address was erased (nothing stored)" in late.output
    assert GONE not in late.output
    (send_ws / "late" / "late.eml").unlink()
    assert files_naming(send_ws, [GONE, message_id]) == []


def test_files_outside_the_reports_are_named_not_changed(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(2)
    assert cli(*SEND).exit_code == 0
    assert cli("campaigns", "show", "1", "--csv", "kampanje.csv").exit_code == 0
    erased = cli("contacts", "erase", GONE, "--yes")
    assert erased.exit_code == 0, erased.output
    assert erased.output.splitlines()[-1] == (
        "Still naming it, outside contacts/reports/ (delete or edit them): kampanje.csv"
    )
    assert GONE in (send_ws / "kampanje.csv").read_text("utf-8-sig")
