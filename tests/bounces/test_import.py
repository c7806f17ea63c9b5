"""`nyhetsbrev bounces import` through the CLI: a real send to the loopback SMTP server, bounces
built from what it received, a dry run, --apply, the policy, and importing twice."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bounces.conftest import SEND, auto_reply, dsn, mbox
from tests.delivery.conftest import Received, Sink, database

from nyhetsbrev.contacts.store import ContactStore, open_store


def by_rcpt(sink: Sink) -> dict[str, Received]:
    return {r.rcpt_tos[0]: r for r in sink.received}


def statuses(root: Path) -> dict[str, str]:
    with open_store(database(root)) as store:
        return {c.email: c.status for c in store.query(_all())}


def _all() -> Any:
    from nyhetsbrev.contacts.queries import ContactFilter

    return ContactFilter(None, None, None, None)


def bounce_rows(root: Path) -> int:
    import sqlalchemy as sa

    import nyhetsbrev.bounces.schema  # noqa: F401

    with open_store(database(root)) as store, store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM bounces")).scalar_one())


def test_dry_run_then_apply_then_again(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(4)
    sent = cli(*SEND)
    assert sent.exit_code == 0, sent.output
    got = by_rcpt(smtp_sink)
    folder = send_ws / "innboks"
    folder.mkdir()
    (folder / "hard.eml").write_bytes(dsn(got["person1@example.no"], message_id="<b1@mx>"))
    (folder / "ooo.eml").write_bytes(auto_reply(got["person3@example.no"]))
    stranger = Received("x", ["fremmed@example.no"], b"Message-ID: <other@elsewhere>\r\n\r\n")
    (folder / "Innboks").write_bytes(  # a Thunderbird mbox without an extension
        mbox(
            [
                dsn(
                    got["person2@example.no"],
                    "4.2.2",
                    "452 4.2.2 Mailbox full",
                    message_id="<b2@mx>",
                ),
                dsn(stranger, message_id="<b3@mx>"),
                dsn(got["person1@example.no"], message_id="<b1@mx>"),  # the same bounce again
            ]
        )
    )

    dry = cli("bounces", "import", "innboks")
    assert dry.exit_code == 0, dry.output
    lines = dry.output.splitlines()
    assert lines[0] == (
        "Read 5 messages from innboks: 4 bounces, 1 auto-reply (not a bounce: ignored)."
    )
    assert "  person1@example.no  5.1.1  hard  campaign 1 (2024-q4) by Message-ID" in lines
    assert (
        "      innboks/Innboks#3: contact would be marked bounced: 5.1.1: the address does not "
        "exist or is disabled"
    ) in lines
    assert "  person2@example.no  4.2.2  soft  campaign 1 (2024-q4) by Message-ID" in lines
    assert "      innboks/Innboks#1: would be recorded: 1 of 3 campaigns in a row" in lines
    assert "  fremmed@example.no  5.1.1  hard" in lines
    assert (
        "      innboks/Innboks#2: unmatched: no delivery has its Message-ID and no contact has "
        "this address"
    ) in lines
    assert "      innboks/hard.eml: already recorded (counted once)" in lines
    assert "  innboks/ooo.eml: auto-reply — Auto-Submitted: auto-replied" in lines
    assert (
        "Would record 2 bounces and mark 1 contact bounced (1 already recorded, 1 unmatched)."
        in lines
    )
    assert (
        lines[-1]
        == "Nothing was changed. To record them, run: nyhetsbrev bounces import innboks --apply"
    )
    assert statuses(send_ws)["person1@example.no"] == "subscribed"
    assert bounce_rows(send_ws) == 0

    applied = cli("bounces", "import", "innboks", "--apply")
    assert applied.exit_code == 0, applied.output
    assert (
        "Recorded 2 bounces and marked 1 contact bounced (1 already recorded, 1 unmatched)."
        in applied.output
    )
    assert (
        "      innboks/Innboks#3: contact marked bounced: 5.1.1: the address does not exist or is disabled"
        in applied.output
    )
    assert statuses(send_ws) == {
        "person1@example.no": "bounced",
        "person2@example.no": "subscribed",
        "person3@example.no": "subscribed",
        "person4@example.no": "subscribed",
    }
    assert bounce_rows(send_ws) == 2
    report = next((send_ws / "contacts" / "reports").glob("bounces-*.csv"))
    assert (
        applied.output.splitlines()[-1]
        == f"Wrote the report (4 row(s)) to contacts/reports/{report.name}"
    )
    with report.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["address"], r["status"], r["severity"], r["campaign"]) for r in rows] == [
        ("person2@example.no", "4.2.2", "soft", "1"),
        ("fremmed@example.no", "5.1.1", "hard", ""),
        ("person1@example.no", "5.1.1", "hard", "1"),
        ("person1@example.no", "5.1.1", "hard", "1"),
    ]

    shown = cli("contacts", "show", "person1@example.no")
    assert shown.exit_code == 0, shown.output
    events = [
        line for line in shown.output.splitlines() if line.startswith("  20") and "bounce" in line
    ]
    assert len(events) == 2
    assert events[0].endswith(
        "bounce       anne  bounce of 2025-01-06 09:14 +0100 (campaign 1, 2024-q4): 5.1.1 550 "
        "5.1.1 <[address]>: Recipient address rejected: User unknown"
    )
    assert (
        "bounced      anne  5.1.1: the address does not exist or is disabled — bounce of 2025-01-06 09:14 +0100"
        in events[1]
    )

    listed = cli("contacts", "list", "--status", "bounced")
    assert listed.exit_code == 0, listed.output
    assert "person1@example.no" in listed.output
    assert "5.1.1: the address does not exist or is disabled" in listed.output

    again = cli("bounces", "import", "innboks", "--apply")
    assert again.exit_code == 0, again.output
    assert (
        "Recorded 0 bounces and marked 0 contacts bounced (3 already recorded, 1 unmatched)."
        in again.output
    )
    assert bounce_rows(send_ws) == 2

    back = cli("contacts", "resubscribe", "person1@example.no", "--evidence", "e-post 2025-02-01")
    assert back.exit_code == 0, back.output
    assert statuses(send_ws)["person1@example.no"] == "subscribed"


def test_three_campaigns_in_a_row_and_a_delivery_resets(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(3)
    folder = send_ws / "b"
    folder.mkdir()
    soft = ("4.2.2", "452 4.2.2 Mailbox full")
    for campaign in (1, 2, 3):
        before = len(smtp_sink.received)
        result = cli(*SEND, *(["--again"] if campaign > 1 else []))
        assert result.exit_code == 0, result.output
        got = {r.rcpt_tos[0]: r for r in smtp_sink.received[before:]}
        (folder / f"p1-{campaign}.eml").write_bytes(dsn(got["person1@example.no"], *soft))
        if campaign != 2:  # campaign 2 reached person2 without a bounce: the count starts over
            (folder / f"p2-{campaign}.eml").write_bytes(dsn(got["person2@example.no"], *soft))
        if campaign < 3:  # imported after each campaign, as an editor would
            assert cli("bounces", "import", "b", "--apply").exit_code == 0
            assert statuses(send_ws)["person1@example.no"] == "subscribed"
    result = cli("bounces", "import", "b", "--apply")
    assert result.exit_code == 0, result.output
    assert (
        "      b/p1-3.eml: contact marked bounced: bounced in 3 campaigns in a row, the last: 4.2.2: a temporary failure (counted)"
        in result.output
    )
    assert "      b/p2-3.eml: recorded: 1 of 3 campaigns in a row" in result.output
    assert statuses(send_ws) == {
        "person1@example.no": "bounced",
        "person2@example.no": "subscribed",
        "person3@example.no": "subscribed",
    }


def test_fallback_by_address_and_erased_addresses(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    smtp_sink: Sink,
    store: ContactStore,
) -> None:
    contacts(2)
    assert cli(*SEND).exit_code == 0
    got = by_rcpt(smtp_sink)
    (send_ws / "no-headers.eml").write_bytes(dsn(got["person1@example.no"], returned=False))
    erased = cli("contacts", "erase", "person2@example.no", "--yes")
    assert erased.exit_code == 0, erased.output
    (send_ws / "erased.eml").write_bytes(dsn(got["person2@example.no"]))  # arrives later
    result = cli("bounces", "import", "no-headers.eml", "erased.eml", "--apply")
    assert result.exit_code == 0, result.output
    assert "  person1@example.no  5.1.1  hard  campaign 1 (2024-q4) by address" in result.output
    assert "  (erased address)  5.1.1  hard" in result.output
    assert "      erased.eml: dropped: the address was erased (nothing stored)" in result.output
    assert "person2@example.no" not in result.output
    assert bounce_rows(send_ws) == 1
    report = next((send_ws / "contacts" / "reports").glob("bounces-*.csv"))
    assert b"person2@example.no" not in report.read_bytes()


def test_bad_paths_are_named(send_ws: Path, cli: Any) -> None:
    result = cli("bounces", "import", "nowhere.eml", "missing/")
    assert result.exit_code == 1
    assert result.output == (
        "Error: nowhere.eml: no such file or folder\nmissing: no such file or folder\n"
        "Name .eml files, folders of them, or mbox files (e.g. Thunderbird's Inbox).\n"
    )
